import CLMDB
import Foundation
import OrcaAPI
import OrcaLog
import Synchronization

/// Holds a transaction body's result between the writer thread and the awaiting caller.
final class ResultBox<T>: @unchecked Sendable {
    // @unchecked: written only by the writer thread while the body runs, read only by the
    // completion, which the writer calls after the body on the same thread.
    var value: T?
}

/// The single writer thread of an environment in this process: group commit.
///
/// Callers enqueue requests; the thread takes everything pending, runs each body in a nested
/// transaction of one parent transaction, commits the parent once (one fsync for the batch),
/// then completes every request. A write transaction therefore begins and commits on one thread,
/// as LMDB requires, and never spans a suspension point.
final class LMDBWriter: @unchecked Sendable {
    // @unchecked: `pending` and `stopping` are guarded by `condition`; `environment` is itself
    // safe to share; `committed` is a Mutex.
    struct Request {
        let run: (LMDBWriteTransaction) throws -> Void
        let complete: (( any Error)?) -> Void
        /// Whether the body runs in a nested transaction of its own, so that one that throws rolls
        /// back alone. A body that cannot fail on its own account (an unconditional append of
        /// encoded records) runs in the commit's transaction directly and saves the nested
        /// transaction's cost; should it throw all the same, the commit is aborted and the other
        /// bodies run again without it.
        var nested = true
    }

    let environment: LMDBEnvironment
    let condition = NSCondition()
    var pending: [Request] = []
    var stopping = false
    let exited = DispatchSemaphore(value: 0)
    let committed = Mutex<UInt64>(0)
    /// Commits made and transaction bodies they carried (for `LMDBEventLog.commitStatistics`).
    let statistics = Mutex<(commits: Int, transactions: Int)>((0, 0))

    init(environment: LMDBEnvironment) {
        self.environment = environment
        let thread = Thread { [self] in self.loop() }
        thread.name = "orca-lmdb-writer"
        thread.start()
    }

    func submit(_ request: Request) {
        condition.lock()
        if stopping {
            condition.unlock()
            request.complete(LogError(.closed, "the Orca log at \(environment.path) is closed", path: environment.path))
            return
        }
        if pending.isEmpty { firstArrival = DispatchTime.now().uptimeNanoseconds }
        pending.append(request)
        // While the writer lingers for a group, waking it before the group is complete is wasted.
        if pending.count >= lingerTarget { condition.signal() }
        condition.unlock()
    }

    /// Stops the writer thread after the requests already queued; a second call returns at once.
    func stop() {
        condition.lock()
        let already = stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if !already { exited.wait() }
    }

    /// Serialises inline commits (``runInline(_:)``) of this process.
    let inlineLock = NSLock()

    /// Runs one transaction body and commits it on the calling thread (`commits: .inline`);
    /// `nested` as for ``Request/nested``.
    func runInline<T>(nested: Bool = true, _ body: @escaping (LMDBWriteTransaction) throws -> T) throws -> T {
        condition.lock()
        let stopped = stopping
        condition.unlock()
        if stopped { throw LogError(.closed, "the Orca log at \(environment.path) is closed", path: environment.path) }
        inlineLock.lock()
        defer { inlineLock.unlock() }
        var result: T?
        var failure: (any Error)?
        process([Request(run: { txn in result = try body(txn) }, complete: { failure = $0 }, nested: nested)])
        if let failure { throw failure }
        guard let result else { throw LogError(.io, "internal error: a committed transaction produced no result") }
        return result
    }

    func hasCommitted(after seq: UInt64) -> Bool { committed.withLock { $0 > seq } }

    /// Group commit's linger rule. The largest of the last few commits' batches, n, estimates how
    /// many writers are active: when n > 1, wait for up to n requests, but no longer than half the
    /// last commit's duration (so a slow disk gathers more, a fast one loses little) and never
    /// over 1 ms. Taking the largest rather than the last batch keeps a writer that was a moment
    /// late from shrinking every later group. A lone writer (n = 1) never waits.
    static let maxLinger: Double = 0.001
    /// How many recent batches the estimate looks back over.
    static let lingerWindow = 8

    /// The group size the writer is waiting for (guarded by `condition`); 1 when it is not lingering.
    var lingerTarget = 1
    /// When the first pending request arrived (guarded by `condition`).
    var firstArrival: UInt64 = 0

