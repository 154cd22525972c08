import Foundation
import Orca

/// Cost of the pieces of an append and a scan, per event, in steady state (results discarded),
/// median of 5 passes: for finding where time goes.
func benchMicro(events: Int) {
    print("## micro: per-event costs over \(grouped(Double(events))) pods (median of 5 passes)")
    let pods = (0..<events).map { Fixture.pod($0) }
    let drafts = pods.enumerated().map { Fixture.draft($1, second: Int64($0)) }
    let records = drafts.enumerated().map { $1.record(seq: UInt64($0 + 1)) }
    let encoded = records.map { RecordCodec.encode($0) }
    let n = Double(events)
    func time(_ name: String, _ body: () -> Int) {
        var samples: [Double] = []
        var sink = 0
        for _ in 0..<5 { samples.append(Measure.seconds { sink &+= body() }) }
        print("\(name): \(fixed(Measure.median(samples) / n * 1e6)) µs  (\(sink != 0))")
    }
    time("draft.record(seq:)") { drafts.reduce(0) { $0 &+ $1.record(seq: 7).name.utf8.count } }
    time("RecordCodec.encode") { records.reduce(0) { $0 &+ RecordCodec.encode($1).count } }
    time("BinaryCodec.encode(object)") { pods.reduce(0) { $0 &+ BinaryCodec.encode($1).count } }
    time("RecordCodec.decode") {
        var c = 0
        for (i, bytes) in encoded.enumerated() {
            if let r = try? RecordCodec.decode(seq: UInt64(i + 1), bytes: bytes) { c &+= r.name.utf8.count }
        }
        return c
    }
    time("JSON serialize") { pods.reduce(0) { $0 &+ $1.jsonString().utf8.count } }
}

/// Only the object encoder, many times: a clean profile for `perf record`.
func benchEncodeOnly(events: Int) {
    let pods = (0..<events).map { Fixture.pod($0) }
    var sink = 0
    let passes = Int(ProcessInfo.processInfo.environment["PASSES"] ?? "") ?? max(20, 400_000 / events)
    let drafts = pods.map { Fixture.draft($0, second: 0) }
    let t = Measure.seconds { for _ in 0..<passes { sink &+= pods.reduce(0) { $0 &+ BinaryCodec.encode($1).count } } }
    let r = Measure.seconds { for _ in 0..<passes { sink &+= drafts.reduce(0) { $0 &+ RecordCodec.encode($1).bytes.count } } }
    print("encode: \(fixed(t / Double(events * passes) * 1e6)) µs; record (stamping): \(fixed(r / Double(events * passes) * 1e6)) µs (\(sink))")
}

/// Only the record decoder, many times: a clean profile for `perf record`.
func benchDecodeOnly(events: Int) {
    let encoded = (0..<events).map { RecordCodec.encode(Fixture.draft(Fixture.pod($0), second: 0).record(seq: UInt64($0 + 1))) }
    var sink = 0
    let t = Measure.seconds {
        for _ in 0..<20 {
            for (i, bytes) in encoded.enumerated() {
                if let r = try? RecordCodec.decode(seq: UInt64(i + 1), bytes: bytes) { sink &+= r.name.utf8.count }
            }
        }
    }
    print("decode: \(fixed(t / Double(events * 20) * 1e6)) µs (\(sink))")
}

/// Only the check walk of encoded objects, many times (`orca-bench walk`).
func benchWalkOnly(events: Int) {
    let encoded = (0..<events).map { BinaryCodec.encode(Fixture.pod($0)) }
    var sink = 0
    let passes = 50
    let t = Measure.seconds {
        for _ in 0..<passes {
            for bytes in encoded {
                bytes.withUnsafeBytes { raw in
                    var reader = BinaryReader(bytes: raw)
                    var table: MemberTable?
                    if (try? reader.skipJSONValue(table: &table)) != nil { sink &+= reader.offset }
                }
            }
        }
    }
    print("walk: \(fixed(t / Double(events * passes) * 1e6, 3)) µs (\(sink))")
}

/// Only the four field reads of (c), over records read from the log once (`orca-bench fields`).
func benchFieldsOnly(events: Int) throws {
    let records = try (0..<events).map { i in
        try RecordCodec.decode(seq: UInt64(i + 1), bytes: RecordCodec.encode(Fixture.draft(Fixture.pod(i), second: 0).record(seq: UInt64(i + 1))))
    }
    var sink = 0
    let passes = 50
    let t = Measure.seconds {
        for _ in 0..<passes {
            for record in records {
                if record.value(at: ["spec", "nodeName"])?.stringValue != nil { sink += 1 }
                if record.value(at: ["status", "phase"])?.stringValue != nil { sink += 1 }
                if record.value(at: ["metadata", "ownerReferences"])?.arrayValue != nil { sink += 1 }
                if record.value(at: ["metadata", "uid"])?.stringValue != nil { sink += 1 }
            }
        }
    }
    print("fields: \(fixed(t / Double(events * passes) * 1e6, 3)) µs per record (\(sink))")
}
