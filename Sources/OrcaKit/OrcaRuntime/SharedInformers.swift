public import OrcaAPI
import DequeModule
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
        /// Delayed views by controller name, then kind.
        var delayed: [String: [String: DelayedView]] = [:]
    }

    /// One controller's late view of one kind: a private informer that receives the kind's
    /// records `delay` after they were written, in log order.
    struct DelayedView {
        let informer: Informer
        let clock: any Clock
        var delay: Duration
        var pending: Deque<(record: EventRecord, visibleAt: Timestamp)> = []
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

    /// The informer `controller` reads `kind` from: its delayed view when one was set up with
    /// ``delay(_:for:by:clock:)``, else the shared informer.
    public func informer(for kind: String, controller: String) -> Informer {
        if let view = state.withLock({ $0.delayed[controller]?[kind]?.informer }) { return view }
        return informer(for: kind)
    }

    /// From now on, `controller` sees `kind` late by `delay` (the simulation's `delay-watch`
    /// fault): its handlers and its reads of the kind move to a private copy of the shared cache,
    /// which applies each later record of the kind once `clock` reaches the record's time plus
    /// `delay`, in log order. Other controllers are unaffected. Calling it again changes the
    /// delay for records not yet read (a zero delay ends the lag once the pending ones are due).
    /// Pending records are released by ``deliverAvailable(limit:)``; ``nextDelayedDelivery`` says
    /// when the next one falls due.
    public func delay(_ kind: String, for controller: String, by delay: Duration, clock: any Clock) {
        let shared = informer(for: kind)
        state.withLock { s in
            if s.delayed[controller]?[kind] != nil {
                s.delayed[controller]?[kind]?.delay = delay
                return
            }
            let view = DelayedView(informer: Informer(splittingFrom: shared, owner: controller), clock: clock, delay: delay)
            s.delayed[controller, default: [:]][kind] = view
        }
    }

    /// When the earliest record held back by a delayed view becomes visible.
    public var nextDelayedDelivery: Timestamp? {
        state.withLock { s in s.delayed.values.flatMap(\.values).compactMap { $0.pending.first?.visibleAt }.min() }
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
        // A delayed view set up before its kind was first listed is listed with it, at once.
        let views = state.withLock { s in s.delayed.values.flatMap(\.values).map(\.informer) }
        let pending = state.withLock { s in s.order.compactMap { s.informers[$0] }.filter { !$0.hasSynced } }
            + views.filter { !$0.hasSynced }
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

    /// Applies up to `limit` records after the current position and delivers their events, after
    /// releasing the delayed views' records that are due. Returns how many records were read or
    /// released (0 when the informers are up to date).
    @discardableResult
    public func deliverAvailable(limit: Int = 4096) throws -> Int {
        var ahead: ReadAhead?
        return try deliverAvailable(limit: limit, ahead: &ahead)
    }

    /// ``deliverAvailable(limit:)``, taking its records from `ahead` when that read began where
    /// this one begins; with `readsAhead`, a full batch starts the read of the next one in `ahead`.
    func deliverAvailable(limit: Int, ahead: inout ReadAhead?, readsAhead: Bool = false) throws -> Int {
        try sync()
        let released = releaseDelayed()
        let from = position + 1
        // A read begun ahead is used only if it is exactly what reading now would return (a
        // relist moves `from`); it is waited for either way, so no read outlives the call that
        // started it by more than one batch.
        let batch = try ReadAhead.read(log, from: from, limit: limit, ahead: &ahead, readingAhead: readsAhead)
        return try apply(batch, from: from) + released
    }

    func apply(_ records: [EventRecord], from: UInt64) throws -> Int {
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
            if let informer = informers[record.kind], let event = informer.apply(record) { informer.deliver(event) }
            state.withLock { s in
                s.position = record.seq
                for controller in s.delayed.keys {
                    guard var view = s.delayed[controller]?[record.kind] else { continue }
                    var visibleAt = record.time.adding(view.delay)
                    if let last = view.pending.last, last.visibleAt > visibleAt { visibleAt = last.visibleAt }
                    view.pending.append((record: record, visibleAt: visibleAt))
                    s.delayed[controller]?[record.kind] = view
                }
            }
        }
        return records.count
    }

    /// Applies and delivers every delayed record whose time has come. Returns how many.
    func releaseDelayed() -> Int {
        let due = state.withLock { s -> [(Informer, [EventRecord])] in
            var out: [(Informer, [EventRecord])] = []
            for controller in s.delayed.keys.sorted() {
                for kind in s.delayed[controller, default: [:]].keys.sorted() {
                    guard var view = s.delayed[controller]?[kind] else { continue }
                    let now = view.clock.now()
                    var records: [EventRecord] = []
                    while let first = view.pending.first, first.visibleAt <= now {
                        records.append(first.record)
                        view.pending.removeFirst()
                    }
                    guard !records.isEmpty else { continue }
                    s.delayed[controller]?[kind] = view
                    out.append((view.informer, records))
                }
            }
            return out
        }
        var count = 0
        for (informer, records) in due {
            for record in records {
                count += 1
                if let event = informer.apply(record) { informer.deliver(event) }
            }
        }
        return count
    }

    /// Applies records until the informers have caught up with the log.
    ///
    /// While one batch of records is applied, the next is read and decoded on another thread
    /// (a catch-up over a long log keeps both cores busy); what is applied is exactly what reading
    /// batch by batch would apply.
    public func deliverAll() throws {
        var ahead: ReadAhead?
        defer { _ = try? ahead?.wait() }  // never leave a read running past the call
        while try deliverAvailable(limit: 4096, ahead: &ahead, readsAhead: true) > 0 {}
    }

    /// Relists every informer and replaces its cache (after a gap). Delayed views relist too, at
    /// once, and drop what they held back.
    public func relist() throws {
        let (informers, views) = state.withLock { s -> ([Informer], [Informer]) in
            for controller in s.delayed.keys {
                for kind in s.delayed[controller, default: [:]].keys { s.delayed[controller]?[kind]?.pending.removeAll() }
            }
            let views = s.delayed.keys.sorted().flatMap { c in s.delayed[c, default: [:]].keys.sorted().compactMap { s.delayed[c]?[$0]?.informer } }
            return (s.order.compactMap { s.informers[$0] }, views)
        }
        var lowest = UInt64.max
        for informer in informers + views {
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
