import Foundation
import Orca
import OrcaLMDB
import OrcaSimulation
import Synchronization

// Whole-cluster simulations (issues 4, 5 and 6): a generated scenario run by `Simulation` into a
// fresh LMDB log exactly as `orca simulate` runs it, with a census plugin that counts Running pods
// so each phase's end is found from the run itself, not assumed.

/// What the census knows at one moment.
struct CensusCounts: Sendable {
    /// Pods with phase Running and no deletionTimestamp.
    var running = 0
    /// Pods that exist.
    var live = 0
    /// Distinct pod UIDs ever seen, and how many times an added pod reused one.
    var uids = 0
    var reusedUIDs = 0
}

final class Census: Sendable {
    struct State {
        var counts = CensusCounts()
        var running: Set<ObjectKey> = []
        var uids: Set<String> = []
    }
    let state = Mutex(State())

    func apply(_ event: InformerEvent) {
        let record = event.record
        state.withLock { s in
            if case .added = event {
                s.counts.live += 1
                if !s.uids.insert(record.uid).inserted { s.counts.reusedUIDs += 1 }
                s.counts.uids = s.uids.count
            }
            var isRunning = false
            if case .deleted = event {
                s.counts.live -= 1
            } else {
                isRunning = record.object[path: ["status", "phase"]]?.stringValue == "Running"
                    && record.object[path: ["metadata", "deletionTimestamp"]] == nil
            }
            if isRunning { s.running.insert(record.key) } else { s.running.remove(record.key) }
            s.counts.running = s.running.count
        }
    }

    var counts: CensusCounts { state.withLock { $0.counts } }
}

/// A plugin that only observes pods: every event feeds the census, none queues a reconcile.
struct CensusController: Reconciler {
    typealias Object = Pod
    static let name = "bench-census"
    static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [Watch("Pod", .custom { _, _ in [] })], watchesPrimary: false)
    }
    let census: Census
    func observe(_ event: InformerEvent, context: ObserveContext) { census.apply(event) }
    func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult { .done }
}

/// One settled instant of a run.
struct Sample: Sendable {
    var wall: Double
    var virtual: Duration
    var events: UInt64
    var counts: CensusCounts
}

/// Runs a scenario text into a fresh log; returns the samples, parse time and peak RSS.
func runSimulation(_ text: String, name: String) async throws -> (samples: [Sample], parse: Double, peakRSS: Int, log: LMDBEventLog, dir: String) {
    let dir = Measure.temporaryDirectory(name)
    let parseStart = ContinuousClock.now
    let scenario = try Scenario.parse(text, file: "\(name).yaml")
    let parse = (ContinuousClock.now - parseStart).seconds
    let log = try LMDBEventLog(path: dir, options: .init(initialMapSize: 8 << 30, durability: .unsynced, commits: .inline,
                                                             writeMap: true))
    let simulation = Simulation(scenario: scenario, log: log)
    let census = Census()
    simulation.register(CensusController(census: census))
    let samples = Mutex<[Sample]>([])
    let start = ContinuousClock.now
    let printLock = Mutex(start)
    try await simulation.run { progress in
        let now = ContinuousClock.now
        let sample = Sample(wall: (now - start).seconds, virtual: progress.elapsed, events: progress.events, counts: census.counts)
        samples.withLock { $0.append(sample) }
        printLock.withLock { last in
            if (now - last).seconds >= 10 {
                last = now
                FileHandle.standardError.write(Data("  … \(fixed(sample.wall, 0)) s wall, virtual \(sample.virtual.seconds) s, \(grouped(Double(sample.events))) events, \(grouped(Double(sample.counts.running))) running\n".utf8))
            }
        }
    }
    return (samples.withLock { $0 }, parse, Measure.peakRSS(), log, dir)
}

/// A phase of a run: from the first sample at or after `from` (virtual) to the first later sample
/// where `done` holds.
func phase(_ samples: [Sample], from: Duration, until done: (CensusCounts) -> Bool) -> (start: Sample, end: Sample)? {
    guard let first = samples.firstIndex(where: { $0.virtual >= from }) else { return nil }
    // The phase starts when the instant before it had settled.
    let start = first > 0 ? samples[first - 1] : Sample(wall: 0, virtual: .zero, events: 0, counts: CensusCounts())
    guard let end = samples[first...].first(where: { done($0.counts) }) else { return nil }
    return (start, end)
}

func report(_ label: String, _ p: (start: Sample, end: Sample)?) {
    guard let p else {
        print("\(label): did not finish within the run")
        return
    }
    let wall = p.end.wall - p.start.wall
    let events = Double(p.end.events - p.start.events)
    let virtual = (p.end.virtual - p.start.virtual).seconds
    print("\(label): \(fixed(wall, 1)) s wall, \(grouped(events)) events, \(grouped(events / max(wall, 1e-9))) events/s, "
          + "virtual \(fixed(virtual, 0)) s (\(fixed(virtual / max(wall, 1e-9), 1))x wall)")
}

