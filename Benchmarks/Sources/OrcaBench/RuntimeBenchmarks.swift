import Foundation
import Orca
import OrcaLMDB

/// Runtime benchmarks: informer apply from the log, work-queue throughput, and the runtime's own
/// cost per reconcile (no-op reconciler).
/// (e) alone (also `orca-bench informer`, a clean profile for `perf record`).
func benchInformerApply(events: Int, runs: Int) async throws {
    // The informer applies on one thread; SharedInformers.deliverAll reads and decodes the next
    // batch on other threads meanwhile. `taskset -c 0 orca-bench informer` runs it all on one core.
    print("## (e) informer apply: \(grouped(Double(events))) Pod events from the log into a shared informer (applied on one thread, the next batch read ahead)")
    // INFORMER_LOG=DIR keeps the log in DIR and reuses it on later runs (for A/B comparisons of
    // two builds over the same bytes); by default it is built in a temporary directory.
    let kept = ProcessInfo.processInfo.environment["INFORMER_LOG"]
    let dir = kept ?? Measure.temporaryDirectory("informer")
    defer { if kept == nil { Measure.remove(dir) } }
    let reuse = kept.map { FileManager.default.fileExists(atPath: $0 + "/data.mdb") } ?? false
    let log = try LMDBEventLog(path: dir, options: .init(initialMapSize: 8 << 30, durability: .unsynced))
    let distinct = min(events, 50_000)
    if !reuse { try await Fixture.writePodHistory(to: log, events: events, distinct: distinct) }
    guard try log.latestSeq() == UInt64(events) else { throw RawError(message: "the log at \(dir) does not hold \(events) events") }
    var rates: [Double] = []
    var cpuRates: [Double] = []
    for _ in 0..<runs {
        // An informer that starts at seq 0 applies every event of the log.
        let informers = SharedInformers(log: EmptyListLog(log))
        let pods = informers.informer(for: "Pod")
        let cpu = Measure.processCPUSeconds()
        let t = try Measure.seconds { try informers.deliverAll() }
        let used = Measure.processCPUSeconds() - cpu
        guard pods.snapshot.count == distinct, informers.position == UInt64(events) else { throw RawError(message: "informer missed events") }
        rates.append(Double(events) / t)
        cpuRates.append(Double(events) / used)
    }
    print("read + decode + apply: \(grouped(Measure.median(rates))) events/s  runs \(runsText(rates))   target >= 250,000")
    // The same work measured in CPU time of all threads: the rate one core would reach if it did
    // everything (and a figure that other load on the machine disturbs far less than wall time).
    print("per CPU-second (all threads): \(grouped(Measure.median(cpuRates))) events  runs \(runsText(cpuRates))")
    print()

}

func benchRuntime(events: Int, runs: Int) async throws {
    try await benchInformerApply(events: events, runs: runs)

    print("## (f) work queue: add + get + done, 1,000,000 operations over 10,000 keys")
    var queueRates: [Double] = []
    for _ in 0..<runs {
        let queue = WorkQueue<Int>(clock: VirtualClock(), scheduler: .manual)
        let t = Measure.seconds {
            for i in 0..<1_000_000 {
                queue.add(i % 10_000)
                if i % 2 == 1, let k = queue.tryGet() { queue.done(k) }
            }
            while let k = queue.tryGet() { queue.done(k) }
        }
        queueRates.append(1_000_000 / t)
    }
    print("\(grouped(Measure.median(queueRates))) adds/s (with a get + done per two adds)  runs \(runsText(queueRates))")
    print()

    print("## (g) runtime overhead per reconcile: no-op reconciler, 200,000 requests, simulation loop")
    var overheads: [Double] = []
    for _ in 0..<runs {
        let manager = ControllerManager(log: InMemoryEventLog(), clock: VirtualClock(), identities: SeededIdentityGenerator(seed: 1),
                                        scheduler: .manual)
        let controller = manager.register(NoOp())
        for i in 0..<200_000 { controller.queue.add(ReconcileRequest(namespace: "default", name: "obj-\(i)")) }
        var count = 0
        let t = try await Measure.seconds { count = try await manager.drain() }
        guard count == 200_000 else { throw RawError(message: "ran \(count) reconciles") }
        overheads.append(t / 200_000 * 1e6)
    }
    print("\(fixed(Measure.median(overheads))) µs per reconcile  runs [\(overheads.map { fixed($0) }.joined(separator: ", "))]   target <= 5 µs")
    print()
}

struct NoOp: Reconciler {
    typealias Object = Pod
    static let name = "noop"
    func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult { .done }
}

/// The log with an empty projection: an informer over it lists nothing and so applies every event.
final class EmptyListLog: EventLog {
    let base: any EventLog
    init(_ base: any EventLog) { self.base = base }
    func latestSeq() throws(LogError) -> UInt64 { try base.latestSeq() }
    func read(from: UInt64, limit: Int) throws(LogError) -> [EventRecord] { try base.read(from: from, limit: limit) }
    func current(_ key: ObjectKey) throws(LogError) -> EventRecord? { nil }
    func list(kind: String, namespace: String?) throws(LogError) -> (records: [EventRecord], seq: UInt64) { ([], 0) }
    func transact<T: Sendable>(_ body: @escaping @Sendable (any LogTransaction) throws -> T) async throws -> T {
        try await base.transact(body)
    }
    func waitForAppend(after seq: UInt64) async { await base.waitForAppend(after: seq) }
}
