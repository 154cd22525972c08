public import Orca

/// A DaemonSet's template history (`update.go`): one ControllerRevision per distinct template,
/// named `<ds>-<hash>`, labelled `controller-revision-hash: <hash>`, holding the patch that
/// restores the template; the current one has the highest revision.
public enum DaemonSetHistory {
    /// The characters `rand.SafeEncodeString` maps bytes to (no vowels, no confusable digits).
    static let alphanums = Array("bcdfghjklmnpqrstvwxz2456789".utf8)

    /// `controller.ComputeHash`: FNV-32a of the template (its canonical JSON, keys sorted, where
    /// upstream hashes the Go structure) and the collision count, printed in decimal and encoded
    /// with `SafeEncodeString`.
    public static func hash(template: PodTemplateSpec, collisionCount: Int?) -> String {
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

    /// `getPatch`: `{"spec":{"template":{…,"$patch":"replace"}}}` with every key sorted, as Go's
    /// JSON encoder writes a map — the `data` of a ControllerRevision.
    public static func patch(_ ds: DaemonSet) -> JSONValue {
        var template = ds.spec.template.raw
        template["$patch"] = "replace"
        return canonical(["spec": ["template": .object(template)]])
    }

    /// `Match`: the revision holds the DaemonSet's current template.
    public static func matches(_ ds: DaemonSet, _ revision: ControllerRevision) -> Bool {
        guard let data = revision.raw["data"] else { return false }
        return canonical(data) == patch(ds)
    }

    /// A copy with every object's keys in sorted order.
    static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            return .object(JSONObject(entries: object.entries.sorted { $0.key < $1.key }.map { ($0.key, canonical($0.value)) }))
        case .array(let items):
            return .array(items.map(canonical))
        default:
            return value
        }
    }

    /// The revision to create for the DaemonSet's current template (`snapshot`).
    public static func revision(for ds: DaemonSet, number: Int, owner: OwnerReference) -> ControllerRevision {
        let hash = hash(template: ds.spec.template, collisionCount: ds.status.collisionCount)
        var metadata = ObjectMeta()
        metadata.name = "\(ds.metadata.name ?? "")-\(hash)"
        metadata.namespace = ds.metadata.namespace
        var labels = ds.spec.template.metadata.labels
        labels[DaemonSetPlanning.revisionHashLabel] = hash
        metadata.labels = labels
        let annotations = ds.metadata.annotations
        if !annotations.isEmpty { metadata.annotations = annotations }
        metadata.ownerReferences = [owner]
        var revision = ControllerRevision(metadata: metadata)
        revision.raw["data"] = patch(ds)
        revision.revision = number
        return revision
    }

    /// Old revisions to delete (`cleanupHistory`): beyond `revisionHistoryLimit`, lowest
    /// revision first, never one whose hash a live pod still carries.
    public static func revisionsToDelete(old: [ControllerRevision], limit: Int, liveHashes: Set<String>) -> [String] {
        var toKill = old.count - limit
        guard toKill > 0 else { return [] }
        var names: [String] = []
        for revision in old.sorted(by: { ($0.revision ?? 0) < ($1.revision ?? 0) }) {
            guard toKill > 0 else { break }
            if let hash = revision.metadata.labels[DaemonSetPlanning.revisionHashLabel], liveHashes.contains(hash) { continue }
            names.append(revision.metadata.name ?? "")
            toKill -= 1
        }
        return names
    }
}
