public import OrcaAPI
import Synchronization

/// An event log held in memory, for unit tests of what sits above the log.
///
/// It keeps the same contract as the LMDB log, without durability.
public final class InMemoryEventLog: EventLog {
    struct State {
        var records: [EventRecord] = []
        var projection: [ObjectKey: EventRecord] = [:]
        var waiters: [(seq: UInt64, id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var nextWaiterID: UInt64 = 0
    }

    let state = Mutex(State())

    public init() {}

    public func latestSeq() throws(LogError) -> UInt64 { state.withLock { UInt64($0.records.count) } }

    public func read(from: UInt64, limit: Int) throws(LogError) -> [EventRecord] {
        state.withLock { s in
            let start = Int(max(from, 1)) - 1
            guard start < s.records.count else { return [] }
            return Array(s.records[start..<min(s.records.count, start + limit)])
        }
    }

    public func current(_ key: ObjectKey) throws(LogError) -> EventRecord? { state.withLock { $0.projection[key] } }

    public func list(kind: String, namespace: String?) throws(LogError) -> (records: [EventRecord], seq: UInt64) {
        state.withLock { s in
            let records = s.projection.values
                .filter { $0.kind == kind && (namespace == nil || $0.namespace == namespace) }
                .sorted { $0.key < $1.key }
            return (records, UInt64(s.records.count))
        }
    }

    final class Transaction: LogTransaction {
        var base: UInt64
        var committed: [ObjectKey: EventRecord]
        var appended: [EventRecord] = []
        var overlay: [ObjectKey: EventRecord?] = [:]

        init(base: UInt64, committed: [ObjectKey: EventRecord]) {
            self.base = base
            self.committed = committed
        }

        var nextSeq: UInt64 { base + UInt64(appended.count) + 1 }

        func current(_ key: ObjectKey) throws -> EventRecord? {
            if let o = overlay[key] { return o }
            return committed[key]
        }

        func list(kind: String, namespace: String?) throws -> [EventRecord] {
            var keys = Set(committed.keys.filter { $0.kind == kind && (namespace == nil || $0.namespace == namespace) })
            for key in overlay.keys where key.kind == kind && (namespace == nil || key.namespace == namespace) {
                keys.insert(key)
            }
            return keys.sorted().compactMap { try? current($0) }
        }

        func append(_ draft: EventDraft) throws -> EventRecord {
            let record = draft.record(seq: nextSeq)
            appended.append(record)
            overlay[record.key] = record.type == .deleted ? .some(nil) : .some(record)
            return record
        }
    }

    public func transact<T: Sendable>(_ body: @escaping @Sendable (any LogTransaction) throws -> T) async throws -> T {
        let (result, wake): (T, [CheckedContinuation<Void, Never>]) = try state.withLock { s in
            let txn = Transaction(base: UInt64(s.records.count), committed: s.projection)
            let result = try body(txn)
            for record in txn.appended {
                s.records.append(record)
                if record.type == .deleted { s.projection[record.key] = nil } else { s.projection[record.key] = record }
            }
            let latest = UInt64(s.records.count)
            let ready = s.waiters.filter { $0.seq < latest }.map(\.continuation)
            s.waiters.removeAll { $0.seq < latest }
            return (result, ready)
        }
        for continuation in wake { continuation.resume() }
        return result
    }

    public func waitForAppend(after seq: UInt64) async {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if UInt64(s.records.count) > seq || Task.isCancelled { return true }
                    s.waiters.append((seq, id, continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index).continuation
            }
            waiter?.resume()
        }
    }
}
