@testable import OrcaAPI
import Testing

@Suite("The encoder's prefetch hints")
struct EncoderPrefetchTests {
    /// The hints read `JSONValue`'s words in place; a compiler whose layout differs turns them off
    /// silently (encoding stays correct, only slower on trees cold in memory), so this build's
    /// layout is checked here.
    @Test("this build's JSONValue layout is the one the hints read")
    func layoutRecognised() {
        #expect(Prefetch.enabled)
    }

    @Test("values of every kind, nested, encode and decode the same with the hints on")
    func everyKind() throws {
        let long = String(repeating: "long string ", count: 8)
        let value: JSONValue = .object([
            "literal": .string("a literal string longer than fifteen bytes"),
            "built": .string(long),
            "small": .string("x"),
            "items": .array([.null, .bool(true), .int(-3), .double(2.5), .string(long), .array([]), .object([:]),
                             .array([.object(["k": .string(long)])])]),
            "empty": .object([:]),
            "metadata": .object(["name": .string("n"), "labels": .object(["a": .string(long)])]),
        ])
        let bytes = BinaryCodec.encode(value)
        #expect(try BinaryCodec.decode(bytes) == value)
        var out: [UInt8] = []
        BinaryCodec.encodeStampingResourceVersion(value, into: &out)
        var stamped: JSONValue = .null
        try out.withUnsafeBytes { b in
            var reader = BinaryReader(bytes: b, recordSeq: 7)
            stamped = try reader.readJSONValue()
        }
        var expected = value
        expected[path: ["metadata", "resourceVersion"]] = .string("7")
        #expect(stamped == expected)
    }
}

@Suite("A log record's stored member table")
struct RecordObjectTableTests {
    static let objects: [String] = [
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default","labels":{"app":"web"},"ownerReferences":[{"uid":"u","controller":true}]},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"}]},"status":{"phase":"Running"}}"#,
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","resourceVersion":"12","an unknown key":1},"spec":{},"status":"odd"}"#,
        #"{"kind":"Thing","an unknown key":{"spec":1},"metadata":5,"spec":{"nodeName":null,"another unknown key":[1,2]}}"#,
        #"{"metadata":{"name":"only"}}"#,
        #"{}"#,
        #"[1,2,{"metadata":{}}]"#,
        #""a string""#,
        #"{"apiVersion":"v1","kind":"ConfigMap","data":{"k":"v"},"metadata":{"name":"c","annotations":{"a":"b"}}}"#,
    ]

    @Test("the table written with a record's object is the table the check walk builds from its bytes", arguments: objects)
    func sameAsWalk(json: String) throws {
        let value = try JSONValue.parse(json)
        for stamping in [false, true] {
            var out: [UInt8] = []
            BinaryCodec.encodeRecordObject(value, stampingResourceVersion: stamping, into: &out)
            var stored: MemberTable?
            var walked: MemberTable?
            var decoded: JSONValue = .null
            var atEnd = false
            try out.withUnsafeBytes { b in
                var reader = BinaryReader(bytes: b, recordSeq: 42)
                stored = try MemberTable.read(from: &reader)
                let start = reader.offset
                try reader.skipJSONValue(table: &walked)
                atEnd = reader.isAtEnd
                var again = BinaryReader(bytes: b, offset: start, recordSeq: 42)
                decoded = try again.readJSONValue()
            }
            #expect(atEnd)
            #expect(stored == walked, "stamping: \(stamping)")
            var expected = value
            if stamping, expected["metadata"]?.objectValue != nil {
                expected[path: ["metadata", "resourceVersion"]] = .string("42")
            }
            #expect(decoded == expected)
            if stamping {
                // The stamped resourceVersion stands for the record's seq, not a literal: the same
                // bytes read as another record's object give that record's seq.
                var other: JSONValue = .null
                try out.withUnsafeBytes { b in
                    var reader = BinaryReader(bytes: b, recordSeq: 43)
                    _ = try MemberTable.read(from: &reader)
                    other = try reader.readJSONValue()
                }
                var expected43 = value
                if expected43["metadata"]?.objectValue != nil { expected43[path: ["metadata", "resourceVersion"]] = .string("43") }
                #expect(other == expected43)
            } else {
                // The same object bytes as the plain encoder writes.
                var plain: [UInt8] = []
                BinaryCodec.encode(value, into: &plain)
                #expect(Array(out.suffix(plain.count)) == plain)
            }
        }
    }

    @Test("an object built with a repeated top-level key gets the walk's table too (marked ambiguous, so it is not used)")
    func repeatedKey() throws {
        let value: JSONValue = .object(JSONObject(entries: [
            ("metadata", .object(["name": "a"])), ("spec", .object(["nodeName": "n"])), ("metadata", .object(["name": "b"])),
        ]))
        var out: [UInt8] = []
        BinaryCodec.encodeRecordObject(value, stampingResourceVersion: false, into: &out)
        var stored: MemberTable?
        var walked: MemberTable?
        try out.withUnsafeBytes { b in
            var reader = BinaryReader(bytes: b, recordSeq: 1)
            stored = try MemberTable.read(from: &reader)
            try reader.skipJSONValue(table: &walked)
        }
        #expect(stored == walked)
        #expect(stored?.ambiguous == true)
    }
}

