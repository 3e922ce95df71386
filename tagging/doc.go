// Package tagging implements the subscription tag grammar used on Shopify
// customers and orders, tag-set plans that never touch other apps' tags, and
// the lifecycle rules that turn subscription events into tag changes.
//
// The package is pure: no I/O and no platform import.
package tagging
