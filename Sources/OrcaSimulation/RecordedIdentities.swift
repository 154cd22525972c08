public import Orca
import Synchronization

/// Gives new objects the UIDs and generated-name suffixes a recording gave the objects it stands
/// for: UIDs in recorded order per kind, suffixes per kind, namespace and `generateName` prefix;
/// once a queue is used up (the run creates more than was recorded), those of a seeded generator.
///
/// A re-run whose controllers create what the recording's did, in the same order, so gets the
/// recorded names and UIDs (the scale-down of a ReplicaSet, which breaks ties by name, then picks
/// the same pods); where it creates something else, names and UIDs still never repeat.
public final class RecordedIdentities: IdentityGenerator {
    let fallback: SeededIdentityGenerator
    let queues: Mutex<(uids: [String: ArraySlice<String>], suffixes: [String: ArraySlice<String>])>

    /// `created`: the recorded objects, in creation order.
    public init(created: [JSONValue], seed: UInt64) {
        fallback = SeededIdentityGenerator(seed: seed)
        var uids: [String: [String]] = [:]
        var suffixes: [String: [String]] = [:]
        for object in created {
            let u = Unstructured(object)
            if !u.uid.isEmpty { uids[u.kind, default: []].append(u.uid) }
            if let prefix = u.generateName, !prefix.isEmpty, u.name.count > 5 {
                suffixes[Self.key(u.kind, u.namespace, prefix), default: []].append(String(u.name.suffix(5)))
            }
        }
        queues = Mutex((uids.mapValues { $0[...] }, suffixes.mapValues { $0[...] }))
    }

    static func key(_ kind: String, _ namespace: String, _ prefix: String) -> String { "\(kind)/\(namespace)/\(prefix)" }

    /// What of a created object ``init(created:seed:)`` reads: its kind and the metadata naming
    /// it (so a long history's created objects are not kept whole).
    public static func identity(of object: JSONValue) -> JSONValue {
        var metadata = JSONObject()
        for field in ["name", "generateName", "namespace", "uid"] { metadata[field] = object[path: ["metadata", field]] }
        return ["kind": object["kind"] ?? .null, "metadata": .object(metadata)]
    }

    public func uid() -> String { fallback.uid() }
    public func nameSuffix() -> String { fallback.nameSuffix() }

    public func uid(kind: String) -> String {
        queues.withLock { $0.uids[kind]?.popFirst() } ?? fallback.uid()
    }

    public func nameSuffix(kind: String, namespace: String, prefix: String) -> String {
        queues.withLock { $0.suffixes[Self.key(kind, namespace, prefix)]?.popFirst() } ?? fallback.nameSuffix()
    }
}
