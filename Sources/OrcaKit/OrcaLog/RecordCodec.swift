public import OrcaAPI

/// The binary form of an ``EventRecord`` value in the log (the seq is the key, not repeated).
///
/// Layout, version 2: `u8 version=2 · varint zigzag(time ns) · u8 type · string kind · string
/// namespace · string name · string uid · string actor · varint cause+1 (0 = none) · object`
/// where strings are varint length + UTF-8 and the object is ``BinaryCodec``'s encoding, in which
/// tag 9 stands for the record's own seq as a decimal string (a stamped resourceVersion).
/// Version 1 is the same without tag 9; it is still read.
public enum RecordCodec {
    public static let version: UInt8 = 2

    public static func encode(_ record: EventRecord) -> [UInt8] {
        var out = header(time: record.time, type: record.type, kind: record.kind, namespace: record.namespace,
                         name: record.name, uid: record.uid, actor: record.actor, cause: record.cause)
        BinaryCodec.encode(record.object, into: &out)
        return out
    }

    /// Encodes a draft before its seq is known, so the work can happen outside the write
    /// transaction. A stamped `metadata.resourceVersion` is stored as the record-seq tag; decoding
    /// the bytes under seq S gives exactly `draft.record(seq: S)`.
    public static func encode(_ draft: EventDraft) -> (bytes: [UInt8], key: ObjectKey) {
        let u = Unstructured(draft.object)
        var out = header(time: draft.time, type: draft.type, kind: u.kind, namespace: u.namespace, name: u.name,
                         uid: u.uid, actor: draft.actor, cause: draft.cause)
        if draft.stampResourceVersion {
            BinaryCodec.encodeStampingResourceVersion(draft.object, into: &out)
        } else {
            BinaryCodec.encode(draft.object, into: &out)
        }
        return (out, u.key)
    }

    static func header(time: Timestamp, type: EventType, kind: String, namespace: String, name: String, uid: String,
                       actor: String, cause: UInt64?) -> [UInt8] {
        var out: [UInt8] = []
        // The header alone; the object's bytes are appended once, at their exact size.
        out.reserveCapacity(32 + kind.utf8.count + namespace.utf8.count + name.utf8.count + uid.utf8.count + actor.utf8.count)
        out.append(version)
        let t = time.nanoseconds
        BinaryCodec.writeVarint(UInt64(bitPattern: (t << 1) ^ (t >> 63)), into: &out)
        out.append(type.code)
        for s in [kind, namespace, name, uid, actor] {
            BinaryCodec.writeVarint(UInt64(s.utf8.count), into: &out)
            out.append(contentsOf: s.utf8)
        }
        BinaryCodec.writeVarint(cause.map { $0 + 1 } ?? 0, into: &out)
        return out
    }

    /// Decodes the record stored under `seq`.
    /// - Throws: ``BinaryDecodingError`` for a truncated, corrupt or newer-version value.
    public static func decode(seq: UInt64, bytes: UnsafeRawBufferPointer) throws(BinaryDecodingError) -> EventRecord {
        var r = BinaryReader(bytes: bytes)
        let v = try r.readByte()
        guard v == 1 || v == version else {
            throw BinaryDecodingError(message: "record format version \(v) is not supported (this build reads 1 to \(version))", offset: 0)
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
        // The object is checked in full here (a corrupt record fails now, not when it is used)
        // but kept as bytes: it is built on first use, and fields can be read without building it.
        let start = r.offset
        var table: MemberTable?
        try r.skipJSONValue(table: &table)
        guard r.isAtEnd else { throw BinaryDecodingError(message: "trailing bytes after record", offset: r.offset) }
        let object = EncodedObject(bytes: Array(UnsafeRawBufferPointer(rebasing: bytes[start...])), table: table, seq: seq)
        return EventRecord(seq: seq, time: time, type: type, kind: kind, namespace: namespace, name: name, uid: uid,
                           actor: actor, cause: c == 0 ? nil : c - 1, payload: .encoded(object))
    }

    public static func decode(seq: UInt64, bytes: [UInt8]) throws(BinaryDecodingError) -> EventRecord {
        let result = bytes.withUnsafeBytes { b in Result { () throws(BinaryDecodingError) in try decode(seq: seq, bytes: b) } }
        return try result.get()
    }
}
