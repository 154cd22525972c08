import OrcaAPI
public import OrcaLog
import Synchronization

/// The informers of one process (or one simulation), fed by a single tail of the log.
///
/// Each kind has one ``Informer``, shared by every controller that watches it. ``sync()`` lists
/// each new informer from the log's projection; ``deliverAvailable(limit:)`` then applies every
/// record after the tail's position, in log order, to the informer of its kind and calls its
/// handlers. A gap in the seqs read (events lost between the log and this process) makes every
/// informer relist and replace its cache atomically.
public final class SharedInformers: Sendable {
    public let log: any EventLog

    struct State {
        var informers: [String: Informer] = [:]
        /// Kinds in the order they were first asked for (delivery order of a relist).
        var order: [String] = []
        /// Every record up to this seq has been applied.
        var position: UInt64 = 0
        var listed = false
    }

    let state = Mutex(State())

    public init(log: any EventLog) { self.log = log }

    /// The shared informer of `kind`, created on first use. Call ``sync()`` to fill new ones.
    public func informer(for kind: String) -> Informer {
        state.withLock { s in
            if let existing = s.informers[kind] { return existing }
            let informer = Informer(kind: kind)
            s.informers[kind] = informer
            s.order.append(kind)
            return informer
        }
    }

    /// Every informer's kind, in the order they were created.
    public var kinds: [String] { state.withLock { $0.order } }

    /// The seq up to which every record has been applied.
    public var position: UInt64 { state.withLock { $0.position } }

    /// True when every informer has synced.
    public var hasSynced: Bool {
        state.withLock { s in s.order.allSatisfy { s.informers[$0]?.hasSynced == true } }
    }

    /// Lists every informer that has not synced yet and delivers its initial adds.
    public func sync() throws {
        let pending = state.withLock { s in s.order.compactMap { s.informers[$0] }.filter { !$0.hasSynced } }
        for informer in pending {
            let (records, seq) = try log.list(kind: informer.kind, namespace: nil)
            let events = informer.replace(with: records, seq: seq)
            state.withLock { s in
                s.position = s.listed ? min(s.position, seq) : seq
                s.listed = true
            }
            informer.deliver(events)
        }
    }

    /// Applies up to `limit` records after the current position and delivers their events.
    /// Returns how many records were read (0 when the informers are up to date).
    @discardableResult
    public func deliverAvailable(limit: Int = 4096) throws -> Int {
        try sync()
        let from = position + 1
        let records = try log.read(from: from, limit: limit)
        guard let first = records.first else { return 0 }
        var expected = from
        if first.seq != expected {
            try relist()
            return records.count
        }
        let informers = state.withLock { $0.informers }
        for record in records {
            guard record.seq == expected else {
                try relist()
                return records.count
            }
            expected += 1
            if let informer = informers[record.kind], let event = informer.apply(record) { informer.deliver([event]) }
            state.withLock { $0.position = record.seq }
        }
        return records.count
    }

    /// Applies records until the informers have caught up with the log.
    public func deliverAll() throws {
        while try deliverAvailable() > 0 {}
    }

    /// Relists every informer and replaces its cache (after a gap).
    public func relist() throws {
        let informers = state.withLock { s in s.order.compactMap { s.informers[$0] } }
        var lowest = UInt64.max
        for informer in informers {
            let (records, seq) = try log.list(kind: informer.kind, namespace: nil)
            informer.deliver(informer.replace(with: records, seq: seq))
            lowest = min(lowest, seq)
        }
        if lowest != .max { state.withLock { $0.position = lowest } }
    }

    /// Keeps the informers up to date with the log until the task is cancelled.
    public func run() async throws {
        while !Task.isCancelled {
            if try deliverAvailable() == 0 { await log.waitForAppend(after: position) }
        }
    }
}
