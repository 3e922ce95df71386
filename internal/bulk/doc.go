// Package bulk is the bulk-write engine the shopcrm clients share: it cuts a
// stream of items into chunks that respect a platform's limits, sends up to
// N chunks at once, and reports one outcome per item.
//
// A client describes the platform with a [Writer]: the most items and the
// most weight (bytes, query cost) in one request, an optional key (the
// resource an item writes to) and the function that sends one chunk. The
// engine does the rest the same way for every platform:
//
//   - Streaming. Items come from an iter.Seq and results leave through a
//     callback, so memory grows with chunk size × requests in flight, never
//     with the input.
//   - Four outcomes per item: [Applied], [Failed], [Unknown] (the server may
//     have acted: a lost response, a deadline while the request was in
//     flight) and [NotSent] (the engine stopped before sending it).
//   - One error policy. A failed item is reported and the rest goes on. A
//     terminal error (see [DefaultClassify]) stops issuing at once: no
//     request starts after the engine has seen it, requests in flight
//     finish, everything not yet sent is reported NotSent, and Run returns
//     the terminal error.
//   - Order per key. With a key function, a chunk holding key k starts only
//     when every earlier chunk holding k has finished, so writes to one
//     resource take effect in input order even when a send retries inside.
//   - Progress from one goroutine, in order, outside every lock, so a slow
//     or re-entrant callback slows the engine down but cannot deadlock it.
package bulk
