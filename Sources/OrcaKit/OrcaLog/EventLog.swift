public import OrcaAPI

/// The append-only event log: Orca's single source of truth.
///
/// Besides the records, a log keeps the *projection*: the latest record of every live object,
/// updated in the same atomic step as each append, so current state is one lookup away. The
/// projection is always equal to a fold of the records (``EventLogProjection/fold(_:)``).
///
/// Contract:
/// - seqs start at 1 and increase by exactly 1 per record; a committed record never changes.
/// - ``transact(_:)`` runs its body against the latest committed state and appends what the body
///   appends atomically: all of it or none of it. Bodies of concurrent calls are serialised (also
///   across processes for a shared on-disk log). When `transact` returns, the records are durable.
/// - Reads are synchronous, see only committed records, and may be called from any thread.
///
/// Conforming types must be safe to use from any task.
public protocol EventLog: Sendable {
    /// The seq of the newest record; 0 for an empty log.
    func latestSeq() throws(LogError) -> UInt64

    /// Up to `limit` records with seq ≥ `from`, in seq order.
    func read(from: UInt64, limit: Int) throws(LogError) -> [EventRecord]

    /// The latest record of a live object (ADDED or MODIFIED) from the projection.
    func current(_ key: ObjectKey) throws(LogError) -> EventRecord?

    /// Every live object of `kind` (in `namespace`, or all namespaces when nil), ordered by key,
    /// and the seq of the state they reflect.
    func list(kind: String, namespace: String?) throws(LogError) -> (records: [EventRecord], seq: UInt64)

    /// Runs `body` in one write transaction and appends the drafts it appends, atomically.
    ///
    /// `body` may run more than once (after a transient failure such as a map resize) and must
    /// have no side effects besides the transaction. An error thrown by `body` appends nothing
    /// and is rethrown.
    func transact<T: Sendable>(_ body: @escaping @Sendable (any LogTransaction) throws -> T) async throws -> T

    /// Appends `drafts` unconditionally as one atomic batch and returns the seqs they got (nil
    /// for an empty batch). The bulk path for imports and generators: an implementation may
    /// encode the drafts on the caller's task, outside the write transaction.
    func appendBatch(_ drafts: [EventDraft]) async throws -> ClosedRange<UInt64>?

    /// Appends `drafts` unconditionally in one atomic transaction and returns their records. Like
    /// ``appendBatch(_:)``, an implementation may encode the drafts on the caller's task.
    @discardableResult
    func append(_ drafts: [EventDraft]) async throws -> [EventRecord]

    /// Suspends until the log's latest seq is greater than `seq`, or the task is cancelled.
    /// May return early (spuriously); callers re-check.
    func waitForAppend(after seq: UInt64) async
}

/// The view a ``EventLog/transact(_:)`` body has: committed state plus its own appends so far.
///
/// Only valid during the body; not to be kept or shared.
public protocol LogTransaction: AnyObject {
    /// The latest record of a live object, including this transaction's own appends.
    func current(_ key: ObjectKey) throws -> EventRecord?
    /// Live objects of `kind`, including this transaction's own appends, ordered by key.
    func list(kind: String, namespace: String?) throws -> [EventRecord]
    /// The seq the next append will get.
    var nextSeq: UInt64 { get }
    /// Appends a draft; DELETED removes the object from the projection, others set it.
    @discardableResult
    func append(_ draft: EventDraft) throws -> EventRecord
}

extension EventLog {
    /// Every record with seq ≥ `from`, in order.
    public func readAll(from: UInt64 = 1) throws(LogError) -> [EventRecord] {
        var out: [EventRecord] = []
        try scan(from: from) { batch in
            out.append(contentsOf: batch)
            return true
        }
        return out
    }

    /// The seq of the last record at or before `time` (0 when none is): the state "as of" a
    /// moment, as `--at-time` and a scenario's `expect … at:` read it.
    public func lastSeq(atOrBefore time: Timestamp) throws(LogError) -> UInt64 {
        var seq: UInt64 = 0
        try scan { batch in
            for record in batch {
                if record.time > time { return false }
                seq = record.seq
            }
            return true
        }
        return seq
    }

    /// The last record at or before `seq` that `matches` (the state of one object at a moment:
    /// `{ $0.key == key }`), or nil.
    ///
    /// - Throws: ``LogError`` when the log cannot be read.
    /// - Complexity: the log is read backwards from `seq`, 4,096 records at a time, until a record
    ///   matches: a batch or two for a recently written object, the whole log before `seq` when
    ///   none matches.
    public func lastRecord(atOrBefore seq: UInt64, where matches: (EventRecord) -> Bool) throws(LogError) -> EventRecord? {
        var upper = Swift.min(seq, try latestSeq())  // inclusive
        let batchSize: UInt64 = 4096
        while upper >= 1 {
            let lower = upper > batchSize ? upper - batchSize + 1 : 1
            let batch = try read(from: lower, limit: Int(upper - lower + 1))
            if let found = batch.last(where: { $0.seq <= upper && matches($0) }) { return found }
            upper = lower - 1
        }
        return nil
    }

    public func appendBatch(_ drafts: [EventDraft]) async throws -> ClosedRange<UInt64>? {
        guard !drafts.isEmpty else { return nil }
        let records = try await append(drafts)
        guard let first = records.first, let last = records.last else { return nil }
        return first.seq...last.seq
    }

    /// Appends drafts unconditionally in one transaction and returns their records.
    @discardableResult
    public func append(_ drafts: [EventDraft]) async throws -> [EventRecord] {
        try await transact { txn in try drafts.map { try txn.append($0) } }
    }

    /// Every record after `seq`, in order, as an async sequence that waits for new ones.
    public func watch(from seq: UInt64) -> LogWatch { LogWatch(log: self, after: seq) }
}
