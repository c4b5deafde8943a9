// Package bench holds the harnesses behind `quire bench`: Jobs measures the
// job engine on no-op jobs, and Pipeline measures the document pipeline end
// to end on a corpus.
//
// A harness takes what it runs on as inputs: the broker's driver, a function
// that builds the job server, the pipeline and its store. It never opens
// them, so it does not know about flags, environment variables or where the
// data lives; the caller (cmd/quire's bench commands) opens them on a broker
// and a store of the harness's own, and removes them afterwards. Each
// harness returns a result whose JSON is what `quire bench … --json` prints,
// read by scripts/bench-ml.sh and quoted in docs/benchmarks.md: keep its
// field names and order. WriteTable prints the same result for people.
//
// Both harnesses report the process's peak RSS, so run one per process
// for figures that mean anything.
package bench
