public import OrcaAPI

/// The binary form of an ``EventRecord`` value in the log (the seq is the key, not repeated).
///
/// Layout, version 1: `u8 version=1 · varint zigzag(time ns) · u8 type · string kind · string
/// namespace · string name · string uid · string actor · varint cause+1 (0 = none) · object`
/// where strings are varint length + UTF-8 and the object is ``BinaryCodec``'s encoding.
public enum RecordCodec {
    public static let version: UInt8 = 1

    public static func encode(_ record: EventRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(640)
        out.append(version)
        let t = record.time.nanoseconds
        BinaryCodec.writeVarint(UInt64(bitPattern: (t << 1) ^ (t >> 63)), into: &out)
        out.append(record.type.code)
        for s in [record.kind, record.namespace, record.name, record.uid, record.actor] {
            BinaryCodec.writeVarint(UInt64(s.utf8.count), into: &out)
            out.append(contentsOf: s.utf8)
        }
        BinaryCodec.writeVarint(record.cause.map { $0 + 1 } ?? 0, into: &out)
        BinaryCodec.encode(record.object, into: &out)
        return out
    }

    /// Decodes the record stored under `seq`.
    /// - Throws: ``BinaryDecodingError`` for a truncated, corrupt or newer-version value.
    public static func decode(seq: UInt64, bytes: UnsafeRawBufferPointer) throws(BinaryDecodingError) -> EventRecord {
        var r = BinaryReader(bytes: bytes)
        let v = try r.readByte()
        guard v == version else {
            throw BinaryDecodingError(message: "record format version \(v) is not supported (this build reads \(version))", offset: 0)
        }
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
        let object = try r.readJSONValue()
        guard r.isAtEnd else { throw BinaryDecodingError(message: "trailing bytes after record", offset: r.offset) }
        return EventRecord(seq: seq, time: time, type: type, kind: kind, namespace: namespace, name: name, uid: uid,
                           actor: actor, cause: c == 0 ? nil : c - 1, object: object)
    }

    public static func decode(seq: UInt64, bytes: [UInt8]) throws(BinaryDecodingError) -> EventRecord {
        let result = bytes.withUnsafeBytes { b in Result { () throws(BinaryDecodingError) in try decode(seq: seq, bytes: b) } }
        return try result.get()
    }
}