func scale(_ n: Int) -> Int {
    let divisor = Int(ProcessInfo.processInfo.environment["SCALE"] ?? "1") ?? 1
    return max(1, n / max(divisor, 1))
}

// MARK: (h) issue 4 — bare pods

func benchSimulatePods() async throws {
    let nodes = scale(1_000), pods = scale(30_000)
    print("## (h) simulate \(grouped(Double(nodes))) nodes running \(grouped(Double(pods))) bare pods: creation → Running → deletion")
    var text = "name: bench pods\nuntil: 4m\nnodes: {count: \(nodes)}\nsteps:\n  - at: 0s\n    apply: |\n"
    text += (0..<pods).map { i in
        "      apiVersion: v1\n      kind: Pod\n      metadata: {name: p\(i), labels: {app: bench}}\n      spec: {containers: [{name: app, image: nginx, resources: {requests: {cpu: 10m}}}]}\n"
    }.joined(separator: "      ---\n")
    for i in 0..<pods { text += "  - at: 2m\n    delete: {kind: Pod, name: p\(i)}\n" }
    let run = try await runSimulation(text, name: "bench-pods")
    defer { Measure.remove(run.dir) }
    print("scenario parsed in \(fixed(run.parse, 1)) s (not counted below)")
    report("create → all \(grouped(Double(pods))) Running", phase(run.samples, from: .zero) { $0.running == pods })
    report("delete → all gone", phase(run.samples, from: .seconds(120)) { $0.live == 0 })
    summarize(run)
}

// MARK: (i) issue 5 — ReplicaSets

func benchSimulateReplicaSets() async throws {
    let nodes = scale(5_000), sets = scale(1_500), replicas = 100, evictPerSet = 10
    let pods = sets * replicas
    print("## (i) simulate \(grouped(Double(pods))) pods from \(grouped(Double(sets))) ReplicaSets of \(replicas) on \(grouped(Double(nodes))) nodes, then evict \(grouped(Double(sets * evictPerSet)))")
    var text = "name: bench replicasets\nuntil: 4m\nnodes: {count: \(nodes)}\nsteps:\n  - at: 0s\n    apply: |\n"
    text += (0..<sets).map { i in
        """
              apiVersion: apps/v1
              kind: ReplicaSet
              metadata: {name: rs\(i)}
              spec:
                replicas: \(replicas)
                selector: {matchLabels: {app: rs\(i)}}
                template:
                  metadata: {labels: {app: rs\(i)}}
                  spec: {containers: [{name: app, image: nginx, resources: {requests: {cpu: 10m}}}]}

        """
    }.joined(separator: "      ---\n")
    for i in 0..<sets {
        for j in 0..<evictPerSet { text += "  - at: 2m\n    pod: {selector: app=rs\(i), ordinal: \(j)}\n    action: evict\n" }
    }
    let run = try await runSimulation(text, name: "bench-replicasets")
    defer { Measure.remove(run.dir) }
    print("scenario parsed in \(fixed(run.parse, 1)) s (not counted below)")
    report("create → all \(grouped(Double(pods))) Running", phase(run.samples, from: .zero) { $0.running == pods })
    report("evict \(grouped(Double(sets * evictPerSet))) → all replaced and Running",
           phase(run.samples, from: .seconds(120)) { $0.running == pods && $0.uids >= pods + sets * evictPerSet })
    summarize(run)
}

// MARK: (j) issue 6 — dead nodes

