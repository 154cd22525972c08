public import Orca

/// The pure parts of Kubernetes' StatefulSet controller (`stateful_set_utils.go`): pod identity,
/// ordinals, revisions and status.
public enum StatefulSetPlanning {
    /// The pod label holding the name of the revision a pod was made from.
    public static let revisionLabel = "controller-revision-hash"
    public static let podNameLabel = "statefulset.kubernetes.io/pod-name"
    public static let podIndexLabel = "apps.kubernetes.io/pod-index"
    /// `history.ControllerRevisionHashLabel`.
    public static let revisionHashLabel = "controller.kubernetes.io/hash"

    public static func replicas(_ set: StatefulSet) -> Int { set.spec.replicas ?? 1 }
    public static func startOrdinal(_ set: StatefulSet) -> Int { set.spec.ordinals?.start ?? 0 }
    /// Not OrderedReady: pods are created and deleted without waiting for each other.
    public static func allowsBurst(_ set: StatefulSet) -> Bool { set.spec.podManagementPolicy == "Parallel" }

    /// `getParentNameAndOrdinal`: `web-3` of set `web` is ordinal 3; nil for a name of another
    /// shape.
    public static func ordinal(of podName: String, in set: StatefulSet) -> Int? {
        let prefix = (set.metadata.name ?? "") + "-"
        guard podName.hasPrefix(prefix) else { return nil }
        let digits = podName.dropFirst(prefix.count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let n = Int(digits) else { return nil }
        return n
    }

    /// `podInOrdinalRange`.
    public static func inRange(_ ordinal: Int, _ set: StatefulSet) -> Bool {
        ordinal >= startOrdinal(set) && ordinal < startOrdinal(set) + replicas(set)
    }

    /// `newStatefulSetPod` + `setPodRevision`: the pod of `ordinal` from the set's template, named
    /// `<set>-<ordinal>`, with its identity (hostname, subdomain, pod-name and pod-index labels),
    /// a volume per claim template and the revision label.
    public static func pod(_ set: StatefulSet, ordinal: Int, revision: String, owner: OwnerReference) -> Pod {
        let name = "\(set.metadata.name ?? "")-\(ordinal)"
        var pod = PodUtil.pod(from: set.spec.template, namespace: set.metadata.namespace, name: name,
                              labels: [podNameLabel: name, podIndexLabel: String(ordinal), revisionLabel: revision], owner: owner)
        pod.spec.raw["hostname"] = .string(name)
        if let service = set.spec.serviceName, !service.isEmpty { pod.spec.raw["subdomain"] = .string(service) }
        // updateStorage: each claim template is mounted from the claim `<template>-<pod>`.
        var volumes = pod.spec.raw["volumes"]?.arrayValue ?? []
        for claim in set.spec.raw["volumeClaimTemplates"]?.arrayValue ?? [] {
            guard let claimName = claim[path: ["metadata", "name"]]?.stringValue else { continue }
            let volume: JSONValue = ["name": .string(claimName),
                                     "persistentVolumeClaim": ["claimName": .string("\(claimName)-\(name)")]]
            if let i = volumes.firstIndex(where: { $0["name"]?.stringValue == claimName }) { volumes[i] = volume } else { volumes.append(volume) }
        }
        if !volumes.isEmpty { pod.spec.raw["volumes"] = .array(volumes) }
        return pod
    }

    /// `identityMatches`: the pod carries its name's identity.
    public static func identityMatches(_ set: StatefulSet, _ pod: Pod) -> Bool {
        guard let name = pod.metadata.name, let ordinal = ordinal(of: name, in: set) else { return false }
        let service = set.spec.serviceName ?? ""
        return pod.metadata.namespace == set.metadata.namespace
            && pod.metadata.labels[podNameLabel] == name
            && pod.metadata.labels[podIndexLabel] == String(ordinal)
            && (pod.spec.raw["hostname"]?.stringValue ?? "") == name
            && (pod.spec.raw["subdomain"]?.stringValue ?? "") == service
    }

    /// `updateIdentity`: the pod with its identity restored.
    public static func withIdentity(_ set: StatefulSet, _ pod: Pod) -> Pod {
        var pod = pod
        let name = pod.metadata.name ?? ""
        var labels = pod.metadata.labels
        labels[podNameLabel] = name
        if let ordinal = ordinal(of: name, in: set) { labels[podIndexLabel] = String(ordinal) }
        pod.metadata.labels = labels
        pod.spec.raw["hostname"] = .string(name)
        let service = set.spec.serviceName ?? ""
        pod.spec.raw["subdomain"] = service.isEmpty ? nil : .string(service)
        return pod
    }

    public static func isCreated(_ pod: Pod) -> Bool { !(pod.status.phase ?? "").isEmpty }
    public static func isTerminating(_ pod: Pod) -> Bool { pod.metadata.deletionTimestamp != nil }
    public static func isRunningAndReady(_ pod: Pod) -> Bool { pod.status.phase == "Running" && PodUtil.isReady(pod) }
    public static func isHealthy(_ pod: Pod) -> Bool { isRunningAndReady(pod) && !isTerminating(pod) }
    public static func isRunningAndAvailable(_ pod: Pod, minReadySeconds: Int, now: Timestamp) -> Bool {
        PodUtil.isAvailable(pod, minReadySeconds: minReadySeconds, now: now)
    }

    /// `newRevision`: the ControllerRevision holding the set's template as a patch, named
    /// `<set>-<hash>` and labelled with the template's labels and the hash.
    public static func revision(_ set: StatefulSet, number: Int, collisionCount: Int, owner: OwnerReference) -> ControllerRevision {
        let data = TemplateHash.revisionPatch(set.spec.template)
        let hash = TemplateHash.controllerRevisionHash(data: data, collisionCount: collisionCount)
        var metadata = ObjectMeta()
        metadata.name = "\(String((set.metadata.name ?? "").prefix(223)))-\(hash)"
        metadata.namespace = set.metadata.namespace
        var labels = set.spec.template.metadata.labels
        labels[revisionHashLabel] = hash
        metadata.labels = labels
        let annotations = set.metadata.annotations
        if !annotations.isEmpty { metadata.annotations = annotations }
        metadata.ownerReferences = [owner]
        var revision = ControllerRevision(metadata: metadata)
        revision.raw["data"] = data
        revision.revision = number
        return revision
    }

    /// `ApplyRevision`: the set with the template a revision holds.
    public static func applying(_ revision: ControllerRevision, to set: StatefulSet) -> StatefulSet {
        guard let template = revision.raw["data"]?[path: ["spec", "template"]]?.objectValue else { return set }
        var copy = set
        var raw = template
        raw["$patch"] = nil
        copy.spec.template = PodTemplateSpec(raw: raw)
        return copy
    }

    /// `computeReplicaStatus` over the given pods (placeholders not yet created do not count).
    public static func counts(_ pods: [Pod], minReadySeconds: Int, now: Timestamp, current: String, update: String)
        -> (replicas: Int, ready: Int, available: Int, current: Int, updated: Int) {
        var c = (replicas: 0, ready: 0, available: 0, current: 0, updated: 0)
        for pod in pods {
            if isCreated(pod) { c.replicas += 1 }
            if isRunningAndReady(pod) {
                c.ready += 1
                if isRunningAndAvailable(pod, minReadySeconds: minReadySeconds, now: now) { c.available += 1 }
            }
            if isCreated(pod), !isTerminating(pod) {
                let revision = pod.metadata.labels[revisionLabel]
                if revision == current { c.current += 1 }
                if revision == update { c.updated += 1 }
            }
        }
        return c
    }
}
