public import Orca

/// The pure half of the DaemonSet controller (`pkg/controller/daemon/daemon_controller.go`,
/// `update.go`, `util/daemonset_util.go`): which nodes should run a daemon pod, what a daemon
/// pod looks like, which pods go, and how a rolling update proceeds. Nothing here reads a clock
/// or writes; the controller gathers the inputs and submits the results.
public enum DaemonSetPlanning {
    /// `controller-revision-hash`: the ControllerRevision a pod was made from.
    public static let revisionHashLabel = "controller-revision-hash"
    /// `pod-template-generation`: the DaemonSet template generation a pod was made from (legacy).
    public static let templateGenerationLabel = "pod-template-generation"
    /// `deprecated.daemonset.template.generation`, kept on the DaemonSet by the API server.
    public static let templateGenerationAnnotation = "deprecated.daemonset.template.generation"

    // MARK: Node eligibility

    /// `AddOrUpdateDaemonPodTolerations`: daemon pods tolerate the node lifecycle taints forever
    /// (`not-ready` and `unreachable` NoExecute, the pressure and `unschedulable` NoSchedule
    /// taints, and `network-unavailable` for host-network pods). A toleration with the same key,
    /// operator, value and effect is replaced; others are kept.
    public static func addDaemonTolerations(_ spec: inout PodSpec) {
        var keys: [(String, String)] = [
            (Taint.notReadyKey, "NoExecute"), (Taint.unreachableKey, "NoExecute"),
            ("node.kubernetes.io/disk-pressure", "NoSchedule"), ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"), (Taint.unschedulableKey, "NoSchedule"),
        ]
        if spec.hostNetwork == true { keys.append(("node.kubernetes.io/network-unavailable", "NoSchedule")) }
        var tolerations = spec.tolerations
        for (key, effect) in keys {
            var toleration = Toleration(raw: JSONObject())
            toleration.key = key
            toleration.operator = "Exists"
            toleration.effect = effect
            // `MatchToleration`: key, operator, value and effect (not tolerationSeconds).
            if let i = tolerations.firstIndex(where: {
                ($0.key ?? "") == key && ($0.operator ?? "Equal") == "Exists" && ($0.value ?? "") == "" && ($0.effect ?? "") == effect
            }) {
                tolerations[i] = toleration
            } else {
                tolerations.append(toleration)
            }
        }
        spec.tolerations = tolerations
    }

    /// `NewPod`: the would-be daemon pod for `nodeName` (template, namespace, node name and the
    /// daemon tolerations), as eligibility sees it.
    public static func wouldBePod(_ ds: DaemonSet, nodeName: String) -> Pod {
        var metadata = ObjectMeta(raw: ds.spec.template.metadata.raw)
        metadata.namespace = ds.metadata.namespace
        var pod = Pod(metadata: metadata)
        var spec = ds.spec.template.spec
        spec.nodeName = nodeName
        addDaemonTolerations(&spec)
        pod.spec = spec
        return pod
    }

    /// `NodeShouldRunDaemonPod`: whether a daemon pod should be started on `node` (`shouldRun`)
    /// and whether one already there may stay (`shouldContinueRunning`). The template's
    /// `nodeName`, `nodeSelector` and required node affinity must match; an untolerated NoSchedule
    /// or NoExecute taint stops new pods, and only an untolerated NoExecute taint removes running
    /// ones. Node readiness and capacity are not considered (the scheduler handles resources).
    public static func nodeShouldRun(_ node: Node, _ ds: DaemonSet) -> (shouldRun: Bool, shouldContinueRunning: Bool) {
        let nodeName = node.metadata.name ?? ""
        if let pinned = ds.spec.template.spec.nodeName, !pinned.isEmpty, pinned != nodeName { return (false, false) }
        let pod = wouldBePod(ds, nodeName: nodeName)
        guard pod.spec.requiredNodeAffinityMatches(node) else { return (false, false) }
        let tolerations = pod.spec.tolerations
        let untolerated = node.spec.taints.filter { !tolerations.tolerate($0) }
        let blocking = untolerated.contains { $0.effect == "NoSchedule" || $0.effect == "NoExecute" }
        guard blocking else { return (true, true) }
        return (false, !untolerated.contains { $0.effect == "NoExecute" })
    }

