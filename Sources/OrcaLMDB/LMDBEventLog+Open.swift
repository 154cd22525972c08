import CLMDB
import Foundation
import OrcaLog

extension LMDBEventLog {
    /// How to open a data directory.
    public struct Options: Sendable {
        /// Create the directory (mode 0700) and a new log when there is none.
        public var create: Bool
        /// The map size to start with; it grows on its own when full.
        public var initialMapSize: Int
        /// `durable` (the default) fsyncs every commit; `unsynced` leaves flushing to the OS,
        /// for throwaway simulations only: a crash can lose acknowledged writes.
        public var durability: Durability

        public enum Durability: Sendable { case durable, unsynced }

        /// `grouped` (the default): writes are committed by the log's writer thread, concurrent
        /// writers sharing commits (group commit). `inline`: each write commits on the caller's
        /// thread, blocking it — for one sequential writer such as a simulation, where the hand-off
        /// to the writer thread and back costs more than the commit itself.
        public var commits: Commits

        public enum Commits: Sendable { case grouped, inline }

        /// Write through a writable memory map (`MDB_WRITEMAP`): a commit changes pages in place
        /// instead of copying every dirty page to the file with `pwrite`. Honoured only with
        /// `unsynced` durability and `inline` commits (a simulation), where each write is its own
        /// top-level transaction. The data file is as large as the map (sparse) until
        /// ``LMDBEventLog/trimToUsedSize()``.
        public var writeMap: Bool

        public init(create: Bool = true, initialMapSize: Int = 1 << 30, durability: Durability = .durable,
                    commits: Commits = .grouped, writeMap: Bool = false) {
            self.create = create
            self.initialMapSize = initialMapSize
            self.durability = durability
            self.commits = commits
            self.writeMap = writeMap
        }

        var usesWriteMap: Bool { writeMap && durability == .unsynced && commits == .inline }
    }

