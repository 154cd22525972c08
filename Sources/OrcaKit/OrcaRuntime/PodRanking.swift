public import OrcaAPI

/// Pod helpers shared by workload controllers (`pkg/controller/controller_utils.go`).
public enum PodUtil {
    /// Active = not Succeeded/Failed and no deletionTimestamp (`IsPodActive`).
    public static func isActive(_ pod: Pod) -> Bool {
        let phase = pod.status.phase
        return phase != "Succeeded" && phase != "Failed" && pod.metadata.deletionTimestamp == nil
    }

    public static func isReady(_ pod: Pod) -> Bool { pod.status.conditions[type: "Ready"]?.isTrue ?? false }

    /// When the pod last became Ready.
    public static func readyTime(_ pod: Pod) -> Timestamp? {
        guard let c = pod.status.conditions[type: "Ready"], c.isTrue else { return nil }
        return c.lastTransitionTime
    }

    /// Ready for more than `minReadySeconds` (`IsPodAvailable`: strictly before now).
    public static func isAvailable(_ pod: Pod, minReadySeconds: Int, now: Timestamp) -> Bool {
        guard let ready = readyTime(pod) else { return false }
        if minReadySeconds == 0 { return true }
        return ready.adding(.seconds(minReadySeconds)) < now
    }

    /// `GetPodFromTemplate`: a pod made from a workload's template — named `name`, or
    /// `generateName`, in `namespace` — with the template's labels (plus `labels`), annotations
    /// (plus `annotations`), finalizers (plus `finalizers`), the controller reference and spec.
    public static func pod(from template: PodTemplateSpec, namespace: String?, name: String? = nil, generateName: String? = nil,
                           labels extraLabels: [String: String] = [:], annotations extraAnnotations: [String: String] = [:],
                           finalizers extraFinalizers: [String] = [], owner: OwnerReference) -> Pod {
        var metadata = ObjectMeta()
        if let name { metadata.name = name }
        if let generateName { metadata.generateName = generateName }
        metadata.namespace = namespace
        let labels = template.metadata.labels.merging(extraLabels) { _, new in new }
        if !labels.isEmpty { metadata.labels = labels }
        let annotations = template.metadata.annotations.merging(extraAnnotations) { _, new in new }
        if !annotations.isEmpty { metadata.annotations = annotations }
        var finalizers = template.metadata.finalizers
        for f in extraFinalizers where !finalizers.contains(f) { finalizers.append(f) }
        if !finalizers.isEmpty { metadata.finalizers = finalizers }
        metadata.ownerReferences = [owner]
        var pod = Pod(metadata: metadata)
        pod.spec = template.spec
        return pod
    }

    /// The pod's controller owner reference.
    public static func controllerRef(_ pod: Pod) -> OwnerReference? {
        pod.metadata.ownerReferences.first { $0.controller == true }
    }

    public static func maxRestarts(_ pod: Pod) -> Int {
        pod.status.containerStatuses.map { $0.restartCount ?? 0 }.max() ?? 0
    }

    /// `controller.kubernetes.io/pod-deletion-cost` (int32, default 0).
    public static func deletionCost(_ pod: Pod) -> Int32 {
        pod.metadata.annotations["controller.kubernetes.io/pod-deletion-cost"].flatMap { Int32($0) } ?? 0
    }
}

/// Scale-down victim order (`ActivePodsWithRanks.Less` with PodDeletionCost and
/// LogarithmicScaleDown): the pods that sort first are deleted first.
public enum PodRanking {
    static func phaseOrdinal(_ phase: String?) -> Int {
        switch phase {
        case "Pending": return 0
        case "Unknown": return 1
        case "Running": return 2
        default: return 3
        }
    }

    /// floor(log2(now − t)) in nanoseconds, −1 for a non-positive age.
    static func logRank(_ t: Timestamp, now: Timestamp) -> Int64 {
        let d = now.nanoseconds - t.nanoseconds
        guard d > 0 else { return -1 }
        return Int64(63 - d.leadingZeroBitCount)
    }