    func loop() {
        var recent = [Int](repeating: 1, count: Self.lingerWindow)
        var next = 0
        var lastCommit: Double = 0
        while true {
            condition.lock()
            let target = recent.max() ?? 1
            let linger = min(lastCommit / 2, Self.maxLinger)
            if target > 1 && pending.count < target && !stopping {
                // Expecting a group: the first request of it need not wake the writer (a wake-up
                // that only starts the linger takes a core from the writers still encoding).
                // Sleep until the linger would end had the first arrived now; then linger from
                // its actual arrival, or, if nothing came, wait for the next request as usual.
                lingerTarget = target
                let start = DispatchTime.now().uptimeNanoseconds
                var deadline = Date(timeIntervalSinceNow: linger)
                while pending.count < target && !stopping {
                    if !condition.wait(until: deadline) {
                        guard pending.isEmpty else {
                            let first = max(firstArrival, start)
                            let end = Date(timeIntervalSinceNow: linger - Double(DispatchTime.now().uptimeNanoseconds - first) / 1e9)
                            if end <= deadline { break }
                            deadline = end
                            continue
                        }
                        lingerTarget = 1
                        while pending.isEmpty && !stopping { condition.wait() }
                        if !stopping && pending.count < target {
                            lingerTarget = target
                            deadline = Date(timeIntervalSinceNow: linger)
                            continue
                        }
                        break
                    }
                }
                lingerTarget = 1
            } else {
                while pending.isEmpty && !stopping { condition.wait() }
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            let exit = stopping && batch.isEmpty
            condition.unlock()
            if exit { break }
            let start = DispatchTime.now().uptimeNanoseconds
            process(batch)
            lastCommit = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            recent[next] = batch.count
            next = (next + 1) % recent.count
        }
        exited.signal()
    }

    struct MapFull: Error {}

    func process(_ batch: [Request]) {
        let env = environment
        var errors: [(any Error)?] = []
        attempt: while true {
            errors = Array(repeating: nil, count: batch.count)
            pthread_rwlock_rdlock(env.resizeLock)
            var parentPointer: OpaquePointer?
            var rc = mdb_txn_begin(env.env, nil, 0, &parentPointer)
            if rc == MDB_MAP_RESIZED {
                pthread_rwlock_unlock(env.resizeLock)
                pthread_rwlock_wrlock(env.resizeLock)
                mdb_env_set_mapsize(env.env, 0)
                pthread_rwlock_unlock(env.resizeLock)
                continue attempt
            }
            guard rc == 0, let parent = parentPointer else {
                pthread_rwlock_unlock(env.resizeLock)
                let error = env.ioError("beginning a write transaction", rc)
                errors = Array(repeating: error, count: batch.count)
                break attempt
            }
            var next: UInt64
            do { next = try LMDBEventLog.lastSeq(txn: parent, events: env.events) + 1 } catch { next = 1 }
            var mapFull = false
            // Each body runs in a nested transaction, so one that throws rolls back alone.
            // MDB_WRITEMAP allows no nesting: there (inline commits, one body at a time) the body
            // runs in the top-level transaction, as does a body that asks for none; one of those
            // that throws aborts the whole commit (the others are then run again without it).
            var failed: Int?
            var appended: [EventRecord] = []
            for (i, request) in batch.enumerated() {
                let nested = !env.writeMap && request.nested
                var target = parent
                if nested {
                    var childPointer: OpaquePointer?
                    rc = mdb_txn_begin(env.env, parent, 0, &childPointer)
                    guard rc == 0, let child = childPointer else {
                        errors[i] = env.ioError("beginning a nested transaction", rc)
                        continue
                    }
                    target = child
                }
                let txn = LMDBWriteTransaction(environment: env, txn: target, nextSeq: next)
                do {
                    try request.run(txn)
                    txn.finished = true
                    if nested {
                        rc = mdb_txn_commit(target)
                        if rc == MDB_MAP_FULL { mapFull = true; break }
                        if rc != 0 { errors[i] = env.ioError("committing", rc); continue }
                    }
                    next = txn.nextSeq
                    appended.append(contentsOf: txn.appended)
                } catch is MapFull {
                    txn.finished = true
                    if nested { mdb_txn_abort(target) }
                    mapFull = true
                    break
                } catch {
                    txn.finished = true
                    errors[i] = error
                    if nested {
                        mdb_txn_abort(target)
                    } else {
                        failed = i
                        break
                    }
                }
            }
            if let failed {
                mdb_txn_abort(parent)
                pthread_rwlock_unlock(env.resizeLock)
                batch[failed].complete(errors[failed])
                var others = batch
                others.remove(at: failed)
                if !others.isEmpty { process(others) }
                return
            }
            if mapFull {
                mdb_txn_abort(parent)
                pthread_rwlock_unlock(env.resizeLock)
                env.grow()
                continue attempt
            }
            // The first write to a log of an older format marks it as this build's (its records
            // are now of version 3), in the same transaction.
            let upgrade = env.upgradesFormat.withLock { $0 }
            if upgrade {
                rc = env.putFormatVersion(LMDBEnvironment.formatVersion, txn: parent)
                if rc == MDB_MAP_FULL {
                    mdb_txn_abort(parent)
                    pthread_rwlock_unlock(env.resizeLock)
                    env.grow()
                    continue attempt
                }
                if rc != 0 {
                    mdb_txn_abort(parent)
                    pthread_rwlock_unlock(env.resizeLock)
                    errors = Array(repeating: env.ioError("updating the log's format version", rc), count: batch.count)
                    break attempt
                }
            }
            rc = mdb_txn_commit(parent)
            pthread_rwlock_unlock(env.resizeLock)
            if rc == 0 && upgrade { env.upgradesFormat.withLock { $0 = false } }
            if rc == MDB_MAP_FULL {
                env.grow()
                continue attempt
            }
            if rc != 0 {
                let error = env.ioError("committing", rc)
                errors = Array(repeating: error, count: batch.count)
            } else {
                let last = next - 1
                env.recent.insert(appended)
                committed.withLock { $0 = max($0, last) }
                statistics.withLock { $0 = ($0.commits + 1, $0.transactions + batch.count) }
            }
            break attempt
        }
        for (request, error) in zip(batch, errors) { request.complete(error) }
    }
}

/// A nested write transaction handed to one ``EventLog/transact(_:)`` body.
final class LMDBWriteTransaction: LogTransaction {
    let environment: LMDBEnvironment
    let txn: OpaquePointer
    var nextSeq: UInt64
    var finished = false
    /// The records appended by ``append(_:)``, for ``RecentRecords`` once the commit succeeds.
    var appended: [EventRecord] = []