func benchSimulateNodeFailure() async throws {
    let nodes = scale(5_000), services = 50, zones = 5
    let daemonPods = nodes
    let perSet = (scale(150_000) - daemonPods) / services
    let workload = perSet * services
    print("## (j) simulate \(grouped(Double(nodes))) nodes in \(zones) zones, a DaemonSet and \(services) Services over \(grouped(Double(workload + daemonPods))) pods; kill a tenth of the nodes at once")
    var text = "name: bench node failure\nuntil: 40m\nnodes:\n"
    for i in 1...nodes {
        text += "  - {metadata: {name: node-\(i), labels: {topology.kubernetes.io/zone: z\((i - 1) % zones + 1)}}}\n"
    }
    text += "steps:\n  - at: 0s\n    apply: |\n"
    var docs: [String] = ["""
              apiVersion: apps/v1
              kind: DaemonSet
              metadata: {name: agent}
              spec:
                selector: {matchLabels: {app: agent}}
                template:
                  metadata: {labels: {app: agent}}
                  spec: {containers: [{name: agent, image: agent, resources: {requests: {cpu: 10m}}}]}

        """]
    for i in 0..<services {
        docs.append("""
              apiVersion: apps/v1
              kind: ReplicaSet
              metadata: {name: web\(i)}
              spec:
                replicas: \(perSet)
                selector: {matchLabels: {app: web\(i)}}
                template:
                  metadata: {labels: {app: web\(i)}}
                  spec: {containers: [{name: app, image: nginx, ports: [{containerPort: 8080}], resources: {requests: {cpu: 10m}}}]}

        """)
        docs.append("""
              apiVersion: v1
              kind: Service
              metadata: {name: web\(i)}
              spec: {selector: {app: web\(i)}, ports: [{port: 80, targetPort: 8080}]}

        """)
    }
    text += docs.joined(separator: "      ---\n")
    // Every tenth node of each zone dies (10% per zone: no zone is disrupted, each evicts at 0.1 nodes/s).
    let deadNodes = (1...nodes).filter { ($0 - 1) / zones % 10 == 9 }.map { "node-\($0)" }
    for name in deadNodes { text += "  - at: 2m\n    node: \(name)\n    action: stop-heartbeat\n" }
    let run = try await runSimulation(text, name: "bench-node-failure")
    defer { Measure.remove(run.dir) }
    print("scenario parsed in \(fixed(run.parse, 1)) s (not counted below)")
    let total = workload + daemonPods
    report("create → all \(grouped(Double(total))) Running", phase(run.samples, from: .zero) { $0.running == total })
    // Pods on dead nodes stay Running in the API (their kubelet is gone) until evicted; the phase
    // ends when every ReplicaSet pod of a dead node has a Running replacement elsewhere.
    let deadPods = try podsOnNodes(run.log, nodes: Set(deadNodes))
    print("pods on the dead nodes: \(grouped(Double(deadPods.replicaSet))) ReplicaSet pods, \(grouped(Double(deadPods.daemon))) DaemonSet pods")
    report("kill \(grouped(Double(deadNodes.count))) nodes → every evicted pod replaced and Running",
           phase(run.samples, from: .seconds(120)) { $0.uids >= total + deadPods.replicaSet && $0.running >= total })
    let check = try endpointsCorrect(run.log, services: services)
    print("Endpoints at the end: \(check)")
    summarize(run)
}

/// Pods bound to `nodes` at the end of the run: the dead nodes' pods stay there (their kubelet is
/// gone), the evicted ones Terminating.
func podsOnNodes(_ log: LMDBEventLog, nodes: Set<String>) throws -> (replicaSet: Int, daemon: Int) {
    var rs = 0, ds = 0
    for record in try log.list(kind: "Pod", namespace: "default").records {
        guard let node = record.object[path: ["spec", "nodeName"]]?.stringValue, nodes.contains(node) else { continue }
        let owner = record.object[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["kind"]?.stringValue
        if owner == "DaemonSet" { ds += 1 } else if owner == "ReplicaSet" { rs += 1 }
    }
    return (rs, ds)
}

/// Compares every Endpoints object with the ready pods its Service selects (capped at 1000).
func endpointsCorrect(_ log: LMDBEventLog, services: Int) throws -> String {
    let pods = try log.list(kind: "Pod", namespace: "default").records
    var readyBySet: [String: Int] = [:]
    for pod in pods {
        guard let app = pod.object[path: ["metadata", "labels", "app"]]?.stringValue, app.hasPrefix("web"),
              pod.object[path: ["metadata", "deletionTimestamp"]] == nil,
              let conditions = pod.object[path: ["status", "conditions"]]?.arrayValue,
              conditions.contains(where: { $0["type"] == "Ready" && $0["status"] == "True" }) else { continue }
        readyBySet[app, default: 0] += 1
    }
    var wrong: [String] = []
    for i in 0..<services {
        let name = "web\(i)"
        let endpoints = try log.current(ObjectKey(kind: "Endpoints", namespace: "default", name: name))
        let addresses = endpoints?.object["subsets"]?.arrayValue?.reduce(0) { $0 + ($1["addresses"]?.arrayValue?.count ?? 0) } ?? 0
        let want = min(readyBySet[name] ?? 0, 1000)
        if addresses != want { wrong.append("\(name): \(addresses) addresses, want \(want)") }
    }
    return wrong.isEmpty ? "all \(services) correct (ready addresses = ready selected pods, capped at 1000)" : "WRONG: " + wrong.joined(separator: "; ")
}

func summarize(_ run: (samples: [Sample], parse: Double, peakRSS: Int, log: LMDBEventLog, dir: String)) {
    guard let last = run.samples.last else { return }
    print("whole run: \(fixed(last.wall, 1)) s wall for \(fixed(last.virtual.seconds, 0)) s virtual, \(grouped(Double(last.events))) events "
          + "(\(grouped(Double(last.events) / max(last.wall, 1e-9))) events/s); peak RSS \(fixed(Double(run.peakRSS) / 1_073_741_824, 2)) GiB; "
          + "UIDs reused: \(last.counts.reusedUIDs)")
    print()
}
