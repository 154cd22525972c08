import OrcaAPI
@testable import OrcaLog
import Testing

@Suite("The record codec: version 3 checked by its checksum, versions 1 and 2 still read")
struct RecordCodecTests {
    let draft = podDraft("web-1", cause: 7, extra: ["phase": "Running", "podIP": "10.0.0.1"])

    @Test("a draft encodes before its seq is known and decodes under seq S as draft.record(seq: S)")
    func roundTrip() throws {
        let (bytes, key) = RecordCodec.encode(draft)
        #expect(bytes.first == RecordCodec.version)
        #expect(key == ObjectKey(kind: "Pod", namespace: "default", name: "web-1"))
        let record = try RecordCodec.decode(seq: 31, bytes: bytes)
        let expected = draft.record(seq: 31)
        #expect(record == expected)
        #expect(record.object == expected.object)
        #expect(record.value(at: ["metadata", "resourceVersion"]) == "31")
        #expect(record.value(at: ["status", "podIP"]) == "10.0.0.1")
        // A record re-encoded whole (its resourceVersion now a plain string) reads back the same.
        #expect(try RecordCodec.decode(seq: 31, bytes: RecordCodec.encode(expected)) == expected)
    }

    @Test("every changed byte and every truncation of a record is an error, never a crash or a wrong record")
    func corruption() throws {
        let (bytes, _) = RecordCodec.encode(draft)
        for i in bytes.indices {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var corrupt = bytes
                corrupt[i] ^= flip
                #expect(throws: BinaryDecodingError.self) { try RecordCodec.decode(seq: 1, bytes: corrupt) }
            }
        }
        for cut in 0..<bytes.count {
            #expect(throws: BinaryDecodingError.self) { try RecordCodec.decode(seq: 1, bytes: Array(bytes.prefix(cut))) }
        }
        var mismatched = bytes
        mismatched[bytes.count - 1] ^= 0x01
        do {
            _ = try RecordCodec.decode(seq: 1, bytes: mismatched)
            Issue.record("a corrupt record decoded")
        } catch {
            #expect(error.message.contains("checksum mismatch"))
        }
    }

    @Test("records of versions 1 and 2 (no checksum, no stored table) still read, their objects walked in full")
    func olderVersions() throws {
        let expected = draft.record(seq: 9)
        for version: UInt8 in [1, 2] {
            // Version 2 stores a stamped resourceVersion as tag 9; version 1 had no tag 9 and
            // stored the string.
            let bytes = Self.legacyRecord(version: version, expected)
            let record = try RecordCodec.decode(seq: 9, bytes: bytes)
            #expect(record == expected, "version \(version)")
            #expect(record.object == expected.object)
            #expect(record.value(at: ["spec", "containers"]) == expected.object[path: ["spec", "containers"]])
            // Their objects are checked by the walk: a bad tag in the object is an error.
            var corrupt = bytes
            corrupt[corrupt.count - 1] = 0xEE
            #expect(throws: BinaryDecodingError.self) { try RecordCodec.decode(seq: 9, bytes: corrupt) }
        }
        #expect(throws: BinaryDecodingError.self) { try RecordCodec.decode(seq: 9, bytes: [4] + Array(repeating: 0, count: 40)) }
        do {
            _ = try RecordCodec.decode(seq: 9, bytes: [9, 0, 0, 0, 0])
        } catch {
            #expect(error.message.contains("record format version 9 is not supported (this build reads 1 to 3)"))
        }
    }

    @Test("the checksum is CRC-32C (Castagnoli), the same as a bit-by-bit reference for every length")
    func checksum() {
        #expect(Array("123456789".utf8).withUnsafeBytes { RecordCodec.checksum($0) } == 0xE306_9283)
        func reference(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = (crc >> 1) ^ (0x82F6_3B78 & (0 &- (crc & 1))) }
            }
            return crc ^ 0xFFFF_FFFF
        }
        // Every length up to ten 8-byte words and a tail; then longer runs, a Pod record's ~1.3 KB
        // and more, at an unaligned start too; bytes spread over 0...255.
        let lengths = Array(0..<80) + Array(376..<400) + Array(760..<776) + Array(1144..<1160) + [1300, 1315, 2000, 4099]
        for length in lengths {
            for offset in [0, 3] {
                let bytes = (0..<length + offset).map { UInt8(truncatingIfNeeded: $0 &* 157 &+ length &* 31 &+ 11) }
                let crc = bytes.withUnsafeBytes { RecordCodec.checksum(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
                #expect(crc == reference(Array(bytes[offset...])), "length \(length), offset \(offset)")
            }
        }
    }

    /// A record as versions 1 and 2 wrote it: the header without a checksum, then the object.
    static func legacyRecord(version: UInt8, _ record: EventRecord) -> [UInt8] {
        var out: [UInt8] = [version]
        let t = record.time.nanoseconds
        BinaryCodec.writeVarint(UInt64(bitPattern: (t << 1) ^ (t >> 63)), into: &out)
        out.append(record.type.code)
        for s in [record.kind, record.namespace, record.name, record.uid, record.actor] {
            BinaryCodec.writeVarint(UInt64(s.utf8.count), into: &out)
            out.append(contentsOf: s.utf8)
        }
        BinaryCodec.writeVarint(record.cause.map { $0 + 1 } ?? 0, into: &out)
        if version == 2 {
            BinaryCodec.encodeStampingResourceVersion(record.object, into: &out)
        } else {
            BinaryCodec.encode(record.object, into: &out)
        }
        return out
    }
}