    // MARK: Daemon pods

    /// `ReplaceDaemonSetPodNodeNameNodeAffinity`: required node affinity pinning the pod to
    /// `nodeName` by `matchFields metadata.name`, replacing any required terms and keeping the
    /// rest of the affinity.
    public static func pinnedAffinity(_ affinity: Affinity?, nodeName: String) -> Affinity {
        let term: JSONValue = ["matchFields": [["key": "metadata.name", "operator": "In", "values": [.string(nodeName)]]]]
        var result = affinity ?? Affinity(raw: JSONObject())
        var nodeAffinity = result.raw["nodeAffinity"]?.objectValue ?? JSONObject()
        var required = nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"]?.objectValue ?? JSONObject()
        required["nodeSelectorTerms"] = [term]
        nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"] = .object(required)
        result.raw["nodeAffinity"] = .object(nodeAffinity)
        return result
    }

    /// `CreatePodTemplate` + `ReplaceDaemonSetPodNodeNameNodeAffinity` + `GetPodFromTemplate`:
    /// the pod to create for `nodeName` — the template with the daemon tolerations, labels
    /// `pod-template-generation` and `controller-revision-hash`, `generateName: <ds>-`, a
    /// controller reference, and affinity pinning it to the node (the scheduler binds it).
    public static func daemonPod(_ ds: DaemonSet, nodeName: String, hash: String, owner: OwnerReference) -> Pod {
        var labels: [String: String] = [:]
        if let generation = templateGeneration(ds) { labels[templateGenerationLabel] = String(generation) }
        if !hash.isEmpty { labels[revisionHashLabel] = hash }
        var pod = PodUtil.pod(from: ds.spec.template, namespace: ds.metadata.namespace, generateName: "\(ds.metadata.name ?? "")-",
                              labels: labels, owner: owner)
        var spec = pod.spec
        addDaemonTolerations(&spec)
        spec.affinity = pinnedAffinity(spec.affinity, nodeName: nodeName)
        pod.spec = spec
        return pod
    }

    /// `GetTargetNodeName`: the bound node, or for an unbound daemon pod the single node its
    /// required affinity names (`matchFields metadata.name In [node]`); nil otherwise.
    public static func targetNodeName(_ pod: Pod) -> String? {
        if let node = pod.spec.nodeName, !node.isEmpty { return node }
        guard let terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
              terms.count == 1, terms[0].matchFields.count == 1 else { return nil }
        let field = terms[0].matchFields[0]
        guard field.key == "metadata.name", field.operator == "In", field.values.count == 1 else { return nil }
        return field.values[0]
    }

    /// `podByCreationTimestampAndPhase`: scheduled pods first, then older first, then by name.
    public static func olderFirst(_ a: Pod, _ b: Pod) -> Bool {
        let boundA = !(a.spec.nodeName ?? "").isEmpty, boundB = !(b.spec.nodeName ?? "").isEmpty
        if boundA != boundB { return boundA }
        let ta = a.metadata.creationTimestamp, tb = b.metadata.creationTimestamp
        if ta == tb { return (a.metadata.name ?? "") < (b.metadata.name ?? "") }
        guard let ta else { return true }
        guard let tb else { return false }
        return ta < tb
    }

    /// The DaemonSet's template generation (`GetTemplateGeneration`), from its annotation.
    public static func templateGeneration(_ ds: DaemonSet) -> Int? {
        ds.metadata.annotations[templateGenerationAnnotation].flatMap { Int($0) }
    }

    /// `IsPodUpdated`: the pod carries the current revision hash or template generation.
    public static func isUpdated(_ pod: Pod, hash: String, generation: Int?) -> Bool {
        let labels = pod.metadata.labels
        if let generation, labels[templateGenerationLabel] == String(generation) { return true }
        return !hash.isEmpty && labels[revisionHashLabel] == hash
    }

