import CLMDB
import Foundation

/// A bare LMDB environment with the same two databases and flags as an Orca log, written by a
/// plain loop: the baseline the log's append path is compared with.
final class RawLMDB {
    let env: OpaquePointer
    var events: MDB_dbi = 0
    var state: MDB_dbi = 0

    init(directory: String, mapSize: Int) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var e: OpaquePointer?
        try check(mdb_env_create(&e), "mdb_env_create")
        guard let e else { throw RawError(message: "mdb_env_create returned no environment") }
        env = e
        mdb_env_set_maxdbs(env, 4)
        mdb_env_set_mapsize(env, mapSize)
        try check(mdb_env_open(env, directory, UInt32(MDB_NOTLS), 0o600), "mdb_env_open")
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin")
        try check(mdb_dbi_open(txn, "events", UInt32(MDB_CREATE), &events), "mdb_dbi_open events")
        try check(mdb_dbi_open(txn, "state", UInt32(MDB_CREATE), &state), "mdb_dbi_open state")
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
    }

    deinit { mdb_env_close(env) }

    /// One write transaction: every event under its seq key (MDB_APPEND) and its state entry.
    func write(_ batch: ArraySlice<RawEvent>) throws {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin")
        for event in batch {
            var seqKey = event.seq.bigEndian
            var rc = withUnsafeMutableBytes(of: &seqKey) { kb in
                event.record.withUnsafeBytes { vb in
                    var k = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                    var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
                    return mdb_put(txn, events, &k, &v, UInt32(MDB_APPEND))
                }
            }
            try check(rc, "mdb_put events")
            rc = withUnsafeMutableBytes(of: &seqKey) { vb in
                event.stateKey.withUnsafeBytes { kb in
                    var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
                    var v = MDB_val(mv_size: vb.count, mv_data: vb.baseAddress)
                    return mdb_put(txn, state, &k, &v, 0)
                }
            }
            try check(rc, "mdb_put state")
        }
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
    }
}

/// The bytes an Orca append of one event writes: the encoded record and the object's state key.
struct RawEvent {
    var seq: UInt64
    var record: [UInt8]
    var stateKey: [UInt8]
}

struct RawError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

func check(_ rc: Int32, _ what: String) throws {
    guard rc == 0 else { throw RawError(message: "\(what): \(String(cString: mdb_strerror(rc)))") }
}
