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