    /// Whether the update strategy lets a node briefly run an old and a new pod (`AllowsSurge`).
    public static func allowsSurge(_ ds: DaemonSet) -> Bool {
        guard (ds.spec.updateStrategy.type ?? "RollingUpdate") == "RollingUpdate" else { return false }
        return (ds.spec.updateStrategy.rollingUpdate?.maxSurge?.scaled(total: 1, roundUp: true) ?? 0) > 0
    }

    // MARK: podsShouldBeOnNode

    /// What one node needs (`podsShouldBeOnNode`).
    public struct NodePlan: Sendable, Equatable {
        /// A new daemon pod should be created on the node.
        public var create = false
        /// Pods to delete, by name.
        public var delete: [String] = []
        /// Failed pods to delete (each gets a `FailedDaemonPod` event and a back-off step).
        public var failed: [String] = []
        /// Succeeded pods to delete (each gets a `SucceededDaemonPod` event).
        public var succeeded: [String] = []
        /// Failed pods left alone because the node's back-off has not expired.
        public var failedInBackoff = false

        public init(create: Bool = false, delete: [String] = [], failed: [String] = [], succeeded: [String] = [],
                    failedInBackoff: Bool = false) {
            (self.create, self.delete, self.failed, self.succeeded, self.failedInBackoff) = (create, delete, failed, succeeded, failedInBackoff)
        }
    }

    /// Decides creations and deletions for one node: `pods` are the DaemonSet's claimed pods
    /// targeting it (``nodeToDaemonPods(_:includeDeletedTerminal:)``; empty when it has none);
    /// `inBackoff` says whether failed pods on this node must wait; `now` judges availability
    /// for surge.
    public static func podsShouldBeOnNode(_ node: Node, pods: [Pod], ds: DaemonSet, hash: String,
                                          inBackoff: Bool, now: Timestamp) -> NodePlan {
        let (shouldRun, shouldContinueRunning) = nodeShouldRun(node, ds)
        var plan = NodePlan()
        guard !pods.isEmpty else {
            plan.create = shouldRun
            return plan
        }
        if shouldContinueRunning {
            var running: [Pod] = []
            for pod in pods where pod.metadata.deletionTimestamp == nil {
                switch pod.status.phase {
                case "Failed":
                    if inBackoff { plan.failedInBackoff = true } else { plan.failed.append(pod.metadata.name ?? "") }
                case "Succeeded":
                    plan.succeeded.append(pod.metadata.name ?? "")
                default:
                    running.append(pod)
                }
            }
            if !allowsSurge(ds) {
                if running.count > 1 {
                    plan.delete = running.sorted(by: olderFirst).dropFirst().map { $0.metadata.name ?? "" }
                }
                return plan
            }
            if running.count <= 1 {
                // Surging needs at least one live pod on the node.
                if running.isEmpty && shouldRun { plan.create = true }
                return plan
            }
            // Keep the oldest new pod, and the oldest old pod while the new one is not yet available.
            var oldestNew: Pod?, oldestOld: Pod?
            for pod in running.sorted(by: olderFirst) {
                if pod.metadata.labels[revisionHashLabel] == hash {
                    if oldestNew == nil { oldestNew = pod; continue }
                } else if oldestOld == nil {
                    oldestOld = pod
                    continue
                }
                plan.delete.append(pod.metadata.name ?? "")
            }
            if let oldestNew, let oldestOld {
                if !PodUtil.isReady(oldestOld)
                    || PodUtil.isAvailable(oldestNew, minReadySeconds: ds.spec.minReadySeconds ?? 0, now: now) {
                    plan.delete.append(oldestOld.metadata.name ?? "")
                }
            }
        } else {
            plan.delete = pods.filter { $0.metadata.deletionTimestamp == nil }.map { $0.metadata.name ?? "" }
        }
        return plan
    }

