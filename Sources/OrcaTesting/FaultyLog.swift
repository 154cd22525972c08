public import Orca
import Synchronization

/// An ``EventLog`` wrapper that injects the faults controllers must survive: watch events that
/// are lost, a watch that falls behind, and writes that fail. The store's own reads and writes
/// see the truth (they go through transactions); only what informers read through
/// ``read(from:limit:)`` — the watch — is affected, as with a real API server whose watch
/// stream misbehaves.
public final class FaultyLog: EventLog {
    public let base: any EventLog

    struct Faults {
        var drop: [@Sendable (EventRecord) -> Bool] = []
        var pausedAt: UInt64?
        var failingWrites = 0
        var failure = "injected fault: the write was not appended"
    }
    let faults = Mutex(Faults())

    public init(_ base: any EventLog) { self.base = base }

    /// An error a failed write throws.
    public struct InjectedFault: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    // MARK: Faults

    /// Records matching `predicate` are never delivered to watchers. An informer notices the
    /// gap in seqs and relists, as after a lost watch event (`410 Gone`).
    public func drop(where predicate: @escaping @Sendable (EventRecord) -> Bool) {
        faults.withLock { $0.drop.append(predicate) }
    }

    /// Watchers stop receiving records after the current latest seq, until ``resumeWatch()``:
    /// every informer's cache, and so every controller's view, stays where it is while writes
    /// go on.
    public func pauseWatch() throws {
        let latest = try base.latestSeq()
        faults.withLock { $0.pausedAt = $0.pausedAt ?? latest }
    }

    /// Delivers everything held back by ``pauseWatch()``, in order, at the next sync.
    public func resumeWatch() { faults.withLock { $0.pausedAt = nil } }

    /// The next `count` writes (transactions and batches) throw ``InjectedFault`` and append
    /// nothing.
    public func failWrites(_ count: Int = 1, message: String = "injected fault: the write was not appended") {
        faults.withLock {
            $0.failingWrites += count
            $0.failure = message
        }
    }

    /// Removes every fault: nothing dropped, the watch resumed, writes succeed.
    public func heal() { faults.withLock { $0 = Faults() } }

    func takeWriteFailure() -> InjectedFault? {
        faults.withLock { f in
            guard f.failingWrites > 0 else { return nil }
            f.failingWrites -= 1
            return InjectedFault(message: f.failure)
        }
    }

    // MARK: EventLog

    public func latestSeq() throws(LogError) -> UInt64 { try base.latestSeq() }

    public func read(from: UInt64, limit: Int) throws(LogError) -> [EventRecord] {
        let (drops, pausedAt) = faults.withLock { ($0.drop, $0.pausedAt) }
        if let pausedAt, from > pausedAt { return [] }
        var records = try base.read(from: from, limit: limit)
        if let pausedAt { records = records.filter { $0.seq <= pausedAt } }
        guard !drops.isEmpty else { return records }
        return records.filter { record in !drops.contains { $0(record) } }
    }

    public func current(_ key: ObjectKey) throws(LogError) -> EventRecord? { try base.current(key) }

    public func list(kind: String, namespace: String?) throws(LogError) -> (records: [EventRecord], seq: UInt64) {
        try base.list(kind: kind, namespace: namespace)
    }

    public func transact<T: Sendable>(_ body: @escaping @Sendable (any LogTransaction) throws -> T) async throws -> T {
        if let failure = takeWriteFailure() { throw failure }
        return try await base.transact(body)
    }

    public func appendBatch(_ drafts: [EventDraft]) async throws -> ClosedRange<UInt64>? {
        if let failure = takeWriteFailure() { throw failure }
        return try await base.appendBatch(drafts)
    }

    @discardableResult
    public func append(_ drafts: [EventDraft]) async throws -> [EventRecord] {
        if let failure = takeWriteFailure() { throw failure }
        return try await base.append(drafts)
    }

    public func waitForAppend(after seq: UInt64) async { await base.waitForAppend(after: seq) }
}
