import CLMDB
import Foundation
import Synchronization
import OrcaLog

/// The LMDB environment behind an ``LMDBEventLog``: the handle, its databases and the lock that
/// keeps map resizes away from running transactions.
///
/// Threading: `MDB_NOTLS` is set, and every transaction begins and ends inside one synchronous
/// call, so transactions never cross a suspension point. Readers hold `resizeLock` shared;
/// `mdb_env_set_mapsize` (which LMDB allows only with no transaction active in the process) runs
/// with it exclusive.
final class LMDBEnvironment: @unchecked Sendable {
    // @unchecked: `env` and the dbi handles are set once in init and never change; LMDB's own
    // locking makes concurrent transactions on one environment safe with MDB_NOTLS; the map size
    // changes only under `resizeLock` held exclusively.
    let env: OpaquePointer
    let path: String
    let meta: MDB_dbi
    let events: MDB_dbi
    let state: MDB_dbi
    let resizeLock: UnsafeMutablePointer<pthread_rwlock_t>
    var closed = false
    /// Opened with `MDB_WRITEMAP`: write transactions cannot nest.
    let writeMap: Bool
    /// Records committed by this process, handed to readers of their seq without a decode.
    let recent = RecentRecords(capacity: 16_384)

    /// The `format` entry of the meta database. 2: records of version 3 may be present (an Orca
    /// that reads only versions 1 and 2 must refuse the log at open). 1: records of versions 1
    /// and 2 only; such a log is read as it is and marked 2 by its first write from this build.
    static let formatVersion: UInt64 = 2
    /// The log's stored format is older than ``formatVersion``: the next commit updates it.
    let upgradesFormat: Mutex<Bool>
    static let magic = "orca-event-log"
    static let dataFile = "data.mdb"

    init(env: OpaquePointer, path: String, meta: MDB_dbi, events: MDB_dbi, state: MDB_dbi, storedFormat: UInt64,
         writeMap: Bool = false) {
        self.env = env
        upgradesFormat = Mutex(storedFormat < Self.formatVersion)
        self.writeMap = writeMap
        self.path = path
        self.meta = meta
        self.events = events
        self.state = state
        resizeLock = .allocate(capacity: 1)
        pthread_rwlock_init(resizeLock, nil)
    }

    /// Bytes up to the end of the last page in use.
    var usedBytes: Int {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        var stat = MDB_stat()
        mdb_env_stat(env, &stat)
        return (info.me_last_pgno + 1) * Int(stat.ms_psize)
    }

    func close() {
        guard !closed else { return }
        closed = true
        mdb_env_close(env)
        pthread_rwlock_destroy(resizeLock)
        resizeLock.deallocate()
    }

    static func message(_ rc: Int32) -> String { String(cString: mdb_strerror(rc)) }

    /// Writes `key` = `value` in the meta database (an LMDB return code).
    static func putMeta(_ key: String, _ value: [UInt8], txn: OpaquePointer, meta: MDB_dbi, flags: UInt32 = 0) -> Int32 {
        var k = Array(key.utf8)
        var v = value
        return k.withUnsafeMutableBytes { kb in
            v.withUnsafeMutableBytes { vb in
                var kv = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                var vv = MDB_val(mv_size: vb.count, mv_data: vb.baseAddress)
                return mdb_put(txn, meta, &kv, &vv, flags)
            }
        }
    }

    /// The value of `key` in the meta database, or nil.
    static func getMeta(_ key: String, txn: OpaquePointer, meta: MDB_dbi) -> [UInt8]? {
        var k = Array(key.utf8)
        return k.withUnsafeMutableBytes { buffer in
            var kv = MDB_val(mv_size: buffer.count, mv_data: buffer.baseAddress)
            var v = MDB_val()
            guard mdb_get(txn, meta, &kv, &v) == 0, let data = v.mv_data else { return nil }
            return Array(UnsafeRawBufferPointer(start: data, count: v.mv_size))
        }
    }

    /// Sets the meta database's `format` entry in `txn` (an LMDB return code).
    func putFormatVersion(_ version: UInt64, txn: OpaquePointer) -> Int32 {
        Self.putMeta("format", LMDBKey.seq(version), txn: txn, meta: meta)
    }