    /// `getNodesToDaemonPods`: claimed pods grouped by target node (``targetNodeName(_:)``),
    /// without terminal pods already being deleted unless `includeDeletedTerminal` (history
    /// cleanup counts them); pods with no target node are left out.
    public static func nodeToDaemonPods(_ pods: [Pod], includeDeletedTerminal: Bool = false) -> [String: [Pod]] {
        var map: [String: [Pod]] = [:]
        for pod in pods {
            let terminal = pod.status.phase == "Succeeded" || pod.status.phase == "Failed"
            if !includeDeletedTerminal && terminal && pod.metadata.deletionTimestamp != nil { continue }
            guard let node = targetNodeName(pod) else { continue }
            map[node, default: []].append(pod)
        }
        return map
    }

    /// `getUnscheduledPodsWithoutNode`: unbound daemon pods aimed at nodes that no longer exist
    /// (pod GC never sees them, so the DaemonSet deletes them), in node then name order.
    public static func unscheduledPodsWithoutNode(_ nodeToPods: [String: [Pod]], nodes: Set<String>) -> [String] {
        nodeToPods.keys.sorted().filter { !nodes.contains($0) }.flatMap { node in
            nodeToPods[node, default: []].filter { ($0.spec.nodeName ?? "").isEmpty }.map { $0.metadata.name ?? "" }
        }
    }

    // MARK: Rolling update

    /// `updatedDesiredNodeCounts`: maxSurge, maxUnavailable (percentages of the desired count,
    /// rounded up; both zero means maxUnavailable 1) and the desired number scheduled. Nil when a
    /// value is not a number or a percentage.
    public static func rollingCounts(_ ds: DaemonSet, desired: Int) -> (maxSurge: Int, maxUnavailable: Int)? {
        let rolling = ds.spec.updateStrategy.rollingUpdate
        guard let maxUnavailable = (rolling?.maxUnavailable ?? .int(1)).scaled(total: desired, roundUp: true),
              let maxSurge = (rolling?.maxSurge ?? .int(0)).scaled(total: desired, roundUp: true) else { return nil }
        if desired > 0 && maxUnavailable == 0 && maxSurge == 0 { return (0, 1) }
        return (maxSurge, maxUnavailable)
    }

    /// `findUpdatedPodsOnNode`: the node's one new and one old live pod; nil when it has more of
    /// either (the manage loop prunes those first).
    public static func updatedPodsOnNode(_ pods: [Pod], hash: String, generation: Int?) -> (new: Pod?, old: Pod?)? {
        var new: Pod?, old: Pod?
        for pod in pods where pod.metadata.deletionTimestamp == nil {
            if isUpdated(pod, hash: hash, generation: generation) {
                if new != nil { return nil }
                new = pod
            } else {
                if old != nil { return nil }
                old = pod
            }
        }
        return (new, old)
    }

    /// What a rolling-update pass does: old pods to delete and nodes to surge onto.
    public struct RollingPlan: Sendable, Equatable {
        public var delete: [String] = []
        public var create: [String] = []

        public init(delete: [String] = [], create: [String] = []) { (self.delete, self.create) = (delete, create) }
    }

