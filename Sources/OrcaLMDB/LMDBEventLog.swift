import CLMDB
import Foundation
public import OrcaAPI
public import OrcaLog

/// The event log in an LMDB environment in a data directory: Orca's default, embedded backend.
///
/// Layout (see Docs/LogFormat.md): database `events` maps the big-endian seq to the encoded
/// record; `state` maps `kind NUL namespace NUL name` to the seq of the object's latest record
/// (the projection); `meta` holds the magic and the format version.
///
/// Writes go through one writer thread that commits everything pending in one transaction
/// (group commit), each caller's body in its own nested transaction so that one failing body
/// does not undo the others. Several processes may write the same directory: LMDB serialises
/// their write transactions, and every body reads the committed state inside its transaction.
public final class LMDBEventLog: EventLog {
    let environment: LMDBEnvironment
    let writer: LMDBWriter
    let inlineCommits: Bool
    /// The data directory.
    public var path: String { environment.path }

    /// Opens (and with `options.create`, creates) the log in the data directory `path`.
    ///
    /// - Throws: ``LogError`` with code `.notFound`, `.notAnOrcaLog`, `.newerFormat`, `.corrupt`
    ///   or `.io`, naming the path and what to do. A failed open writes nothing.
    public init(path: String, options: Options = Options()) throws(LogError) {
        environment = try Self.openEnvironment(at: path, options: options)
        writer = LMDBWriter(environment: environment)
        inlineCommits = options.commits == .inline
    }

    deinit { close() }

    /// Finishes the queued writes and closes the log; later reads and writes throw `.closed`.
    /// A write-mapped log (``Options/writeMap``), whose file is as large as its map, is cut back
    /// to the pages in use once unmapped, so the data directory looks like any other.
    public func close() {
        guard !environment.closed else { return }
        writer.stop()
        let usedBytes = environment.writeMap ? environment.usedBytes : nil
        environment.close()
        if let usedBytes { _ = truncate(environment.path + "/" + LMDBEnvironment.dataFile, off_t(usedBytes)) }
    }

    // MARK: Reads

    public func latestSeq() throws(LogError) -> UInt64 {
        try environment.withReadTransaction { txn throws(LogError) in try Self.lastSeq(txn: txn, events: environment.events) }
    }

    static func lastSeq(txn: OpaquePointer, events: MDB_dbi) throws(LogError) -> UInt64 {
        var cursor: OpaquePointer?
        guard mdb_cursor_open(txn, events, &cursor) == 0, let cursor else { return 0 }
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val(), value = MDB_val()
        guard mdb_cursor_get(cursor, &key, &value, MDB_LAST) == 0 else { return 0 }
        return LMDBKey.readSeq(key) ?? 0
    }

    public func read(from: UInt64, limit: Int) throws(LogError) -> [EventRecord] {
        let env = environment
        return try environment.withReadTransaction { txn throws(LogError) in
            var cursor: OpaquePointer?
            guard mdb_cursor_open(txn, env.events, &cursor) == 0, let cursor else { return [] }
            defer { mdb_cursor_close(cursor) }
            // Collect the values first (pointers into the map, valid until the transaction ends),
            // then decode them, on several threads when there are many.
            var values: [(key: MDB_val, value: MDB_val)] = []
            values.reserveCapacity(min(limit, 4096))
            var startKey = LMDBKey.seq(max(from, 1))
            var key = MDB_val(), value = MDB_val()
            var rc: Int32 = startKey.withUnsafeMutableBytes { b in
                key = MDB_val(mv_size: 8, mv_data: b.baseAddress)
                return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
            }
            while rc == 0, values.count < limit {
                values.append((key, value))
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            guard rc == 0 || rc == MDB_NOTFOUND else { throw env.ioError("reading events", rc) }
            return try env.decodeAll(values)
        }
    }

    public func current(_ key: ObjectKey) throws(LogError) -> EventRecord? {
        let env = environment
        return try environment.withReadTransaction { txn throws(LogError) in
            try env.current(txn: txn, key: LMDBKey.object(kind: key.kind, namespace: key.namespace, name: key.name))
        }
    }

    public func list(kind: String, namespace: String?) throws(LogError) -> (records: [EventRecord], seq: UInt64) {
        let env = environment
        return try environment.withReadTransaction { txn throws(LogError) in
            let records = try env.list(txn: txn, prefix: LMDBKey.prefix(kind: kind, namespace: namespace))
            return (records, try Self.lastSeq(txn: txn, events: env.events))
        }
    }

    // MARK: Writes

    public func transact<T: Sendable>(_ body: @escaping @Sendable (any LogTransaction) throws -> T) async throws -> T {
        if inlineCommits { return try writer.runInline { txn in try body(txn) } }
        let box = ResultBox<T>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            writer.submit(LMDBWriter.Request(
                run: { txn in box.value = try body(txn) },
                complete: { error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else if let value = box.value {
                        continuation.resume(returning: value)
                    } else {
                        continuation.resume(throwing: LogError(.io, "internal error: a committed transaction produced no result"))
                    }
                }))
        }
    }

