public import OrcaAPI

/// `controller.ComputeHash`, the hash that names a DaemonSet's ControllerRevisions and a
/// Deployment's ReplicaSets (`<owner>-<hash>`) and labels their pods
/// (`controller-revision-hash`, `pod-template-hash`).
public enum TemplateHash {
    /// The characters `rand.SafeEncodeString` maps bytes to (no vowels, no confusable digits).
    static let alphanums = Array("bcdfghjklmnpqrstvwxz2456789".utf8)

    /// FNV-32a of the template (its canonical JSON, keys sorted, where upstream hashes the Go
    /// structure — so the value differs from Kubernetes' for the same template) and the
    /// collision count, printed in decimal and encoded with `SafeEncodeString`.
    public static func compute(_ template: PodTemplateSpec, collisionCount: Int?) -> String {
        var h: UInt32 = 2_166_136_261
        func feed(_ bytes: some Sequence<UInt8>) {
            for b in bytes {
                h ^= UInt32(b)
                h = h &* 16_777_619
            }
        }
        feed(canonical(.object(template.raw)).jsonString().utf8)
        if let collisionCount {
            let c = UInt32(truncatingIfNeeded: collisionCount)
            feed([UInt8(c & 0xFF), UInt8((c >> 8) & 0xFF), UInt8((c >> 16) & 0xFF), UInt8(c >> 24), 0, 0, 0, 0])
        }
        return String(decoding: String(h).utf8.map { alphanums[Int($0) % alphanums.count] }, as: UTF8.self)
    }

    /// `getPatch` of a DaemonSet or StatefulSet: `{"spec":{"template":{…,"$patch":"replace"}}}`,
    /// keys sorted — the `data` of its ControllerRevisions.
    public static func revisionPatch(_ template: PodTemplateSpec) -> JSONValue {
        var raw = template.raw
        raw["$patch"] = "replace"
        return canonical(["spec": ["template": .object(raw)]])
    }

    /// `history.HashControllerRevision`: FNV-1 (32 bit) of the revision's data as Go's JSON
    /// encoder writes it (keys sorted, no spaces, `<`, `>` and `&` escaped), then of the
    /// collision count in decimal, encoded with `SafeEncodeString`.
    public static func controllerRevisionHash(data: JSONValue, collisionCount: Int) -> String {
        var h: UInt32 = 2_166_136_261
        func feed(_ bytes: some Sequence<UInt8>) {
            for b in bytes {
                h = h &* 16_777_619
                h ^= UInt32(b)
            }
        }
        var bytes: [UInt8] = []
        goJSON(data, into: &bytes)
        feed(bytes)
        feed(String(collisionCount).utf8)
        return String(decoding: String(h).utf8.map { alphanums[Int($0) % alphanums.count] }, as: UTF8.self)
    }

    /// Go's `json.Marshal` of a decoded JSON value: map keys sorted, compact, HTML-safe string escaping.
    static func goJSON(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .int(let i): out += Array(String(i).utf8)
        case .double(let d):
            if d == d.rounded(), abs(d) < 1e21 { out += Array(String(Int64(d)).utf8) } else { out += Array("\(d)".utf8) }
        case .string(let s): goString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                goJSON(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, entry) in object.entries.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                goString(entry.key, into: &out)
                out.append(UInt8(ascii: ":"))
                goJSON(entry.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func goString(_ s: String, into out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += Array("\\\"".utf8)
            case "\\": out += Array("\\\\".utf8)
            case "\n": out += Array("\\n".utf8)
            case "\r": out += Array("\\r".utf8)
            case "\t": out += Array("\\t".utf8)
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                let v = scalar.value
                out += Array("\\u".utf8) + [hex[Int(v >> 12 & 0xF)], hex[Int(v >> 8 & 0xF)], hex[Int(v >> 4 & 0xF)], hex[Int(v & 0xF)]]
            default:
                if scalar.value < 0x20 {
                    out += Array("\\u00".utf8) + [hex[Int(scalar.value >> 4)], hex[Int(scalar.value & 0xF)]]
                } else {
                    out += Array(String(scalar).utf8)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A copy with every object's keys in sorted order (as Go's JSON encoder writes a map).
    public static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            return .object(JSONObject(entries: object.entries.sorted { $0.key < $1.key }.map { ($0.key, canonical($0.value)) }))
        case .array(let items):
            return .array(items.map(canonical))
        default:
            return value
        }
    }
}
