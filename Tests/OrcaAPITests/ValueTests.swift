import OrcaAPI
import Testing

@Suite("JSON values, codecs and API helpers")
struct ValueTests {
    let sample = #"{"kind":"Pod","metadata":{"name":"p","labels":{"z":"1","a":"2"}},"n":-12,"f":1.5,"t":true,"x":null,"s":"é\n\"q\"","arr":[1,{"k":[]}]}"#

    @Test("JSON parses and serialises back byte for byte, keeping key order")
    func jsonRoundTrip() throws {
        let value = try JSONValue.parse(sample)
        #expect(value.jsonString() == sample)
        #expect(value[path: ["metadata", "labels"]]?.objectValue?.keys == ["z", "a"])
        #expect(try JSONValue.parse(value.prettyJSONString()) == value)
    }

    @Test("malformed JSON reports line and column", arguments: ["{\"a\":}", "[1,2", "{\"a\" 1}", "tru", "\"\\x\""])
    func jsonErrors(text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(text) }
    }

    @Test("the binary codec round-trips, and truncated input is an error, never a crash")
    func binary() throws {
        let value = try JSONValue.parse(sample)
        let bytes = BinaryCodec.encode(value)
        #expect(try BinaryCodec.decode(bytes) == value)
        #expect(try BinaryCodec.decode(bytes).jsonString() == sample)
        for cut in 0..<bytes.count {
            #expect(throws: BinaryDecodingError.self) { try BinaryCodec.decode(Array(bytes.prefix(cut))) }
        }
        #expect(throws: BinaryDecodingError.self) { try BinaryCodec.decode([99]) }
    }

    @Test("every dictionary string is written by its index however the string was made, and no other string is")
    func dictionaryEncoding() throws {
        // Strings reach the encoder from literals, the JSON parser, concatenation, substrings and
        // bridged bytes; small ones are looked up by their machine words, long ones by bytes.
        func forms(_ s: String) -> [String] {
            let padded = "<" + s + ">"
            var reserved = String()
            reserved.reserveCapacity(64)  // a short string kept in heap storage, not in the small form
            reserved.append(s)
            return [s, String(decoding: Array(s.utf8), as: UTF8.self), String(padded.dropFirst().dropLast()),
                    String(s.prefix(1)) + String(s.dropFirst()), reserved]
        }
        for (index, entry) in BinaryCodec.dictionary.enumerated() {
            var expected: [UInt8] = [8]
            BinaryCodec.writeVarint(UInt64(index), into: &expected)
            for form in forms(entry) {
                #expect(BinaryCodec.encode(.string(form)) == expected, "\(entry)")
                let object = BinaryCodec.encode(.object([form: .null]))
                var key: [UInt8] = [7, 1]
                BinaryCodec.writeVarint(UInt64(index) << 1, into: &key)
                #expect(object == key + [0], "key \(entry)")
            }
        }
        for other in ["Runnin", "Running ", "RUNNING", "x", "é", "kube-systems", "pod-template-hash", String(repeating: "k", count: 15),
                      "batch.kubernetes.io/job-trackin", "topology.kubernetes.io/zones"] {
            for form in forms(other) {
                var expected: [UInt8] = [5]
                BinaryCodec.writeVarint(UInt64(other.utf8.count), into: &expected)
                #expect(BinaryCodec.encode(.string(form)) == expected + Array(other.utf8), "\(other)")
                #expect(try BinaryCodec.decode(BinaryCodec.encode(.object([form: .string(form)]))) == .object([other: .string(other)]))
            }
        }
    }

    @Test("skipping checks exactly what decoding checks, and a path read decodes only its value")
    func skipAndPathRead() throws {
        let value = try JSONValue.parse(sample)
        let bytes = BinaryCodec.encode(value)
        func outcomes(_ b: [UInt8]) -> (skip: Bool, decode: Bool) {
            b.withUnsafeBytes { buffer in
                var skipper = BinaryReader(bytes: buffer)
                let skipped = (try? skipper.skipJSONValue()) != nil && skipper.isAtEnd
                return (skipped, (try? BinaryCodec.decode(buffer)) != nil)
            }
        }
        // Nested deeper than the walk's own stack (32 open containers), with members after the
        // deep part at several levels: the walk goes on correctly after recursing.
        var deep: JSONValue = ["x": "y", "n": 1, "long": "a string longer than eight bytes"]
        for level in 0..<40 {
            deep = level % 3 == 0 ? .array([deep, .int(Int64(level)), "é"]) : .object(["k\(level)": deep, "after": [true, 2.5, nil]])
        }
        let deepBytes = BinaryCodec.encode(deep)
        #expect(try BinaryCodec.decode(deepBytes) == deep)
        for bytes in [bytes, deepBytes] {
            #expect(outcomes(bytes) == (true, true))
            // Every truncation, and every single-byte corruption of every position, is judged alike.
            for cut in 0..<bytes.count { #expect(outcomes(Array(bytes.prefix(cut))) == (false, false)) }
            var disagreements: [String] = []
            for i in bytes.indices {
                for replacement: UInt8 in [0, 5, 7, 9, 0x7F, 0x80, 0xC3, 0xFF] where replacement != bytes[i] {
                    var corrupt = bytes
                    corrupt[i] = replacement
                    let o = outcomes(corrupt)
                    if o.skip != o.decode { disagreements.append("byte \(i) = \(replacement): skip \(o.skip), decode \(o.decode)") }
                }
            }
            #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        }
        // Nesting at and past the depth limit (512), with a scalar, an empty container or a
        // container innermost, inside arrays and objects alike.
        for depth in [510, 511, 512, 513] {
            for innermost: JSONValue in [1, "s", [], [:], [1], ["k": true]] {
                var array = innermost
                var object = innermost
                for _ in 0..<depth {
                    array = .array([array])
                    object = .object(["k": object])
                }
                for nested in [array, object] {
                    let o = outcomes(BinaryCodec.encode(nested))
                    #expect(o.skip == o.decode, "depth \(depth), innermost \(innermost)")
                }
            }
        }
        // A path read gives what the tree gives, for present and missing paths alike, walking or
        // jumping through the member table: for an object with keys outside the dictionary at
        // the first two levels, one with only dictionary keys there, and one with a repeated key.
        let kubernetesLike = try JSONValue.parse(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"x-y":"1"},"ownerReferences":[{"uid":"u","controller":true}]},"spec":{"nodeName":"n1","containers":[{"name":"a"}]},"status":{"phase":"Running"}}"#)
        let repeated = JSONValue.object(JSONObject(entries: [("spec", ["nodeName": "first"]), ("kind", "Pod"), ("spec", ["nodeName": "second", "x": 1])]))
        let paths = [["kind"], ["metadata", "name"], ["metadata", "labels"], ["metadata", "labels", "a"], ["metadata", "labels", "x-y"],
                     ["arr"], ["s"], ["x"], ["missing"], ["metadata", "missing"], ["metadata", "namespace"], ["n", "deeper"],
                     ["spec", "nodeName"], ["spec", "containers"], ["spec", "x"], ["status", "phase"], ["status", "phase", "deeper"],
                     ["metadata", "ownerReferences"], ["kind", "deeper"], ["spec", "nodeName", "deeper"], []]
        // More members than the walk gathers on its stack (96 entries): 150 dictionary keys, each
        // holding an object with one dictionary key.
        let d = BinaryCodec.dictionary
        let wide = JSONValue.object(JSONObject(entries: (0..<150).map { (d[$0], ["\(d[$0 + 1])": .int(Int64($0))]) }))
        let widePaths = [[d[0]], [d[0], d[1]], [d[100], d[101]], [d[149], d[150]], [d[149], d[1]], [d[120]], [d[200]]]
        for object in [value, kubernetesLike, repeated, wide] {
            let encoded = BinaryCodec.encode(object)
            for path in paths + (object == wide ? widePaths : []) {
                let (walked, jumped) = encoded.withUnsafeBytes { buffer -> (JSONValue??, JSONValue??) in
                    var walker = BinaryReader(bytes: buffer)
                    var checker = BinaryReader(bytes: buffer)
                    var table: MemberTable?
                    guard (try? checker.skipJSONValue(table: &table)) != nil else { return (nil, nil) }
                    var jumper = BinaryReader(bytes: buffer)
                    return (try? walker.readJSONValue(at: path), try? jumper.readJSONValue(at: path, table: table))
                }
                // Compared as JSON text: an object with a repeated key is not == to itself.
                let expected = object[path: path]?.jsonString()
                #expect(walked != nil && walked??.jsonString() == expected, "walk \(path) in \(object.jsonString())")
                #expect(jumped != nil && jumped??.jsonString() == expected, "table \(path) in \(object.jsonString())")
            }
        }
    }

    @Test("a whole decode shares a long string repeated in the buffer; a path read gives the same string")
    func repeatedStringsShared() throws {
        let stamp = "2026-11-22T12:00:00Z and then some"  // longer than a small string's 15 bytes
        let value: JSONValue = ["a": .string(stamp), "b": ["c": .string(stamp)], "d": [.string(stamp)]]
        let bytes = BinaryCodec.encode(value)
        func storage(_ s: String?) -> UnsafeRawPointer? {
            var copy = s
            return copy?.withUTF8 { UnsafeRawPointer($0.baseAddress) }
        }
        let decoded = try bytes.withUnsafeBytes { b in try BinaryCodec.decode(b) }
        #expect(decoded == value)
        let first = decoded["a"]?.stringValue
        #expect(storage(first) != nil)
        #expect(storage(first) == storage(decoded[path: ["b", "c"]]?.stringValue))
        #expect(storage(first) == storage(decoded["d"]?.arrayValue?.first?.stringValue))
        let read = bytes.withUnsafeBytes { b -> JSONValue? in
            var reader = BinaryReader(bytes: b)
            return (try? reader.readJSONValue(at: ["b", "c"])) ?? nil
        }
        #expect(read?.stringValue == stamp)
    }

    @Test("YAML documents, Lists of documents and YAML 1.1 scalars")
    func yaml() throws {
        let docs = try JSONValue.parseYAMLDocuments("a: 1\nb: \"1\"\nc: yes\nd: ~\n---\n---\n- x\n")
        #expect(docs.count == 2)
        #expect(docs[0]["a"] == 1 && docs[0]["b"] == "1" && docs[0]["c"] == true && docs[0]["d"] == .null)
        let value = try JSONValue.parse(sample)
        #expect(try JSONValue.parseYAMLDocuments(value.yamlString()).first == value)
        #expect(throws: ManifestSyntaxError.self) { try JSONValue.parseYAMLDocuments("a: [1,\n") }
    }

    @Test("RFC 3339 timestamps and Go durations")
    func time() throws {
        let t = try #require(Timestamp(rfc3339: "2026-01-01T00:00:00Z"))
        #expect(t.nanoseconds == 1_767_225_600_000_000_000)
        #expect(t.rfc3339 == "2026-01-01T00:00:00Z")
        let later = Timestamp(nanoseconds: t.nanoseconds + 86_400_000_000_000 * 59 + 3_723_004_005_006)
        #expect(later.rfc3339 == "2026-03-01T01:02:03Z")
        #expect(later.rfc3339Micro == "2026-03-01T01:02:03.004005Z")
        #expect(Timestamp(nanoseconds: 0).rfc3339Micro == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamp(nanoseconds: later.nanoseconds + 7).description == "2026-03-01T01:02:03.004005013Z")
        #expect(Timestamp(nanoseconds: t.nanoseconds + 120_000_000).description == "2026-01-01T00:00:00.120Z")
        #expect(Timestamp(rfc3339: "2026-01-01T02:00:00.5+02:00") == Timestamp(nanoseconds: t.nanoseconds + 500_000_000))
        #expect(Timestamp(rfc3339: "2026-13-01T00:00:00Z") == nil)
        #expect(Duration.parseGo("1h30m") == .seconds(5400))
        #expect(Duration.parseGo("250ms") == .milliseconds(250))
        #expect(Duration.parseGo("5x") == nil)
        #expect(Duration.seconds(5400).goString == "1h30m0s")
    }

    @Test("label selectors: string form and matchExpressions")
    func selectors() throws {
        let s = try LabelSelector(parsing: "app=web,tier!=db,env in (prod, staging),!legacy,team")
        #expect(s.matches(["app": "web", "env": "prod", "team": "a"]))
        #expect(!s.matches(["app": "web", "env": "dev", "team": "a"]))
        #expect(!s.matches(["app": "web", "env": "prod", "team": "a", "legacy": "1"]))
        let json = try LabelSelector(json: ["matchLabels": ["a": "b"], "matchExpressions": [["key": "c", "operator": "NotIn", "values": ["d"]]]])
        #expect(json.matches(["a": "b"]) && !json.matches(["a": "b", "c": "d"]))
        #expect(throws: FieldErrors.self) { try LabelSelector(json: ["matchExpressions": [["key": "c", "operator": "Near"]]]) }
        #expect(throws: ManifestSyntaxError.self) { try LabelSelector(parsing: "a in b") }
    }

    @Test("quantities")
    func quantities() {
        #expect(Quantity("500m")?.milliValue == 500)
        #expect(Quantity("2")?.milliValue == 2000)
        #expect(Quantity("16Gi")?.value == 17_179_869_184)
        #expect(Quantity("1e3")?.value == 1000)
        #expect(Quantity("lots") == nil)
    }

    @Test("JSON merge patch (RFC 7386)")
    func mergePatch() throws {
        let target = try JSONValue.parse(#"{"a":"b","c":{"d":"e","f":"g"}}"#)
        let patched = target.applyingMergePatch(try JSONValue.parse(#"{"a":"z","c":{"f":null}}"#))
        #expect(patched.jsonString() == #"{"a":"z","c":{"d":"e"}}"#)
    }

    @Test("the merge patch between two versions: changed members only, removals as null, lists whole; applying it gives the new version")
    func mergePatchBetween() throws {
        let old = try JSONValue.parse(#"{"metadata":{"name":"p","labels":{"a":"1","b":"2"}},"spec":{"nodeName":"n1","x":[1,2]},"status":{"phase":"Pending"}}"#)
        let new = try JSONValue.parse(#"{"metadata":{"name":"p","labels":{"a":"1","c":"3"}},"spec":{"nodeName":"n1","x":[1,2,3]},"status":{"phase":"Running","podIP":"10.0.0.2"}}"#)
        let patch = try #require(JSONValue.mergePatch(from: old, to: new))
        #expect(patch.jsonString() == #"{"metadata":{"labels":{"c":"3","b":null}},"spec":{"x":[1,2,3]},"status":{"phase":"Running","podIP":"10.0.0.2"}}"#)
        #expect(old.applyingMergePatch(patch) == new)
        #expect(JSONValue.mergePatch(from: new, to: new) == nil)
        #expect(JSONValue.mergePatch(from: "a", to: ["k": "v"]) == ["k": "v"])
        // Applied to a different object (a counterpart), only the changed members move.
        let other = try JSONValue.parse(#"{"metadata":{"name":"q","labels":{"b":"2","z":"9"}},"spec":{"nodeName":"n1"},"status":{"phase":"Pending"}}"#)
        #expect(other.applyingMergePatch(patch).jsonString()
            == #"{"metadata":{"name":"q","labels":{"z":"9","c":"3"}},"spec":{"nodeName":"n1","x":[1,2,3]},"status":{"phase":"Running","podIP":"10.0.0.2"}}"#)
    }

    @Test("kubectl resource names resolve case-insensitively")
    func kinds() {
        for name in ["pods", "pod", "po", "Pod", "PODS"] { #expect(ResourceKind.lookup(name)?.kind == "Pod") }
        #expect(ResourceKind.lookup("rs")?.kind == "ReplicaSet")
        #expect(ResourceKind.lookup("ep")?.kind == "Endpoints")
        #expect(ResourceKind.lookup("widgets") == nil)
    }

    @Test("spec selectors in both shapes: a LabelSelector and a Service's plain map; empty selects nothing")
    func specSelectors() throws {
        let rs = try #require(LabelSelector(specSelector: try JSONValue.parse(#"{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"NotIn","values":["db"]}]}"#)))
        #expect(rs.matches(["app": "web", "tier": "front"]))
        #expect(!rs.matches(["app": "web", "tier": "db"]))
        let svc = try #require(LabelSelector(specSelector: try JSONValue.parse(#"{"app":"web"}"#)))
        #expect(svc.matches(["app": "web", "x": "y"]))
        #expect(!svc.matches(["app": "db"]))
        #expect(LabelSelector(specSelector: try JSONValue.parse("{}")) == nil)
        #expect(LabelSelector(specSelector: nil) == nil)
        #expect(LabelSelector(specSelector: try JSONValue.parse(#"{"matchExpressions":[{"key":"a","operator":"Bogus"}]}"#)) == nil)
    }
}
