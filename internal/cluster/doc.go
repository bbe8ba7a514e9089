// Package cluster holds only tests: they run three latchkey processes on one
// PostgreSQL schema and one Redis, and check over HTTP that the instances
// behave as one server (revocations, rate limits, key rotation and refresh
// rotation are shared).
package cluster