    /// `rollingUpdate`. `nodeToPods` maps every node that should run the DaemonSet (even without
    /// pods) and every node with daemon pods to its pods; nodes are taken in name order (upstream
    /// walks a Go map). Without surge, old pods are deleted while fewer than maxUnavailable nodes
    /// are unavailable (unavailable old pods are always replaceable); with surge, new pods are
    /// created beside old ones up to maxSurge, and an old pod goes once its node's new pod is
    /// available.
    public static func rollingUpdate(_ ds: DaemonSet, nodes: [String: Node], nodeToPods: [String: [Pod]], hash: String,
                                     now: Timestamp) -> RollingPlan? {
        let desired = nodes.values.filter { nodeShouldRun($0, ds).shouldRun }.count
        guard let (maxSurge, maxUnavailable) = rollingCounts(ds, desired: desired) else { return nil }
        let generation = templateGeneration(ds)
        let minReady = ds.spec.minReadySeconds ?? 0
        func available(_ pod: Pod) -> Bool { PodUtil.isAvailable(pod, minReadySeconds: minReady, now: now) }
        var plan = RollingPlan()
        if maxSurge == 0 {
            var unavailable = 0
            var replacements: [String] = []
            var candidates: [String] = []
            for nodeName in nodeToPods.keys.sorted() {
                guard let (new, old) = updatedPodsOnNode(nodeToPods[nodeName] ?? [], hash: hash, generation: generation) else {
                    unavailable += 1
                    continue
                }
                switch (new, old) {
                case (nil, nil), (.some, .some):
                    unavailable += 1
                case (.some(let new), nil):
                    if !available(new) { unavailable += 1 }
                case (nil, .some(let old)):
                    if !available(old) {
                        replacements.append(old.metadata.name ?? "")
                        unavailable += 1
                    } else if unavailable < maxUnavailable {
                        candidates.append(old.metadata.name ?? "")
                    }
                }
            }
            let remaining = min(max(maxUnavailable - unavailable, 0), candidates.count)
            plan.delete = replacements + candidates.prefix(remaining)
            return plan
        }
        var shouldNotRun: [String] = []
        var candidates: [String] = []
        var allowed: [String] = []
        var surge = 0
        var availableCount = 0
        for nodeName in nodeToPods.keys.sorted() {
            guard let (new, old) = updatedPodsOnNode(nodeToPods[nodeName] ?? [], hash: hash, generation: generation) else {
                surge += 1
                continue
            }
            if let old { if available(old) { availableCount += 1 } } else if let new, available(new) { availableCount += 1 }
            switch (new, old) {
            case (_, nil):
                break
            case (nil, .some(let old)):
                // A node that is gone counts as one that should not run the pod.
                let shouldRun = nodes[nodeName].map { nodeShouldRun($0, ds).shouldRun } ?? false
                if !available(old) {
                    if shouldRun { allowed.append(nodeName) } else { plan.delete.append(old.metadata.name ?? "") }
                } else if !shouldRun {
                    shouldNotRun.append(old.metadata.name ?? "")
                } else if surge < maxSurge {
                    candidates.append(nodeName)
                }
            case (.some(let new), .some(let old)):
                if available(new) { plan.delete.append(old.metadata.name ?? "") } else { surge += 1 }
            }
        }
        // Pods on nodes that no longer fit go only while the rest keeps everything available.
        let deletable = min(max(availableCount - desired, 0), shouldNotRun.count)
        plan.delete += shouldNotRun.prefix(deletable)
        let remaining = min(max(maxSurge - surge, 0), candidates.count)
        plan.create = allowed + candidates.prefix(remaining)
        return plan
    }

    // MARK: Status

    /// The counts of a DaemonSet's status (`updateDaemonSetStatus`).
    public struct StatusCounts: Sendable, Equatable {
        public var desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0
        public var unavailable: Int { desired - available }
        public init() {}
    }

    /// For each node: one that should run the pod counts toward desired, and if it has pods,
    /// toward current, with its oldest pod judged ready, available and updated; one that should
    /// not but has pods counts as misscheduled.
    public static func statusCounts(_ ds: DaemonSet, nodes: [Node], nodeToPods: [String: [Pod]], hash: String,
                                    now: Timestamp) -> StatusCounts {
        var counts = StatusCounts()
        let generation = templateGeneration(ds)
        let minReady = ds.spec.minReadySeconds ?? 0
        for node in nodes {
            let pods = nodeToPods[node.metadata.name ?? ""] ?? []
            guard nodeShouldRun(node, ds).shouldRun else {
                if !pods.isEmpty { counts.misscheduled += 1 }
                continue
            }
            counts.desired += 1
            guard let pod = pods.sorted(by: olderFirst).first else { continue }
            counts.current += 1
            if PodUtil.isReady(pod) {
                counts.ready += 1
                if PodUtil.isAvailable(pod, minReadySeconds: minReady, now: now) { counts.available += 1 }
            }
            if isUpdated(pod, hash: hash, generation: generation) { counts.updated += 1 }
        }
        return counts
    }
}
