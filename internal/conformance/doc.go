// Package conformance checks shopcrm's clients and fakes against the
// platforms' official schemas: GraphQL documents against Shopify's Admin
// schema, and HTTP exchanges against the Klaviyo, Omnisend and LINE OpenAPI
// files.
//
// It is a module of its own so that spec tooling (kin-openapi, gqlparser)
// stays out of the library's go.mod. The specs are read from ../shared beside
// the module root (override with SHOPCRM_SHARED); tests skip with one line
// when it is absent and fail when SHOPCRM_REQUIRE_SPECS=1.
package conformance