    /// Whether `a` should be deleted before `b`; `rank` counts related active pods on a pod's node.
    public static func deleteBefore(_ a: Pod, _ b: Pod, rankA: Int, rankB: Int, now: Timestamp) -> Bool {
        let nodeA = a.spec.nodeName ?? "", nodeB = b.spec.nodeName ?? ""
        if nodeA.isEmpty != nodeB.isEmpty { return nodeA.isEmpty }
        let pa = phaseOrdinal(a.status.phase), pb = phaseOrdinal(b.status.phase)
        if pa != pb { return pa < pb }
        let ra = PodUtil.isReady(a), rb = PodUtil.isReady(b)
        if ra != rb { return !ra }
        let ca = PodUtil.deletionCost(a), cb = PodUtil.deletionCost(b)
        if ca != cb { return ca < cb }
        if rankA != rankB { return rankA > rankB }
        let uidA = a.metadata.uid ?? "", uidB = b.metadata.uid ?? ""
        if ra && rb, let ta = PodUtil.readyTime(a), let tb = PodUtil.readyTime(b), ta != tb {
            let diff = logRank(ta, now: now) - logRank(tb, now: now)
            if diff == 0 { return uidA < uidB }
            return diff < 0
        }
        let restartsA = PodUtil.maxRestarts(a), restartsB = PodUtil.maxRestarts(b)
        if restartsA != restartsB { return restartsA > restartsB }
        if let ta = a.metadata.creationTimestamp, let tb = b.metadata.creationTimestamp, ta != tb {
            let diff = logRank(ta, now: now) - logRank(tb, now: now)
            if diff == 0 { return uidA < uidB }
            return diff < 0
        }
        return false
    }

    /// The `count` pods to delete (`getPodsToDelete`): ranked by co-located related pods.
    public static func podsToDelete(_ pods: [Pod], related: [Pod], count: Int, now: Timestamp) -> [Pod] {
        guard count > 0 else { return [] }
        var onNode: [String: Int] = [:]
        for pod in related where PodUtil.isActive(pod) { onNode[pod.spec.nodeName ?? "", default: 0] += 1 }
        let ranked = pods.map { ($0, onNode[$0.spec.nodeName ?? ""] ?? 0) }
        let sorted = ranked.enumerated().sorted { x, y in
            if deleteBefore(x.element.0, y.element.0, rankA: x.element.1, rankB: y.element.1, now: now) { return true }
            if deleteBefore(y.element.0, x.element.0, rankA: y.element.1, rankB: x.element.1, now: now) { return false }
            return x.offset < y.offset
        }
        return sorted.prefix(count).map(\.element.0)
    }

    /// Slow-start batch sizes for `count` creations: 1, 2, 4, … (`slowStartBatch`).
    public static func slowStartBatches(_ count: Int, initial: Int = 1) -> [Int] {
        var batches: [Int] = []
        var remaining = count
        var size = min(remaining, initial)
        while size > 0 {
            batches.append(size)
            remaining -= size
            size = min(2 * size, remaining)
        }
        return batches
    }
}

extension PodRanking {
    /// `controller.ActivePods.Less`, the order in which surplus pods go when ranks do not apply
    /// (the Job controller): unscheduled < scheduled, Pending < Unknown < Running, not ready <
    /// ready, ready more recently first, more restarts first, newer first; then by name.
    public static func activePodsLess(_ a: Pod, _ b: Pod) -> Bool {
        let nodeA = a.spec.nodeName ?? "", nodeB = b.spec.nodeName ?? ""
        if nodeA.isEmpty != nodeB.isEmpty { return nodeA.isEmpty }
        let pa = phaseOrdinal(a.status.phase), pb = phaseOrdinal(b.status.phase)
        if pa != pb { return pa < pb }
        let ra = PodUtil.isReady(a), rb = PodUtil.isReady(b)
        if ra != rb { return !ra }
        if ra && rb, PodUtil.readyTime(a) != PodUtil.readyTime(b) { return afterOrZero(PodUtil.readyTime(a), PodUtil.readyTime(b)) }
        let restartsA = PodUtil.maxRestarts(a), restartsB = PodUtil.maxRestarts(b)
        if restartsA != restartsB { return restartsA > restartsB }
        if a.metadata.creationTimestamp != b.metadata.creationTimestamp {
            return afterOrZero(a.metadata.creationTimestamp, b.metadata.creationTimestamp)
        }
        return (a.metadata.name ?? "") < (b.metadata.name ?? "")
    }

    /// `afterOrZero`: a missing time sorts first, then the later one.
    static func afterOrZero(_ a: Timestamp?, _ b: Timestamp?) -> Bool {
        guard let a else { return true }
        guard let b else { return false }
        return a > b
    }

    /// The first `count` pods in ``activePodsLess(_:_:)`` order (`activePodsForRemoval`).
    public static func activePodsForRemoval(_ pods: [Pod], count: Int) -> [Pod] {
        guard count > 0 else { return [] }
        return Array(pods.sorted(by: activePodsLess).prefix(count))
    }
}