    /// Sets the `format` entry in a transaction of its own (what an older or newer Orca left, for tests).
    func setFormatVersion(_ version: UInt64) throws(LogError) {
        pthread_rwlock_rdlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, 0, &txn)
        guard rc == 0, let txn else { throw ioError("beginning a write transaction", rc) }
        rc = putFormatVersion(version, txn: txn)
        guard rc == 0 else {
            mdb_txn_abort(txn)
            throw ioError("writing the format version", rc)
        }
        rc = mdb_txn_commit(txn)
        guard rc == 0 else { throw ioError("committing", rc) }
    }

    /// The meta database's `format` entry, as stored now.
    func storedFormatVersion() throws(LogError) -> UInt64? {
        try withReadTransaction { txn throws(LogError) -> UInt64? in
            guard let bytes = Self.getMeta("format", txn: txn, meta: meta), bytes.count == 8 else { return nil }
            return bytes.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
        }
    }

    func ioError(_ what: String, _ rc: Int32) -> LogError {
        if rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID {
            return LogError(.corrupt, "the Orca log at \(path) is corrupt (\(what): \(Self.message(rc))); restore it from a backup or re-import its history with `orca import`", path: path)
        }
        return LogError(.io, "the Orca log at \(path) failed (\(what): \(Self.message(rc)))", path: path)
    }

    var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return info.me_mapsize
    }

    /// Runs `body` in a read-only transaction that begins and ends in this call.
    func withReadTransaction<T>(_ body: (OpaquePointer) throws(LogError) -> T) throws(LogError) -> T {
        guard !closed else { throw LogError(.closed, "the Orca log at \(path) is closed", path: path) }
        while true {
            pthread_rwlock_rdlock(resizeLock)
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
            if rc == MDB_MAP_RESIZED {
                // Another process grew the map: adopt its size, then retry.
                pthread_rwlock_unlock(resizeLock)
                pthread_rwlock_wrlock(resizeLock)
                mdb_env_set_mapsize(env, 0)
                pthread_rwlock_unlock(resizeLock)
                continue
            }
            guard rc == 0, let txn else {
                pthread_rwlock_unlock(resizeLock)
                throw ioError("beginning a read transaction", rc)
            }
            defer {
                mdb_txn_abort(txn)
                pthread_rwlock_unlock(resizeLock)
            }
            return try body(txn)
        }
    }

    /// Grows the map to at least double its size (called with no transaction active).
    func grow(minimum: Int = 0) {
        pthread_rwlock_wrlock(resizeLock)
        let target = max(mapSize * 2, minimum)
        mdb_env_set_mapsize(env, target)
        pthread_rwlock_unlock(resizeLock)
    }
}

/// Key and value helpers.
enum LMDBKey {
    static func seq(_ seq: UInt64) -> [UInt8] {
        withUnsafeBytes(of: seq.bigEndian) { Array($0) }
    }

    /// `kind NUL namespace NUL name`: sorts by kind, then namespace, then name.
    static func object(kind: String, namespace: String, name: String) -> [UInt8] {
        var out = Array(kind.utf8)
        out.append(0)
        out.append(contentsOf: namespace.utf8)
        out.append(0)
        out.append(contentsOf: name.utf8)
        return out
    }

    static func prefix(kind: String, namespace: String?) -> [UInt8] {
        var out = Array(kind.utf8)
        out.append(0)
        if let namespace {
            out.append(contentsOf: namespace.utf8)
            out.append(0)
        }
        return out
    }

    static func readSeq(_ val: MDB_val) -> UInt64? {
        guard val.mv_size == 8, let data = val.mv_data else { return nil }
        return UInt64(bigEndian: data.loadUnaligned(as: UInt64.self))
    }
}

/// Calls `body` with an `MDB_val` over `bytes`.
@inline(__always)
func withVal<T>(_ bytes: [UInt8], _ body: (inout MDB_val) throws(LogError) -> T) throws(LogError) -> T {
    var copy = bytes
    let result: Result<T, LogError> = copy.withUnsafeMutableBytes { buffer in
        var val = MDB_val(mv_size: buffer.count, mv_data: buffer.baseAddress)
        return Result { () throws(LogError) in try body(&val) }
    }
    return try result.get()
}
