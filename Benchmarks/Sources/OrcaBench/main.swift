import Foundation

// orca-bench: the benchmarks behind Docs/Benchmarks.md. Run from Benchmarks/ with
//   swift run -c release orca-bench [all|append|group|scan|runtime|informer|simulate|sim-pods|sim-replicasets|sim-nodes]
// Each figure is the median of several passes in this one run; ratios compare medians of the
// same run.

let which = CommandLine.arguments.dropFirst().first ?? "all"
let known = ["all", "append", "group", "scan", "runtime", "informer", "micro", "encode", "decode", "walk", "fields", "simulate", "sim-pods", "sim-replicasets", "sim-nodes"]
guard known.contains(which) else {
    print("usage: orca-bench [\(known.joined(separator: "|"))]")
    exit(2)
}
#if DEBUG
print("warning: this is a debug build; run with `swift run -c release orca-bench`")
#endif
print("orca-bench on \(ProcessInfo.processInfo.activeProcessorCount) cores, \(grouped(Double(ProcessInfo.processInfo.physicalMemory) / 1e9)) GB")
print()
do {
    if which == "micro" { benchMicro(events: 100_000) }
    if which == "encode" { benchEncodeOnly(events: Int(ProcessInfo.processInfo.environment["N"] ?? "20000") ?? 20_000) }
    if which == "decode" { benchDecodeOnly(events: 20_000) }
    if which == "walk" { benchWalkOnly(events: 2_000) }
    if which == "fields" { try benchFieldsOnly(events: 2_000) }
    if which == "all" || which == "append" { try await benchAppend(events: 200_000, batch: 1_000, runs: 5) }
    if which == "all" || which == "group" { try await benchGroupCommit(writers: 16, perWriter: 250, sequential: 1_000, runs: 5) }
    if which == "all" || which == "runtime" { try await benchRuntime(events: 1_000_000, runs: 3) }
    if which == "informer" { try await benchInformerApply(events: 1_000_000, runs: Int(ProcessInfo.processInfo.environment["RUNS"] ?? "5") ?? 5) }
    if which == "simulate" || which == "sim-pods" { try await benchSimulatePods() }
    if which == "simulate" || which == "sim-replicasets" { try await benchSimulateReplicaSets() }
    if which == "simulate" || which == "sim-nodes" { try await benchSimulateNodeFailure() }
    if which == "all" || which == "scan" { try await benchScanAndMemory(events: Int(ProcessInfo.processInfo.environment["EVENTS"] ?? "1000000") ?? 1_000_000, distinct: 100_000, runs: 3, jsonSample: 20_000) }
} catch {
    print("error: \(error)")
    exit(1)
}
