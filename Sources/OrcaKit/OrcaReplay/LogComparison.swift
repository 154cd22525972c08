public import OrcaAPI
public import OrcaLog

/// Where two logs part: the first seq at which their events differ, and how their end states
/// differ (`orca compare`).
///
/// Two runs of one scenario with one seed and the same code give identical logs; a change in a
/// controller shows up as the first event it writes differently. Comparing a log recorded with
/// yesterday's build against one from today's therefore points at the first decision the new code
/// made differently — with the cause chain of either side (`orca why … --at-seq`) to say why.
public struct LogComparison: Sendable {
    /// Two events at one seq that differ (either may be missing: one log is a prefix of the other).
    public struct Divergence: Sendable {
        public var seq: UInt64
        public var first: EventRecord?
        public var second: EventRecord?
        /// When both events are about the same object: what differs between their objects.
        public var changes: [CauseChain.Change]
    }

    /// An object whose end state differs between the logs (absent from one of them when nil).
    public struct EndState: Sendable {
        public var key: ObjectKey
        public var first: EventRecord?
        public var second: EventRecord?
        public var changes: [CauseChain.Change]
    }

    /// A number for each log.
    public struct Counts: Sendable, Hashable {
        public var first: UInt64
        public var second: UInt64
    }

    /// How many events one actor wrote in each log.
    public struct ActorCounts: Sendable, Hashable {
        public var actor: String
        public var first: Int
        public var second: Int
    }

    /// How many events each log holds.
    public var counts: Counts
    /// The first seq whose events differ; nil when the logs are identical.
    public var divergence: Divergence?
    /// Events written by each actor, in each log (actors in name order).
    public var actors: [ActorCounts]
    /// The objects whose latest state differs, in key order.
    public var endStates: [EndState]

    public var identical: Bool { divergence == nil }

    /// Compares two logs event by event, then by their end states.
    ///
    /// Two events are the same when their type, time, object key, uid, actor, cause and object
    /// are; `metadata.resourceVersion` is the seq in both, so it compares equal at one seq.
    /// - Throws: ``LogError`` when either log cannot be read.
    /// - Complexity: one pass over each log, reading every object (objects are built to be
    ///   compared only where the two records' cheap fields already agree).
    public static func compare(_ first: any EventLog, _ second: any EventLog) throws(LogError) -> LogComparison {
        let counts = Counts(first: try first.latestSeq(), second: try second.latestSeq())
        var divergence: Divergence?
        var actors: [String: (first: Int, second: Int)] = [:]
        var firstState: [ObjectKey: EventRecord] = [:]
        var secondState: [ObjectKey: EventRecord] = [:]
        var next: UInt64 = 1
        let end = max(counts.first, counts.second)
        while next <= end {
            let a = try first.read(from: next, limit: batchSize)
            let b = try second.read(from: next, limit: batchSize)
            let n = max(a.count, b.count)
            guard n > 0 else { break }
            for i in 0..<n {
                let x = i < a.count ? a[i] : nil
                let y = i < b.count ? b[i] : nil
                if let x {
                    actors[x.actor, default: (0, 0)].first += 1
                    if x.type == .deleted { firstState[x.key] = nil } else { firstState[x.key] = x }
                }
                if let y {
                    actors[y.actor, default: (0, 0)].second += 1
                    if y.type == .deleted { secondState[y.key] = nil } else { secondState[y.key] = y }
                }
                if divergence == nil, !same(x, y) {
                    let changes = x.flatMap { x in y.flatMap { y in x.key == y.key ? CauseChain.changes(from: x.object, to: y.object) : nil } }
                    divergence = Divergence(seq: next + UInt64(i), first: x, second: y, changes: changes ?? [])
                }
            }
            next += UInt64(n)
        }
        var endStates: [EndState] = []
        for key in Set(firstState.keys).union(secondState.keys).sorted() {
            let x = firstState[key]
            let y = secondState[key]
            guard !sameObject(x, y) else { continue }
            let changes = x.flatMap { x in y.map { y in CauseChain.changes(from: x.object, to: y.object) } } ?? []
            endStates.append(EndState(key: key, first: x, second: y, changes: changes))
        }
        return LogComparison(counts: counts, divergence: divergence,
                             actors: actors.sorted { $0.key < $1.key }.map { ActorCounts(actor: $0.key, first: $0.value.first, second: $0.value.second) },
                             endStates: endStates)
    }

    static let batchSize = 4096

    static func same(_ x: EventRecord?, _ y: EventRecord?) -> Bool {
        guard let x, let y else { return x == nil && y == nil }
        return x.type == y.type && x.time == y.time && x.key == y.key && x.uid == y.uid && x.actor == y.actor
            && x.cause == y.cause && x.object == y.object
    }

    /// The same object at the end: equal but for the seq it was last written at.
    static func sameObject(_ x: EventRecord?, _ y: EventRecord?) -> Bool {
        guard let x, let y else { return x == nil && y == nil }
        return CauseChain.changes(from: x.object, to: y.object).isEmpty
    }
}
