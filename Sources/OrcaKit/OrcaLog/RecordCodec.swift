public import OrcaAPI
internal import COrcaHints

/// The binary form of an ``EventRecord`` value in the log (the seq is the key, not repeated).
///
/// Layout, version 3: `u8 version=3 · u32 CRC-32C (little-endian) of every byte after it ·
/// varint zigzag(time ns) · u8 type · string kind · string namespace · string name · string uid ·
/// string actor · varint cause+1 (0 = none) · member table · object` where strings are varint
/// length + UTF-8, the member table is where the object's members start
/// (``MemberTable/write(_:into:)``), and the object is ``BinaryCodec``'s encoding, in which tag 9
/// stands for the record's own seq as a decimal string (a stamped resourceVersion).
///
/// A version 3 record is checked by its checksum, and the table it stores saves walking the
/// object to build one; versions 1 (no tag 9) and 2 (no checksum and no table) are still read,
/// their objects checked by walking them in full.
public enum RecordCodec {
    public static let version: UInt8 = 3

    /// Encodes a record as it is stored (its object built, if it is still encoded).
    public static func encode(_ record: EventRecord) -> [UInt8] {
        encode(time: record.time, type: record.type, kind: record.kind, namespace: record.namespace, name: record.name,
               uid: record.uid, actor: record.actor, cause: record.cause, object: record.object, stamping: false)
    }

    /// Encodes a draft before its seq is known, so the work can happen outside the write
    /// transaction. A stamped `metadata.resourceVersion` is stored as the record-seq tag; decoding
    /// the bytes under seq S gives exactly `draft.record(seq: S)`.
    public static func encode(_ draft: EventDraft) -> (bytes: [UInt8], key: ObjectKey) {
        let u = Unstructured(draft.object)
        let bytes = encode(time: draft.time, type: draft.type, kind: u.kind, namespace: u.namespace, name: u.name,
                           uid: u.uid, actor: draft.actor, cause: draft.cause, object: draft.object,
                           stamping: draft.stampResourceVersion)
        return (bytes, u.key)
    }

    static func encode(time: Timestamp, type: EventType, kind: String, namespace: String, name: String, uid: String,
                       actor: String, cause: UInt64?, object: JSONValue, stamping: Bool) -> [UInt8] {
        var out: [UInt8] = []
        // The header and the table; the object's bytes are appended once, at their exact size.
        out.reserveCapacity(192 + kind.utf8.count + namespace.utf8.count + name.utf8.count + uid.utf8.count + actor.utf8.count)
        out.append(version)
        out.append(contentsOf: [0, 0, 0, 0])  // the checksum, written last
        let t = time.nanoseconds
        BinaryCodec.writeVarint(UInt64(bitPattern: (t << 1) ^ (t >> 63)), into: &out)
        out.append(type.code)
        for s in [kind, namespace, name, uid, actor] {
            BinaryCodec.writeVarint(UInt64(s.utf8.count), into: &out)
            out.append(contentsOf: s.utf8)
        }
        BinaryCodec.writeVarint(cause.map { $0 + 1 } ?? 0, into: &out)
        BinaryCodec.encodeRecordObject(object, stampingResourceVersion: stamping, into: &out)
        let crc = out.withUnsafeBytes { b in checksum(UnsafeRawBufferPointer(rebasing: b[5...])) }
        for i in 0..<4 { out[1 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        return out
    }

    /// CRC-32C of `bytes`, the checksum of a version 3 record.
    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        orca_crc32c(bytes.baseAddress, bytes.count)
    }

    /// Decodes the record stored under `seq`.
    /// - Throws: ``BinaryDecodingError`` for a truncated, corrupt or newer-version value.
    public static func decode(seq: UInt64, bytes: UnsafeRawBufferPointer) throws(BinaryDecodingError) -> EventRecord {
        var r = BinaryReader(bytes: bytes)
        let v = try r.readByte()
        guard v >= 1 && v <= version else {
            throw BinaryDecodingError(message: "record format version \(v) is not supported (this build reads 1 to \(version))", offset: 0)
        }
        if v >= 3 {
            guard bytes.count >= 5 else { throw BinaryDecodingError(message: "unexpected end of data", offset: bytes.count) }
            let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[1 + $1]) << (8 * UInt32($1)) }
            let computed = checksum(UnsafeRawBufferPointer(rebasing: bytes[5...]))
            guard stored == computed else {
                throw BinaryDecodingError(message: "checksum mismatch (stored \(hex(stored)), computed \(hex(computed))): the record is corrupt",
                                          offset: 1)
            }
            r.offset = 5
        }
        if v >= 2 { r.recordSeq = seq }
        let z = try r.readVarint()
        let time = Timestamp(nanoseconds: Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
        let code = try r.readByte()
        guard let type = EventType(code: code) else {
            throw BinaryDecodingError(message: "unknown event type \(code)", offset: r.offset - 1)
        }
        let kind = try r.readString()
        let namespace = try r.readString()
        let name = try r.readString()
        let uid = try r.readString()
        let actor = try r.readString()
        let c = try r.readVarint()
        var table: MemberTable?
        let start: Int
        if v >= 3 {
            // Checked by its checksum, with its member table stored: the object is not walked.
            table = try MemberTable.read(from: &r)
            start = r.offset
            guard start < bytes.count else { throw BinaryDecodingError(message: "the record has no object", offset: start) }
            if let table, !table.fits(objectLength: bytes.count - start) {
                throw BinaryDecodingError(message: "a member table offset lies outside the object", offset: start)
            }
        } else {
            // The object is checked in full here (a corrupt record fails now, not when it is
            // used) but kept as bytes: it is built on first use, and fields can be read without
            // building it.
            start = r.offset
            try r.skipJSONValue(table: &table)
            guard r.isAtEnd else { throw BinaryDecodingError(message: "trailing bytes after record", offset: r.offset) }
        }
        let object = EncodedObject(bytes: Array(UnsafeRawBufferPointer(rebasing: bytes[start...])), table: table, seq: seq)
        return EventRecord(seq: seq, time: time, type: type, kind: kind, namespace: namespace, name: name, uid: uid,
                           actor: actor, cause: c == 0 ? nil : c - 1, payload: .encoded(object))
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    public static func decode(seq: UInt64, bytes: [UInt8]) throws(BinaryDecodingError) -> EventRecord {
        let result = bytes.withUnsafeBytes { b in Result { () throws(BinaryDecodingError) in try decode(seq: seq, bytes: b) } }
        return try result.get()
    }
}