    public func appendBatch(_ drafts: [EventDraft]) async throws -> ClosedRange<UInt64>? {
        guard !drafts.isEmpty else { return nil }
        return try await appendEncoded(Self.encode(drafts))
    }

    @discardableResult
    public func append(_ drafts: [EventDraft]) async throws -> [EventRecord] {
        guard let range = try await appendEncoded(Self.encode(drafts)) else { return [] }
        // Built here rather than on the writer thread; handed to this process's readers as
        // ``LMDBWriteTransaction/append(_:)``'s records are (they are committed by now).
        let records = zip(range, drafts).map { seq, draft in draft.record(seq: seq) }
        environment.recent.insert(records)
        return records
    }

    /// Encodes drafts on the caller's task, before their seqs are known: the writer thread only
    /// copies bytes. A large batch (an import's) is split into slices encoded on every core, in
    /// the way ``LMDBEnvironment/decodeAll(_:)`` decodes.
    static func encode(_ drafts: [EventDraft]) -> [LMDBEncodedEvent] {
        @Sendable func encodeOne(_ draft: EventDraft) -> LMDBEncodedEvent {
            let (bytes, key) = RecordCodec.encode(draft)
            return LMDBEncodedEvent(bytes: bytes, stateKey: LMDBKey.object(kind: key.kind, namespace: key.namespace, name: key.name),
                                    deletes: draft.type == .deleted)
        }
        let workers = LMDBEnvironment.parallelWorkers
        guard drafts.count >= LMDBEnvironment.parallelThreshold, workers > 1 else { return drafts.map(encodeOne) }
        let slices = ParallelSlices(count: drafts.count, workers: workers)
        let parts = UnsafeSendableBox([[LMDBEncodedEvent]](repeating: [], count: workers))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let part = drafts[slices.range(w)].map(encodeOne)
            parts.withValue { $0[w] = part }
        }
        return parts.value.flatMap { $0 }
    }

    /// Appends encoded records as one atomic batch. The body reads nothing and fails only when
    /// LMDB does, so it runs in the commit's transaction itself, without a nested transaction of
    /// its own (see ``LMDBWriter/Request/nested``).
    func appendEncoded(_ encoded: [LMDBEncodedEvent]) async throws -> ClosedRange<UInt64>? {
        guard !encoded.isEmpty else { return nil }
        if inlineCommits {
            return try writer.runInline(nested: false) { txn in
                let first = txn.nextSeq
                for event in encoded { try txn.appendEncoded(event) }
                return first...(txn.nextSeq - 1)
            }
        }
        let box = ResultBox<ClosedRange<UInt64>>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ClosedRange<UInt64>?, any Error>) in
            writer.submit(LMDBWriter.Request(
                run: { txn in
                    let first = txn.nextSeq
                    for event in encoded { try txn.appendEncoded(event) }
                    box.value = first...(txn.nextSeq - 1)
                },
                complete: { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: box.value) }
                },
                nested: false))
        }
    }

    /// Durable commits this process has made on the log, and the transactions they carried: their
    /// ratio is the average group-commit batch.
    public var commitStatistics: (commits: Int, transactions: Int) { writer.statistics.withLock { $0 } }

    /// How often a waiting watch checks for appends made by other processes.
    static let pollInterval: Duration = .milliseconds(5)

    public func waitForAppend(after seq: UInt64) async {
        while !Task.isCancelled {
            if let latest = try? latestSeq(), latest > seq { return }
            if writer.hasCommitted(after: seq) { return }
            try? await Task.sleep(for: Self.pollInterval)
        }
    }

    /// Flushes the OS buffers to disk (only meaningful with `durability: .unsynced`).
    public func sync() throws(LogError) {
        let rc = mdb_env_sync(environment.env, 1)
        guard rc == 0 else { throw environment.ioError("syncing", rc) }
    }

    /// Size of the data file in bytes.
    public var fileSize: Int {
        (try? FileManager.default.attributesOfItem(atPath: path + "/" + LMDBEnvironment.dataFile)[.size] as? Int) ?? 0
    }
}

extension LMDBEnvironment {
    /// Below this many records, decoding or encoding on one thread is faster than spreading the work.
    static let parallelThreshold = 256
    /// Threads that decode or encode a large batch: the cores, at most 8. Read once — asking costs file
    /// reads (cgroup quotas) every time.
    static let parallelWorkers = min(ProcessInfo.processInfo.activeProcessorCount, 8)

