// Package loadtest is the engine of cmd/loadtest: it drives a latchkey
// server over HTTP with a fixed number of concurrent clients per scenario,
// records latencies in histograms, measures the machine's argon2id hashing
// rate and the server's memory, and writes the report as a table, JSON and
// a chart (the figures of docs/performance.md).
package loadtest