    init(environment: LMDBEnvironment, txn: OpaquePointer, nextSeq: UInt64) {
        self.environment = environment
        self.txn = txn
        self.nextSeq = nextSeq
    }

    func checkOpen() throws {
        guard !finished else { throw LogError(.closed, "a log transaction was used after its body returned") }
    }

    func current(_ key: ObjectKey) throws -> EventRecord? {
        try checkOpen()
        return try environment.current(txn: txn, key: LMDBKey.object(kind: key.kind, namespace: key.namespace, name: key.name))
    }

    func list(kind: String, namespace: String?) throws -> [EventRecord] {
        try checkOpen()
        return try environment.list(txn: txn, prefix: LMDBKey.prefix(kind: kind, namespace: namespace))
    }

    func append(_ draft: EventDraft) throws -> EventRecord {
        try checkOpen()
        let record = draft.record(seq: nextSeq)
        try appendEncoded(LMDBEncodedEvent(
            bytes: RecordCodec.encode(record),
            stateKey: LMDBKey.object(kind: record.kind, namespace: record.namespace, name: record.name),
            deletes: record.type == .deleted))
        appended.append(record)
        return record
    }

    /// Appends an already encoded record at `nextSeq` and updates the projection.
    func appendEncoded(_ event: LMDBEncodedEvent) throws {
        try checkOpen()
        let env = environment
        let seq = nextSeq
        var keyBytes = LMDBKey.seq(seq)
        var rc = keyBytes.withUnsafeMutableBytes { kb in
            event.bytes.withUnsafeBytes { vb in
                var k = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
                return mdb_put(txn, env.events, &k, &v, UInt32(MDB_APPEND))
            }
        }
        if rc == MDB_MAP_FULL { throw LMDBWriter.MapFull() }
        guard rc == 0 else { throw env.ioError("appending seq \(seq)", rc) }
        rc = event.stateKey.withUnsafeBytes { kb in
            var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
            if event.deletes {
                let r = mdb_del(txn, env.state, &k, nil)
                return r == MDB_NOTFOUND ? 0 : r
            }
            return keyBytes.withUnsafeMutableBytes { vb in
                var v = MDB_val(mv_size: vb.count, mv_data: vb.baseAddress)
                return mdb_put(txn, env.state, &k, &v, 0)
            }
        }
        if rc == MDB_MAP_FULL { throw LMDBWriter.MapFull() }
        guard rc == 0 else { throw env.ioError("updating the state of the object at seq \(seq)", rc) }
        nextSeq += 1
    }
}

/// A record encoded outside the write transaction, with its projection key.
struct LMDBEncodedEvent: Sendable {
    var bytes: [UInt8]
    var stateKey: [UInt8]
    var deletes: Bool
}