    /// Decodes records whose bytes are in the map (the caller holds the read transaction).
    ///
    /// Large batches are split into contiguous slices decoded concurrently, one per core; the
    /// result is in input order and the first error (in order) is thrown.
    func decodeAll(_ values: [(key: MDB_val, value: MDB_val)]) throws(LogError) -> [EventRecord] {
        let workers = Self.parallelWorkers
        guard values.count >= Self.parallelThreshold, workers > 1 else {
            var out: [EventRecord] = []
            out.reserveCapacity(values.count)
            for v in values { out.append(try decode(key: v.key, value: v.value)) }
            return out
        }
        let slices = ParallelSlices(count: values.count, workers: workers)
        let results = UnsafeSendableBox(Array(repeating: Result<[EventRecord], LogError>.success([]), count: workers))
        values.withUnsafeBufferPointer { input in
            let shared = UnsafeSendableBox(input)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var part: [EventRecord] = []
                let range = slices.range(w)
                part.reserveCapacity(range.count)
                do throws(LogError) {
                    for i in range { part.append(try decode(key: shared.value[i].key, value: shared.value[i].value)) }
                    results.withValue { $0[w] = .success(part) }
                } catch {
                    results.withValue { $0[w] = .failure(error) }
                }
            }
        }
        var out: [EventRecord] = []
        out.reserveCapacity(values.count)
        for result in results.value { out.append(contentsOf: try result.get()) }
        return out
    }

    func decode(key: MDB_val, value: MDB_val) throws(LogError) -> EventRecord {
        guard let seq = LMDBKey.readSeq(key), let data = value.mv_data else {
            throw LogError(.corrupt, "the Orca log at \(path) has a malformed event key; restore it from a backup", path: path)
        }
        if let known = recent.get(seq) { return known }
        do {
            return try RecordCodec.decode(seq: seq, bytes: UnsafeRawBufferPointer(start: data, count: value.mv_size))
        } catch {
            throw LogError(.corrupt, "the Orca log at \(path) has a corrupt record at seq \(seq) (\(error)); restore it from a backup or re-import its history", path: path)
        }
    }

    func record(txn: OpaquePointer, seq: UInt64) throws(LogError) -> EventRecord? {
        try withVal(LMDBKey.seq(seq)) { (key: inout MDB_val) throws(LogError) -> EventRecord? in
            var value = MDB_val()
            let rc = mdb_get(txn, events, &key, &value)
            if rc == MDB_NOTFOUND { return nil }
            guard rc == 0 else { throw ioError("reading an event", rc) }
            return try decode(key: key, value: value)
        }
    }

    func current(txn: OpaquePointer, key objectKey: [UInt8]) throws(LogError) -> EventRecord? {
        let seq: UInt64? = try withVal(objectKey) { (key: inout MDB_val) throws(LogError) -> UInt64? in
            var value = MDB_val()
            let rc = mdb_get(txn, state, &key, &value)
            if rc == MDB_NOTFOUND { return nil }
            guard rc == 0 else { throw ioError("reading state", rc) }
            return LMDBKey.readSeq(value)
        }
        guard let seq else { return nil }
        guard let record = try record(txn: txn, seq: seq) else {
            throw LogError(.corrupt, "the Orca log at \(path) has state pointing at missing seq \(seq); restore it from a backup", path: path)
        }
        return record
    }

    func list(txn: OpaquePointer, prefix: [UInt8]) throws(LogError) -> [EventRecord] {
        var cursor: OpaquePointer?
        guard mdb_cursor_open(txn, state, &cursor) == 0, let cursor else { return [] }
        defer { mdb_cursor_close(cursor) }
        var seqs: [UInt64] = []
        var start = prefix
        var key = MDB_val(), value = MDB_val()
        var rc: Int32 = start.withUnsafeMutableBytes { b in
            key = MDB_val(mv_size: b.count, mv_data: b.baseAddress)
            return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
        }
        while rc == 0 {
            guard key.mv_size >= prefix.count, let data = key.mv_data,
                  prefix.withUnsafeBytes({ p in p.baseAddress.map { memcmp(data, $0, prefix.count) == 0 } ?? true }) else { break }
            if let seq = LMDBKey.readSeq(value) { seqs.append(seq) }
            rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        var out: [EventRecord] = []
        out.reserveCapacity(seqs.count)
        for seq in seqs {
            guard let record = try record(txn: txn, seq: seq) else {
                throw LogError(.corrupt, "the Orca log at \(path) has state pointing at missing seq \(seq); restore it from a backup", path: path)
            }
            out.append(record)
        }
        return out
    }
}

/// Contiguous, nearly equal slices of `0..<count` for `workers` workers.
struct ParallelSlices: Sendable {
    let count: Int
    let workers: Int
    func range(_ w: Int) -> Range<Int> { (count * w / workers)..<(count * (w + 1) / workers) }
}

/// Shares a value with the workers of one `concurrentPerform`.
final class UnsafeSendableBox<T>: @unchecked Sendable {
    // @unchecked: each worker touches only its own slot or slice, and the box is read again only
    // after concurrentPerform has returned; writes go through the lock.
    var value: T
    let lock = NSLock()
    init(_ value: T) { self.value = value }
    func withValue(_ body: (inout T) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body(&value)
    }
}
