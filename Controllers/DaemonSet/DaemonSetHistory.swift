public import Orca

/// A DaemonSet's template history (`update.go`): one ControllerRevision per distinct template,
/// named `<ds>-<hash>`, labelled `controller-revision-hash: <hash>`, holding the patch that
/// restores the template; the current one has the highest revision.
public enum DaemonSetHistory {
    /// `controller.ComputeHash` (``TemplateHash/compute(_:collisionCount:)``).
    public static func hash(template: PodTemplateSpec, collisionCount: Int?) -> String {
        TemplateHash.compute(template, collisionCount: collisionCount)
    }

    /// `getPatch`: `{"spec":{"template":{…,"$patch":"replace"}}}` with every key sorted, as Go's
    /// JSON encoder writes a map — the `data` of a ControllerRevision.
    public static func patch(_ ds: DaemonSet) -> JSONValue { TemplateHash.revisionPatch(ds.spec.template) }

    /// `Match`: the revision holds the DaemonSet's current template.
    public static func matches(_ ds: DaemonSet, _ revision: ControllerRevision) -> Bool {
        guard let data = revision.raw["data"] else { return false }
        return canonical(data) == patch(ds)
    }

    static func canonical(_ value: JSONValue) -> JSONValue { TemplateHash.canonical(value) }

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
