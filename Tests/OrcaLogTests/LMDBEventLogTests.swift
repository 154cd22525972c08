import Foundation
import OrcaAPI
@testable import OrcaLMDB
import OrcaLog
import Synchronization
import Testing

@Suite("LMDB event log")
struct LMDBEventLogTests {
    @Test("appended records read back in order with their provenance, and survive a reopen")
    func appendReadReopen() async throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("data")
        do {
            let log = try LMDBEventLog(path: path)
            #expect(try log.latestSeq() == 0)
            let records = try await log.append([podDraft("a"), podDraft("b", actor: "controller/replicaset", cause: 1)])
            #expect(records.map(\.seq) == [1, 2])
            #expect(records[1].object[path: ["metadata", "resourceVersion"]] == "2")
        }
        let reopened = try LMDBEventLog(path: path)
        let all = try reopened.readAll()
        #expect(all.map(\.name) == ["a", "b"])
        #expect(all[1].actor == "controller/replicaset")
        #expect(all[1].cause == 1)
        #expect(all[0].cause == nil)
        #expect(all[0].time == Timestamp(seconds: 1_767_225_600))
        #expect(try reopened.read(from: 2, limit: 10).map(\.seq) == [2])
        #expect(try reopened.current(ObjectKey(kind: "Pod", namespace: "default", name: "a"))?.seq == 1)
    }

    @Test("a record read from the log keeps its object encoded until used: fields read alone, the object built once for every copy")
    func lazyObjects() async throws {
        let dir = TemporaryDirectory()
        let written: [EventRecord]
        do {
            let writer = try LMDBEventLog(path: dir.sub("data"))
            written = try await writer.append([podDraft("a"), podDraft("b")])
            // The writing process hands its own committed records back without decoding them.
            #expect(try writer.read(from: 1, limit: 10) == written)
            #expect(try writer.read(from: 1, limit: 10).allSatisfy(\.isDecoded))
        }
        // Another process (here: a reopen) reads them from the bytes.
        let log = try LMDBEventLog(path: dir.sub("data"))
        let read = try log.read(from: 1, limit: 10)
        #expect(read.count == 2)
        let a = read[0]
        #expect(!a.isDecoded)
        // Field reads (including the stamped resourceVersion) match the tree and build nothing.
        for path in [["metadata", "name"], ["metadata", "resourceVersion"], ["spec", "containers"], ["kind"], ["spec", "nope"]] {
            #expect(a.value(at: path) == written[0].object[path: path], "\(path)")
        }
        #expect(a.value(at: ["metadata", "resourceVersion"]) == "1")
        #expect(!a.isDecoded)
        let copy = a
        #expect(a.object == written[0].object)
        #expect(a.isDecoded && copy.isDecoded)
        #expect(read == written)
        // Mutating a copy's object changes that copy only.
        var changed = copy
        changed.object[path: ["metadata", "name"]] = "z"
        #expect(changed.value(at: ["metadata", "name"]) == "z")
        #expect(a.value(at: ["metadata", "name"]) == "a")
    }

    @Test("fields of array elements read from the encoded object agree with the built tree")
    func elementFields() async throws {
        let dir = TemporaryDirectory()
        var draft = podDraft("a")
        draft.object[path: ["metadata", "ownerReferences"]] = [
            ["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u-1", "controller": true],
            "not an object",
            ["uid": "u-2", "a key outside the dictionary": ["nested": [1, 2.5, nil]]],
            ["controller": false, "uid": "u-3", "blockOwnerDeletion": true],
        ]
        do {
            let writer = try LMDBEventLog(path: dir.sub("data"))
            _ = try await writer.append([draft])
        }
        let log = try LMDBEventLog(path: dir.sub("data"))
        guard let record = try log.read(from: 1, limit: 1).first else { Issue.record("nothing read"); return }
        let fields = ["controller", "uid", "a key outside the dictionary"]
        let path = ["metadata", "ownerReferences"]
        let encoded = record.fields(fields, ofElementsAt: path)
        #expect(!record.isDecoded)
        #expect(encoded?.count == 4)
        #expect(encoded?[0] == [true, "u-1", nil])
        #expect(encoded?[1] == [nil, nil, nil])
        #expect(encoded?[2] == [nil, "u-2", ["nested": [1, 2.5, nil]]])
        #expect(encoded?[3] == [false, "u-3", nil])
        #expect(record.fields(fields, ofElementsAt: ["metadata", "name"]) == nil)  // not an array
        #expect(record.fields(fields, ofElementsAt: ["metadata", "nope"]) == nil)
        _ = record.object
        #expect(record.isDecoded)
        #expect(record.fields(fields, ofElementsAt: path) == encoded)
    }

    @Test("scan reads every record once, in order, in the same batches as reading one after another, while reading ahead; stopping early stops")
    func scanReadsAhead() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        let drafts = (0..<10_000).map { i in
            podDraft("p\(i % 500)", type: i < 500 ? .added : (i % 7 == 0 ? .deleted : .modified), time: 1_767_225_600 + Int64(i))
        }
        _ = try await log.appendBatch(drafts)
        var seen: [UInt64] = []
        var sizes: [Int] = []
        try log.scan(batchSize: 4096) { batch in
            seen += batch.map(\.seq)
            sizes.append(batch.count)
            return true
        }
        #expect(seen.count == 10_000 && seen.first == 1 && zip(seen, seen.dropFirst()).allSatisfy { $0 + 1 == $1 })
        #expect(sizes == [4096, 4096, 1808])
        var calls = 0
        var firstSeqs: [UInt64] = []
        try log.scan(from: 5_000, batchSize: 1_000) { batch in
            calls += 1
            firstSeqs.append(batch.first?.seq ?? 0)
            return calls < 2
        }
        #expect(calls == 2 && firstSeqs == [5_000, 6_000])
        // What is built on scan: the state at a seq, every record, the seq as of a time.
        let all = try log.readAll()
        #expect(all.map(\.seq) == seen)
        let atSeq = try EventLogProjection.state(of: log, atSeq: 7_000)
        #expect(atSeq.mapValues(\.seq) == EventLogProjection.fold(all.prefix(7_000)).mapValues(\.seq))
        #expect(!atSeq.isEmpty)
        #expect(try log.lastSeq(atOrBefore: all[5_999].time) == 6_000)
        #expect(try log.lastSeq(atOrBefore: Timestamp(seconds: 0)) == 0)
    }

    @Test("the data directory is created with mode 0700")
    func directoryMode() throws {
        let dir = TemporaryDirectory()
        _ = try LMDBEventLog(path: dir.sub("data"))
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.sub("data"))
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
    }

    @Test("a failing transaction body appends nothing, and does not affect its neighbours in the group")
    func rollback() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        struct Boom: Error {}
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    _ = try? await log.transact { txn in
                        try txn.append(podDraft("p\(i)"))
                        if i % 2 == 1 { throw Boom() }
                    }
                }
            }
        }
        let all = try log.readAll()
        #expect(all.count == 10)
        #expect(all.map(\.seq) == Array(1...10))
        #expect(Set(all.map(\.name)) == Set((0..<20).filter { $0 % 2 == 0 }.map { "p\($0)" }))
    }

    @Test("a body run without a nested transaction that fails aborts its commit; the others of the group run again without it")
    func unnestedFailure() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        struct Boom: Error {}
        let outcomes = Mutex<[String: [Bool]]>([:])
        func request(_ name: String, nested: Bool, fails: Bool = false) -> LMDBWriter.Request {
            LMDBWriter.Request(
                run: { txn in
                    _ = try txn.append(podDraft(name))
                    if fails { throw Boom() }
                },
                complete: { error in outcomes.withLock { $0[name, default: []].append(error == nil) } },
                nested: nested)
        }
        log.writer.process([request("a", nested: true), request("b", nested: false), request("c", nested: false, fails: true),
                            request("d", nested: true)])
        // Every request completes exactly once.
        #expect(outcomes.withLock { $0 } == ["a": [true], "b": [true], "c": [false], "d": [true]])
        let all = try log.readAll()
        #expect(all.map(\.name) == ["a", "b", "d"])
        #expect(all.map(\.seq) == [1, 2, 3])
        #expect(try log.current(ObjectKey(kind: "Pod", namespace: "default", name: "c")) == nil)
        try await log.append([podDraft("e")])
        #expect(try log.latestSeq() == 4)
    }

    @Test("16 concurrent writers: every acknowledged append is present, seqs are contiguous, commits are shared; a lone writer after them is not held back waiting for a group",
          .timeLimit(.minutes(1)))
    func concurrentWriters() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<16 {
                group.addTask {
                    for i in 0..<25 { try await log.append([podDraft("w\(w)-\(i)")]) }
                }
            }
            try await group.waitForAll()
        }
        let all = try log.readAll()
        #expect(all.count == 400)
        #expect(all.map(\.seq) == Array(1...400))
        #expect(Set(all.map(\.name)).count == 400)
        let grouped = log.commitStatistics
        #expect(grouped.transactions == 400)
        #expect(grouped.commits < 400, "16 concurrent writers never shared a commit")
        // The writer still expects groups of 16 here: it must neither wait for them forever nor
        // hold a lone append back for a second one.
        for i in 0..<20 { try await log.append([podDraft("lone-\(i)")]) }
        #expect(log.commitStatistics.transactions - grouped.transactions == 20)
        #expect(try log.latestSeq() == 420)
    }

    @Test("lastRecord(atOrBefore:where:) searches backwards across read batches")
    func lastRecordBackwards() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        // "a" at seqs 1 and 5,000 (more than one 4,096-record batch apart), "b" everywhere else.
        let drafts = (1...9_000).map { seq in podDraft(seq == 1 || seq == 5_000 ? "a" : "b", type: seq <= 2 ? .added : .modified) }
        _ = try await log.appendBatch(drafts)
        let a = ObjectKey(kind: "Pod", namespace: "default", name: "a")
        #expect(try log.lastRecord(atOrBefore: 9_000) { $0.key == a }?.seq == 5_000)
        #expect(try log.lastRecord(atOrBefore: 5_000) { $0.key == a }?.seq == 5_000)
        #expect(try log.lastRecord(atOrBefore: 4_999) { $0.key == a }?.seq == 1)
        #expect(try log.lastRecord(atOrBefore: 99_999) { $0.key == a }?.seq == 5_000)  // past the end: from the end
        #expect(try log.lastRecord(atOrBefore: 0) { $0.key == a } == nil)
        #expect(try log.lastRecord(atOrBefore: 9_000) { $0.name == "c" } == nil)
        #expect(try log.lastRecord(atOrBefore: 4_097) { $0.name == "b" }?.seq == 4_097)
    }

    @Test("the projection equals a fold of the log, after creates, updates and deletes")
    func projectionIsFold() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        var rng = SeededGenerator(seed: 42)
        for _ in 0..<300 {
            let name = "p\(Int.random(in: 0..<20, using: &rng))"
            let existing = try log.current(ObjectKey(kind: "Pod", namespace: "default", name: name))
            let type: EventType = existing == nil ? .added : (Bool.random(using: &rng) ? .modified : .deleted)
            try await log.append([podDraft(name, type: type)])
        }
        let folded = EventLogProjection.fold(try log.readAll())
        let listed = try log.list(kind: "Pod", namespace: nil).records
        #expect(Dictionary(uniqueKeysWithValues: listed.map { ($0.key, $0) }) == folded)
        #expect(listed.map(\.key) == listed.map(\.key).sorted())
        #expect(try log.list(kind: "Pod", namespace: "other").records.isEmpty)
    }

    @Test("the map grows on its own instead of failing with MDB_MAP_FULL")
    func mapGrows() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"), options: .init(initialMapSize: 1 << 20))
        let big = JSONValue.string(String(repeating: "x", count: 4000))
        for batch in 0..<20 {
            try await log.append((0..<50).map { podDraft("p\(batch)-\($0)", extra: ["blob": big]) })
        }
        #expect(try log.latestSeq() == 1000)
        #expect(log.fileSize > 4_000_000)
    }

    @Test("inline commits: writes commit on the caller's thread, a failing body appends nothing, the map grows, and a reopen sees everything",
          arguments: [false, true])
    func inlineCommits(writeMap: Bool) async throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("data")
        do {
            let log = try LMDBEventLog(path: path, options: .init(initialMapSize: 1 << 20, durability: .unsynced, commits: .inline,
                                                                  writeMap: writeMap))
            struct Boom: Error {}
            let big = JSONValue.string(String(repeating: "x", count: 4000))
            for i in 0..<400 {
                _ = try? await log.transact { txn in
                    try txn.append(podDraft("p\(i)", extra: ["blob": big]))
                    if i % 4 == 3 { throw Boom() }
                }
            }
            let range = try await log.appendBatch([podDraft("q1"), podDraft("q2")])
            #expect(range == 301...302)
            // Reads in the writing process (served from its recent records) never show a record
            // of an aborted body, whose seq the next body took.
            let names = try log.read(from: 1, limit: 1000).map(\.name)
            #expect(names == (0..<400).filter { $0 % 4 != 3 }.map { "p\($0)" } + ["q1", "q2"])
            try log.sync()
            if writeMap {
                // Write-mapped, the file is as large as the map until the log is closed.
                let mapped = log.fileSize
                #expect(mapped >= 2 << 20 && mapped.nonzeroBitCount == 1, "the map grew past its first 1 MiB: \(mapped)")
                log.close()
                #expect(log.fileSize < mapped && log.fileSize % 4096 == 0, "closing cut the file to its pages in use: \(log.fileSize)")
                #expect(throws: LogError.self) { try log.latestSeq() }
            }
        }
        let reopened = try LMDBEventLog(path: path)
        let all = try reopened.readAll()
        #expect(all.map(\.seq) == Array(1...302))
        #expect(all.filter { $0.name.hasPrefix("p") }.map(\.name) == (0..<400).filter { $0 % 4 != 3 }.map { "p\($0)" })
    }

    @Test("watch delivers every record after the start seq, in order, including later appends")
    func watch() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        try await log.append((0..<5).map { podDraft("a\($0)") })
        let reader = Task {
            var seen: [UInt64] = []
            for try await record in log.watch(from: 2) {
                seen.append(record.seq)
                if seen.count == 13 { break }
            }
            return seen
        }
        for i in 0..<10 { try await log.append([podDraft("b\(i)")]) }
        #expect(try await reader.value == Array(3...15))
    }

    @Test("a watch resumed after a restart continues exactly where it stopped")
    func watchAcrossRestart() async throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("data")
        var lastSeen: UInt64 = 0
        do {
            let log = try LMDBEventLog(path: path)
            try await log.append((0..<4).map { podDraft("a\($0)") })
            for try await record in log.watch(from: 0) {
                lastSeen = record.seq
                if record.seq == 2 { break }
            }
        }
        let log = try LMDBEventLog(path: path)
        try await log.append([podDraft("late")])
        var rest: [String] = []
        for try await record in log.watch(from: lastSeen) {
            rest.append(record.name)
            if rest.count == 3 { break }
        }
        #expect(rest == ["a2", "a3", "late"])
    }

    @Test("appendBatch encodes before the seq is known and reads back exactly as the records its drafts become, in order, across parallel decoding")
    func appendBatchMatchesRecords() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        _ = try await log.append([podDraft("before")])
        var drafts = (0..<700).map { podDraft("p\($0)", namespace: "ns\($0 % 3)", cause: $0 % 2 == 0 ? nil : UInt64($0)) }
        // An object that already has a resourceVersion keeps its place for it; an import keeps its own.
        var stamped = podDraft("has-rv")
        stamped.object[path: ["metadata", "resourceVersion"]] = "old"
        stamped.object[path: ["metadata", "labels"]] = ["a": "b"]
        drafts.append(stamped)
        var imported = podDraft("imported")
        imported.object[path: ["metadata", "resourceVersion"]] = "12345"
        imported.stampResourceVersion = false
        drafts.append(imported)
        drafts.append(podDraft("p5", namespace: "ns2", type: .deleted))
        let range = try #require(try await log.appendBatch(drafts))
        #expect(range == 2...UInt64(drafts.count + 1))
        #expect(try await log.appendBatch([]) == nil)

        let records = try log.read(from: 2, limit: 10_000)
        #expect(records == drafts.enumerated().map { $1.record(seq: UInt64($0 + 2)) })
        let hasRV = try #require(records.first { $0.name == "has-rv" })
        #expect(hasRV.object["metadata"]?.objectValue?.keys == ["name", "namespace", "uid", "resourceVersion", "labels"])
        #expect(hasRV.object[path: ["metadata", "resourceVersion"]] == .string(String(hasRV.seq)))
        #expect(records.first { $0.name == "imported" }?.object[path: ["metadata", "resourceVersion"]] == "12345")
        #expect(try log.current(ObjectKey(kind: "Pod", namespace: "ns2", name: "p5")) == nil)
        #expect(try log.current(ObjectKey(kind: "Pod", namespace: "ns1", name: "p4"))?.seq == 6)
        // Small reads decode on one thread, large ones on several: both give the same records.
        var oneByOne: [EventRecord] = []
        for seq in 1...(try log.latestSeq()) { oneByOne += try log.read(from: seq, limit: 1) }
        #expect(oneByOne == (try log.readAll()))
    }
}

/// A small deterministic generator (SplitMix64) for reproducible test inputs.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

}
