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
        let stamped = try out.withUnsafeBytes { b throws(BinaryDecodingError) -> JSONValue in
            var reader = BinaryReader(bytes: b, recordSeq: 7)
            return try reader.readJSONValue()
        }
        var expected = value
        expected[path: ["metadata", "resourceVersion"]] = .string("7")
        #expect(stamped == expected)
    }
}
