import CMalloc
import Foundation
import Orca
import OrcaLMDB

/// (a) Batched append: Orca's append path against a raw LMDB loop writing the same bytes.
///
/// Orca's figure includes encoding the drafts (the raw loop writes bytes encoded beforehand) and
/// is measured with one appending task (encoding and writing in sequence) and with two (one
/// batch is encoded on a caller while the writer thread commits another, as concurrent writers
/// do). Both use `appendBatch`, the bulk path imports use.
func benchAppend(events: Int, batch: Int, runs: Int) async throws {
    print("## (a) batched append: \(grouped(Double(events))) Pod events, \(batch) per transaction, durable")
    let drafts = (0..<events).map { Fixture.draft(Fixture.pod($0), second: Int64($0)) }
    var raw: [RawEvent] = []
    let prepareTime = Measure.seconds {
        raw = drafts.enumerated().map { i, draft in
            let (bytes, key) = RecordCodec.encode(draft)
            return RawEvent(seq: UInt64(i + 1), record: bytes,
                            stateKey: Array(key.kind.utf8) + [0] + Array(key.namespace.utf8) + [0] + Array(key.name.utf8))
        }
    }
    print("encoding alone (one thread): \(grouped(Double(events) / prepareTime)) events/s")
    let bytes = raw.reduce(0) { $0 + $1.record.count + 8 + $1.stateKey.count + 8 }
    let batches = stride(from: 0, to: events, by: batch).map { Array(drafts[$0..<min($0 + batch, events)]) }
    var oneRates: [Double] = []
    var twoRates: [Double] = []
    var rawRates: [Double] = []
    for run in 0..<runs {
        for appenders in [1, 2] {
            let dir = Measure.temporaryDirectory("append-\(run)-\(appenders)")
            let log = try LMDBEventLog(path: dir, options: .init(initialMapSize: 8 << 30))
            let time = try await Measure.seconds {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for a in 0..<appenders {
                        group.addTask {
                            for b in stride(from: a, to: batches.count, by: appenders) { _ = try await log.appendBatch(batches[b]) }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            guard try log.latestSeq() == UInt64(events) else { throw RawError(message: "the log holds the wrong number of events") }
            Measure.remove(dir)
            if appenders == 1 { oneRates.append(Double(events) / time) } else { twoRates.append(Double(events) / time) }
        }

        let rawDir = Measure.temporaryDirectory("raw-\(run)")
        let env = try RawLMDB(directory: rawDir, mapSize: 8 << 30)
        let rawTime = try Measure.seconds {
            var i = 0
            while i < raw.count {
                try env.write(raw[i..<min(i + batch, raw.count)])
                i += batch
            }
        }
        Measure.remove(rawDir)
        rawRates.append(Double(events) / rawTime)
    }
    let one = Measure.median(oneRates)
    let two = Measure.median(twoRates)
    let rawRate = Measure.median(rawRates)
    print("bytes written per event (record + keys + state entry): \(bytes / events)")
    print("orca appendBatch, 1 appender:  \(grouped(one)) events/s  runs \(runsText(oneRates))")
    print("orca appendBatch, 2 appenders: \(grouped(two)) events/s  runs \(runsText(twoRates))")
    print("raw LMDB loop (pre-encoded):   \(grouped(rawRate)) events/s  runs \(runsText(rawRates))")
    print("ratio orca/raw (medians): 1 appender \(fixed(one / rawRate)), 2 appenders \(fixed(two / rawRate))   target >= 0.70")
    print()
}

/// (b) Durable single-event appends from concurrent writers (group commit) against one commit,
/// and so one fsync, per append.
func benchGroupCommit(writers: Int, perWriter: Int, sequential: Int, runs: Int) async throws {
    print("## (b) durable single-event appends: \(writers) concurrent writers vs one fsync per append")
    let pods = (0..<max(writers * perWriter, sequential)).map { Fixture.pod($0) }
    var groupRates: [Double] = []
    var singleRates: [Double] = []
    var rawSingleRates: [Double] = []
    var rawGroupRates: [Double] = []
    var batchSizes: [Double] = []
    for run in 0..<runs {
        let dir = Measure.temporaryDirectory("group-\(run)")
        let log = try LMDBEventLog(path: dir)
        let groupTime = try await Measure.seconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<writers {
                    group.addTask {
                        for j in 0..<perWriter {
                            let n = w * perWriter + j
                            try await log.append([Fixture.draft(pods[n], second: Int64(n))])
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        guard try log.latestSeq() == UInt64(writers * perWriter) else { throw RawError(message: "lost appends") }
        let stats = log.commitStatistics
        batchSizes.append(Double(stats.transactions) / Double(max(stats.commits, 1)))
        Measure.remove(dir)
        groupRates.append(Double(writers * perWriter) / groupTime)
        // GROUP_ONLY=1: only the 16 writers (for profiles of the group-commit path).
        if ProcessInfo.processInfo.environment["GROUP_ONLY"] != nil { continue }

        let dir2 = Measure.temporaryDirectory("single-\(run)")
        let log2 = try LMDBEventLog(path: dir2)
        let singleTime = try await Measure.seconds {
            for n in 0..<sequential { try await log2.append([Fixture.draft(pods[n], second: Int64(n))]) }
        }
        Measure.remove(dir2)
        singleRates.append(Double(sequential) / singleTime)

        // The floor: the same single-event commits on a bare LMDB environment, pre-encoded.
        let rawDir = Measure.temporaryDirectory("raw-single-\(run)")
        let env = try RawLMDB(directory: rawDir, mapSize: 1 << 30)
        let events = (0..<sequential).map { n in
            let (bytes, key) = RecordCodec.encode(Fixture.draft(pods[n], second: Int64(n)))
            return RawEvent(seq: UInt64(n + 1), record: bytes,
                            stateKey: Array(key.kind.utf8) + [0] + Array(key.namespace.utf8) + [0] + Array(key.name.utf8))
        }
        let rawTime = try Measure.seconds { for i in events.indices { try env.write(events[i...i]) } }
        Measure.remove(rawDir)
        rawSingleRates.append(Double(sequential) / rawTime)
        let rawDir16 = Measure.temporaryDirectory("raw-16-\(run)")
        let env16 = try RawLMDB(directory: rawDir16, mapSize: 1 << 30)
        let raw16Time = try Measure.seconds {
            for i in stride(from: 0, to: events.count, by: writers) { try env16.write(events[i..<min(i + writers, events.count)]) }
        }
        Measure.remove(rawDir16)
        rawGroupRates.append(Double(sequential) / raw16Time)
    }
    guard !singleRates.isEmpty else {
        print("\(writers) writers, group commit: \(grouped(Measure.median(groupRates))) appends/s  runs \(runsText(groupRates))")
        return
    }
    print("raw LMDB, one commit per event:     \(grouped(Measure.median(rawSingleRates))) events/s  runs \(runsText(rawSingleRates))")
    print("raw LMDB, \(writers) events per commit: \(grouped(Measure.median(rawGroupRates))) events/s  runs \(runsText(rawGroupRates))")
    print("  (the physical ceiling of the ratio below on this disk: \(fixed(Measure.median(rawGroupRates) / Measure.median(rawSingleRates), 1))x)")
    let g = Measure.median(groupRates)
    let s = Measure.median(singleRates)
    print("average appends per commit with \(writers) writers: \(batchSizes.map { fixed($0, 1) }.joined(separator: ", "))")
    print("\(writers) writers, group commit: \(grouped(g)) appends/s  runs \(runsText(groupRates))")
    print("one writer, one fsync each:  \(grouped(s)) appends/s  runs \(runsText(singleRates))")
    print("ratio (medians): \(fixed(g / s, 1))x   target >= 10x")
    print()
}

/// (c) Scanning and decoding a log of Pod events, and Foundation's JSONDecoder on the same objects.
/// (d) Resident memory per cached Pod, from the same log.
func benchScanAndMemory(events: Int, distinct: Int, runs: Int, jsonSample: Int) async throws {
    print("## (c) scan + decode a \(grouped(Double(events)))-event log of Pod-sized objects (\(grouped(Double(distinct))) distinct pods)")
    // SCAN_LOG=DIR keeps the log in DIR and reuses it on later runs (as INFORMER_LOG does for (e)).
    let kept = ProcessInfo.processInfo.environment["SCAN_LOG"]
    let dir = kept ?? Measure.temporaryDirectory("scan")
    defer { if kept == nil { Measure.remove(dir) } }
    if let kept, FileManager.default.fileExists(atPath: kept + "/data.mdb") {
        print("reusing the log in \(kept)")
    } else {
        let writer = try LMDBEventLog(path: dir, options: .init(initialMapSize: 8 << 30, durability: .unsynced))
        let buildTime = try await Measure.seconds {
            try await Fixture.writePodHistory(to: writer, events: events, distinct: distinct)
            try writer.sync()
        }
        print("built in \(fixed(buildTime, 1)) s; log file \(grouped(Double(writer.fileSize) / 1e6)) MB")
    }
    let log = try LMDBEventLog(path: dir, options: .init(create: false))
    guard try log.latestSeq() == UInt64(events) else { throw RawError(message: "the log at \(dir) does not hold \(events) events") }
    // Two consumers of the same scan. "fields": what an informer or a replay query does — every
    // record read and checked in full, then four fields of each object read (the objects stay
    // encoded). "build": every object tree built as well.
    // "nothing": the records read and checked, no field read — the reading side alone, to show
    // which side bounds the other two (the body's own time is also noted).
    enum Consumer { case nothing, fields, build }
    var bodyShares: [Double] = []
    func scan(_ consumer: Consumer) throws -> Double {
        let buildObjects = consumer == .build
        var count = 0
        var fields = 0
        var inBody: UInt64 = 0
        // EventLog.scan: what replay (`--at-seq`), export and readAll use; the next batch is read
        // and checked on other threads while this one's fields are read.
        let t = try Measure.seconds {
            try log.scan { batch in
                let start = DispatchTime.now().uptimeNanoseconds
                defer { inBody += DispatchTime.now().uptimeNanoseconds - start }
                count += batch.count
                if consumer == .nothing { return true }
                for record in batch {
                    if buildObjects {
                        fields += record.object.objectValue?.count ?? 0
                    } else {
                        if record.value(at: ["spec", "nodeName"])?.stringValue != nil { fields += 1 }
                        if record.value(at: ["status", "phase"])?.stringValue != nil { fields += 1 }
                        if record.value(at: ["metadata", "ownerReferences"])?.arrayValue != nil { fields += 1 }
                        if record.value(at: ["metadata", "uid"])?.stringValue != nil { fields += 1 }
                        if !record.isDecoded { fields += 1 }
                    }
                }
                return true
            }
        }
        guard count == events, consumer == .nothing || fields == events * 5 else {
            throw RawError(message: "scan saw \(count) events, \(fields) fields")
        }
        if consumer == .fields { bodyShares.append(Double(inBody) / 1e9 / t) }
        return Double(events) / t
    }
    var readRates: [Double] = []
    var fieldRates: [Double] = []
    var buildRates: [Double] = []
    for _ in 0..<runs {
        readRates.append(try scan(.nothing))
        fieldRates.append(try scan(.fields))
        buildRates.append(try scan(.build))
    }
    let scan = Measure.median(fieldRates)
    let build = Measure.median(buildRates)
    print("orca scan + check, nothing read:         \(grouped(Measure.median(readRates))) events/s  runs \(runsText(readRates))")
    print("orca scan + check + 4 fields per object: \(grouped(scan)) events/s  runs \(runsText(fieldRates))")
    print("  (share of that scan's time spent reading fields, per pass: \(bodyShares.map { fixed($0) }.joined(separator: ", ")))")
    print("orca scan + check + every object built:  \(grouped(build)) events/s  runs \(runsText(buildRates))")

    // The baseline: the very same objects as JSON, decoded by Foundation into Codable structs.
    let sample = try log.read(from: 1, limit: jsonSample)
    let jsonDocs = sample.map { Data($0.object.jsonString().utf8) }
    let decoder = JSONDecoder()
    var jsonRates: [Double] = []
    for _ in 0..<runs {
        var checksum = 0
        let t = try Measure.seconds {
            for doc in jsonDocs { checksum &+= try decoder.decode(CodablePod.self, from: doc).spec.containers.count }
        }
        guard checksum == jsonDocs.count else { throw RawError(message: "JSONDecoder decoded the wrong objects") }
        jsonRates.append(Double(jsonDocs.count) / t)
    }
    let json = Measure.median(jsonRates)
    let avgJSON = jsonDocs.reduce(0) { $0 + $1.count } / jsonDocs.count
    print("Foundation JSONDecoder (Codable Pod, \(grouped(Double(jsonDocs.count))) objects, \(avgJSON) B JSON each): \(grouped(json)) objects/s  runs \(runsText(jsonRates))")
    print("ratio to JSONDecoder (medians): fields \(fixed(scan / json, 1))x, every object built \(fixed(build / json, 1))x   targets: >= 300,000 events/s and >= 20x")
    print()

    print("## (d) resident memory per cached Pod (\(grouped(Double(distinct))) pods decoded from the log into a key -> record cache)")
    var cache: [ObjectKey: EventRecord] = [:]
    cache.reserveCapacity(distinct)
    // Give freed memory back to the OS first, so the RSS delta is the cache's own growth.
    malloc_trim(0)
    let rss0 = Measure.residentBytes()
    let heap0 = Measure.mallocInUse()
    var next: UInt64 = 1
    while cache.count < distinct {
        let batch = try log.read(from: next, limit: 4096)
        guard let last = batch.last else { break }
        for record in batch where record.seq <= UInt64(distinct) { cache[record.key] = record }
        next = last.seq + 1
    }
    malloc_trim(0)
    let rss1 = Measure.residentBytes()
    let heap1 = Measure.mallocInUse()
    guard cache.count == distinct else { throw RawError(message: "cache holds \(cache.count) pods") }
    print("as read (objects still encoded): RSS delta \(grouped(Double(rss1 - rss0) / Double(distinct))) B per pod; malloc in use \(grouped(Double(heap1 - heap0) / Double(distinct))) B per pod")
    // Every object built (what a cache costs once its readers have touched every object).
    var built = 0
    for record in cache.values { built += record.object.objectValue?.count ?? 0 }
    guard built == distinct * 5 else { throw RawError(message: "built \(built) fields") }
    malloc_trim(0)
    let rss2 = Measure.residentBytes()
    let heap2 = Measure.mallocInUse()
    print("every object built: RSS delta \(grouped(Double(rss2 - rss0) / Double(distinct))) B per pod; malloc in use \(grouped(Double(heap2 - heap0) / Double(distinct))) B per pod")
    let binary = sample.reduce(0) { $0 + BinaryCodec.encode($1.object).count } / sample.count
    print("for scale: \(avgJSON) B as JSON, \(binary) B in the log's binary encoding")
    withExtendedLifetime(cache) {}
    print()
}