    static func openEnvironment(at path: String, options: Options) throws(LogError) -> LMDBEnvironment {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let dataPath = path + "/" + LMDBEnvironment.dataFile
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw LogError(.notAnOrcaLog, "\(path) is a file, not an Orca data directory; pass a directory with --data", path: path)
            }
            let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? []
            if !contents.contains(LMDBEnvironment.dataFile) {
                if !contents.isEmpty {
                    throw LogError(.notAnOrcaLog, "\(path) is not an Orca data directory: it holds other files and no \(LMDBEnvironment.dataFile); pass an empty or new directory with --data", path: path)
                }
                guard options.create else {
                    throw LogError(.notFound, "there is no Orca log in \(path); create one with `orca apply` or `orca import`, or pass --data", path: path)
                }
            } else {
                try checkDataFile(dataPath, directory: path)
            }
        } else {
            guard options.create else {
                throw LogError(.notFound, "there is no Orca log at \(path); create one with `orca apply` or `orca import`, or pass --data", path: path)
            }
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw LogError(.io, "cannot create the data directory \(path): \(error.localizedDescription)", path: path)
            }
        }

        var envPointer: OpaquePointer?
        var rc = mdb_env_create(&envPointer)
        guard rc == 0, let env = envPointer else {
            throw LogError(.io, "cannot create an LMDB environment for \(path): \(LMDBEnvironment.message(rc))", path: path)
        }
        let fileSize = (try? fm.attributesOfItem(atPath: dataPath)[.size] as? Int) ?? 0
        var mapSize = max(options.initialMapSize, 1 << 20)
        while mapSize < fileSize * 2 { mapSize *= 2 }
        mdb_env_set_maxdbs(env, 4)
        mdb_env_set_mapsize(env, mapSize)
        var flags = UInt32(MDB_NOTLS)
        if options.durability == .unsynced { flags |= UInt32(MDB_NOSYNC) }
        if options.usesWriteMap { flags |= UInt32(MDB_WRITEMAP) | UInt32(MDB_MAPASYNC) }
        rc = mdb_env_open(env, path, flags, 0o600)
        guard rc == 0 else {
            mdb_env_close(env)
            if rc == MDB_INVALID {
                throw LogError(.corrupt, "\(dataPath) is not a valid LMDB file (its header is damaged); restore it from a backup or re-import its history", path: path)
            }
            if rc == MDB_VERSION_MISMATCH {
                throw LogError(.newerFormat, "\(dataPath) was written by an incompatible LMDB version; open it with the Orca that wrote it and export it with `orca export`", path: path)
            }
            throw LogError(.io, "cannot open the Orca log at \(path): \(LMDBEnvironment.message(rc))", path: path)
        }

        // A file shorter than its last committed page was truncated; reading it would fault.
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        var stat = MDB_stat()
        mdb_env_stat(env, &stat)
        let actualSize = (try? fm.attributesOfItem(atPath: dataPath)[.size] as? Int) ?? 0
        if actualSize < (info.me_last_pgno + 1) * Int(stat.ms_psize) {
            mdb_env_close(env)
            throw LogError(.corrupt, "\(dataPath) is truncated: it has \(actualSize) bytes but its last committed page ends at byte \((info.me_last_pgno + 1) * Int(stat.ms_psize)); restore it from a backup or re-import its history", path: path)
        }

        do {
            let (meta, events, state, format) = try openDatabases(env: env, path: path)
            return LMDBEnvironment(env: env, path: path, meta: meta, events: events, state: state, storedFormat: format,
                                   writeMap: options.usesWriteMap)
        } catch {
            mdb_env_close(env)
            throw error
        }
    }

    /// Rejects files that are not LMDB before LMDB maps them.
    static func checkDataFile(_ dataPath: String, directory: String) throws(LogError) {
        guard let handle = FileHandle(forReadingAtPath: dataPath) else {
            throw LogError(.io, "cannot read \(dataPath): permission denied or not a regular file", path: directory)
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 32)) ?? Data()
        guard header.count >= 32 else {
            throw LogError(.corrupt, "\(dataPath) is truncated (\(header.count) bytes); restore it from a backup or re-import its history", path: directory)
        }
        // An LMDB meta page: 16-byte page header, then the magic 0xBEEFC0DE (native endian).
        let magic = header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt32.self) }
        guard magic == 0xBEEF_C0DE else {
            throw LogError(.notAnOrcaLog, "\(dataPath) is not an Orca log (not an LMDB file); pass another directory with --data", path: directory)
        }
    }

    /// The databases, and the format version the log has stored.
    static func openDatabases(env: OpaquePointer, path: String) throws(LogError) -> (MDB_dbi, MDB_dbi, MDB_dbi, UInt64) {
        // Existing log: the meta database must say it is an Orca log of a format we read.
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
        guard rc == 0, let readTxn = txn else {
            throw LogError(.io, "cannot read the Orca log at \(path): \(LMDBEnvironment.message(rc))", path: path)
        }
        var meta: MDB_dbi = 0
        rc = mdb_dbi_open(readTxn, "meta", 0, &meta)
        if rc == 0 {
            let result = Result { () throws(LogError) in
                let format = try checkMeta(txn: readTxn, meta: meta, path: path)
                var events: MDB_dbi = 0, state: MDB_dbi = 0
                let rc1 = mdb_dbi_open(readTxn, "events", 0, &events)
                let rc2 = mdb_dbi_open(readTxn, "state", 0, &state)
                guard rc1 == 0, rc2 == 0 else {
                    throw LogError(.corrupt, "the Orca log at \(path) is missing its events or state database; restore it from a backup", path: path)
                }
                return (meta, events, state, format)
            }
            if case .success = result { mdb_txn_commit(readTxn) } else { mdb_txn_abort(readTxn) }
            return try result.get()
        }
        // No meta database: either a brand-new environment, or an LMDB file of another program.
        var mainDBI: MDB_dbi = 0
        var entries = 0
        if mdb_dbi_open(readTxn, nil, 0, &mainDBI) == 0 {
            var stat = MDB_stat()
            mdb_stat(readTxn, mainDBI, &stat)
            entries = stat.ms_entries
        }
        mdb_txn_abort(readTxn)
        guard rc == MDB_NOTFOUND, entries == 0 else {
            throw LogError(.notAnOrcaLog, "\(path) holds an LMDB database that is not an Orca log; pass another directory with --data", path: path)
        }
        let created = try createDatabases(env: env, path: path)
        return (created.0, created.1, created.2, LMDBEnvironment.formatVersion)
    }

    /// Checks the meta database and returns the stored format version.
    static func checkMeta(txn: OpaquePointer, meta: MDB_dbi, path: String) throws(LogError) -> UInt64 {
        func get(_ key: String) -> [UInt8]? { LMDBEnvironment.getMeta(key, txn: txn, meta: meta) }
        guard let magic = get("magic"), String(decoding: magic, as: UTF8.self) == LMDBEnvironment.magic else {
            throw LogError(.notAnOrcaLog, "\(path) holds an LMDB database that is not an Orca log; pass another directory with --data", path: path)
        }
        guard let format = get("format"), format.count == 8 else {
            throw LogError(.corrupt, "the Orca log at \(path) has no readable format version; restore it from a backup", path: path)
        }
        let version = format.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard version <= LMDBEnvironment.formatVersion else {
            throw LogError(.newerFormat, "the Orca log at \(path) has format version \(version), newer than this Orca reads (\(LMDBEnvironment.formatVersion)); upgrade Orca, or export it with the newer Orca and import it here", path: path)
        }
        return version
    }

    static func createDatabases(env: OpaquePointer, path: String) throws(LogError) -> (MDB_dbi, MDB_dbi, MDB_dbi) {
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, 0, &txn)
        guard rc == 0, let writeTxn = txn else {
            throw LogError(.io, "cannot create the Orca log at \(path): \(LMDBEnvironment.message(rc))", path: path)
        }
        var meta: MDB_dbi = 0, events: MDB_dbi = 0, state: MDB_dbi = 0
        rc = mdb_dbi_open(writeTxn, "meta", UInt32(MDB_CREATE), &meta)
        if rc == 0 { rc = mdb_dbi_open(writeTxn, "events", UInt32(MDB_CREATE), &events) }
        if rc == 0 { rc = mdb_dbi_open(writeTxn, "state", UInt32(MDB_CREATE), &state) }
        func put(_ key: String, _ value: [UInt8]) -> Int32 {
            // NOOVERWRITE: a concurrent creator may have won; its values are the same.
            let r = LMDBEnvironment.putMeta(key, value, txn: writeTxn, meta: meta, flags: UInt32(MDB_NOOVERWRITE))
            return r == MDB_KEYEXIST ? 0 : r
        }
        if rc == 0 { rc = put("magic", Array(LMDBEnvironment.magic.utf8)) }
        if rc == 0 { rc = put("format", LMDBKey.seq(LMDBEnvironment.formatVersion)) }
        if rc == 0 { rc = mdb_txn_commit(writeTxn) } else { mdb_txn_abort(writeTxn) }
        guard rc == 0 else {
            throw LogError(.io, "cannot create the Orca log at \(path): \(LMDBEnvironment.message(rc))", path: path)
        }
        return (meta, events, state)
    }
}
