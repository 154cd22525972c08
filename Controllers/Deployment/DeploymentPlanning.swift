public import Orca

/// The arithmetic of Kubernetes' Deployment controller (`pkg/controller/deployment/util`), as
/// pure functions of a Deployment and its ReplicaSets.
public enum DeploymentPlanning {
    /// The label that tells the ReplicaSets (and pods) of one Deployment apart.
    public static let uniqueLabelKey = "pod-template-hash"
    public static let revisionAnnotation = "deployment.kubernetes.io/revision"
    public static let revisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
    public static let desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
    public static let maxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
    /// Annotations of a Deployment not copied to its ReplicaSets.
    static let annotationsToSkip: Set<String> = [Store.lastAppliedAnnotation, revisionAnnotation, revisionHistoryAnnotation,
                                                 desiredReplicasAnnotation, maxReplicasAnnotation, "deprecated.deployment.rollback.to"]
    /// `maxRevHistoryLengthInChars`.
    static let maxRevisionHistoryLength = 2000

    // Condition reasons (`deployment_util.go`).
    public static let newRSReason = "NewReplicaSetCreated"
    public static let foundNewRSReason = "FoundNewReplicaSet"
    public static let newRSAvailableReason = "NewReplicaSetAvailable"
    public static let replicaSetUpdatedReason = "ReplicaSetUpdated"
    public static let timedOutReason = "ProgressDeadlineExceeded"
    public static let pausedReason = "DeploymentPaused"
    public static let resumedReason = "DeploymentResumed"
    public static let failedRSCreateReason = "ReplicaSetCreateError"

    public static func replicas(_ d: Deployment) -> Int { d.spec.replicas ?? 1 }
    public static func replicas(_ rs: ReplicaSet) -> Int { rs.spec.replicas ?? 1 }
    public static func isRollingUpdate(_ d: Deployment) -> Bool { d.spec.strategy.type == "RollingUpdate" }

    /// `ResolveFenceposts`: maxSurge rounded up, maxUnavailable rounded down, of the desired
    /// count; both zero makes maxUnavailable 1.
    public static func fenceposts(_ d: Deployment) -> (surge: Int, unavailable: Int) {
        let desired = replicas(d)
        let rolling = d.spec.strategy.rollingUpdate
        let surge = (rolling?.maxSurge ?? .int(0)).scaled(total: desired, roundUp: true) ?? 0
        var unavailable = (rolling?.maxUnavailable ?? .int(0)).scaled(total: desired, roundUp: false) ?? 0
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (surge, unavailable)
    }

    /// `MaxSurge`: 0 unless rolling.
    public static func maxSurge(_ d: Deployment) -> Int { isRollingUpdate(d) ? fenceposts(d).surge : 0 }

    /// `MaxUnavailable`: 0 unless rolling with replicas, at most the replicas.
    public static func maxUnavailable(_ d: Deployment) -> Int {
        guard isRollingUpdate(d), replicas(d) != 0 else { return 0 }
        return min(fenceposts(d).unavailable, replicas(d))
    }

    /// `NewRSNewReplicas`: how big the new ReplicaSet may be now — rolling: grown within
    /// replicas + maxSurge pods in all; recreate: the full count.
    public static func newRSNewReplicas(_ d: Deployment, all: [ReplicaSet], new rs: ReplicaSet) -> Int {
        guard isRollingUpdate(d) else { return replicas(d) }
        let current = all.reduce(0) { $0 + replicas($1) }
        let maxTotal = replicas(d) + maxSurge(d)
        if current >= maxTotal { return replicas(rs) }
        return replicas(rs) + min(maxTotal - current, replicas(d) - replicas(rs))
    }

    /// `GetProportion`: the share of a scaling of `toAdd` replicas (`added` given out so far)
    /// that falls to `rs`, from its size against the `max-replicas` it was sized for.
    public static func proportion(_ rs: ReplicaSet, _ d: Deployment, toAdd: Int, added: Int) -> Int {
        guard replicas(rs) != 0, toAdd != 0, toAdd != added else { return 0 }
        let fraction = replicaSetFraction(rs, d)
        let allowed = toAdd - added
        return toAdd > 0 ? min(fraction, allowed) : max(fraction, allowed)
    }

    /// `getReplicaSetFraction`.
    static func replicaSetFraction(_ rs: ReplicaSet, _ d: Deployment) -> Int {
        if replicas(d) == 0 { return -replicas(rs) }
        let deploymentReplicas = replicas(d) + maxSurge(d)
        let annotated = rs.metadata.annotations[maxReplicasAnnotation].flatMap { Int($0) } ?? (d.status.replicas ?? 0)
        guard annotated != 0 else { return 0 }
        let size = Double(replicas(rs) * deploymentReplicas) / Double(annotated)
        return Int(size.rounded(.toNearestOrAwayFromZero)) - replicas(rs)
    }

    /// `EqualIgnoreHash`: the templates are equal but for the `pod-template-hash` label, an
    /// empty map or list counting as absent (apimachinery's semantic equality).
    public static func equalIgnoringHash(_ a: PodTemplateSpec, _ b: PodTemplateSpec) -> Bool {
        func normalized(_ template: PodTemplateSpec) -> JSONValue {
            var raw = template.raw
            if var labels = raw["metadata"]?["labels"]?.objectValue {
                labels[uniqueLabelKey] = nil
                raw["metadata"]?["labels"] = .object(labels)
            }
            return TemplateHash.canonical(pruned(.object(raw)) ?? .null)
        }
        return normalized(a) == normalized(b)
    }

    /// The value without null, empty maps and empty lists (nil when nothing is left).
    static func pruned(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .null: return nil
        case .object(let object):
            let entries = object.entries.compactMap { entry in pruned(entry.value).map { (key: entry.key, value: $0) } }
            return entries.isEmpty ? nil : .object(JSONObject(entries: entries))
        case .array(let items):
            return items.isEmpty ? nil : .array(items.map { pruned($0) ?? .null })
        default: return value
        }
    }

    /// `FindNewReplicaSet`: the oldest ReplicaSet whose template is the Deployment's.
    public static func findNew(_ d: Deployment, in list: [ReplicaSet]) -> ReplicaSet? {
        byCreation(list).first { equalIgnoringHash($0.spec.template, d.spec.template) }
    }

    /// `ReplicaSetsByCreationTimestamp`: oldest first, then by name.
    public static func byCreation(_ list: [ReplicaSet]) -> [ReplicaSet] {
        list.sorted { a, b in
            let (ta, tb) = (a.metadata.creationTimestamp ?? .zero, b.metadata.creationTimestamp ?? .zero)
            return ta == tb ? (a.metadata.name ?? "") < (b.metadata.name ?? "") : ta < tb
        }
    }

    /// `ReplicaSetsBySizeNewer` (larger first, then newer) or `ReplicaSetsBySizeOlder` (larger
    /// first, then older).
    public static func bySize(_ list: [ReplicaSet], newerFirst: Bool) -> [ReplicaSet] {
        let order = byCreation(list)
        let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($0.element.metadata.uid ?? "\($0.offset)", $0.offset) })
        func position(_ rs: ReplicaSet) -> Int { rank[rs.metadata.uid ?? ""] ?? 0 }
        return list.sorted { a, b in
            if replicas(a) != replicas(b) { return replicas(a) > replicas(b) }
            return newerFirst ? position(a) > position(b) : position(a) < position(b)
        }
    }

    /// `ReplicaSetsByRevision`: lowest revision first, then by creation.
    public static func byRevision(_ list: [ReplicaSet]) -> [ReplicaSet] {
        let order = byCreation(list)
        return order.enumerated().sorted { a, b in
            let (ra, rb) = (revision(a.element), revision(b.element))
            return ra == rb ? a.offset < b.offset : ra < rb
        }.map(\.element)
    }

    /// The `deployment.kubernetes.io/revision` of a ReplicaSet (0 when absent or not a number).
    public static func revision(_ rs: ReplicaSet) -> Int64 { rs.metadata.annotations[revisionAnnotation].flatMap { Int64($0) } ?? 0 }

    /// `FindActiveOrLatest`: the only ReplicaSet with replicas, or the new (else newest old)
    /// one when none has; nil when several have.
    public static func activeOrLatest(new: ReplicaSet?, old: [ReplicaSet]) -> ReplicaSet? {
        guard new != nil || !old.isEmpty else { return nil }
        let newestFirst = Array(byCreation(old).reversed())
        let active = (newestFirst + (new.map { [$0] } ?? [])).filter { replicas($0) > 0 }
        switch active.count {
        case 0: return new ?? newestFirst.first
        case 1: return active[0]
        default: return nil
        }
    }

    /// `IsSaturated`: the new ReplicaSet is sized for, and has, every replica available.
    public static func isSaturated(_ d: Deployment, _ rs: ReplicaSet?) -> Bool {
        guard let rs, let desired = rs.metadata.annotations[desiredReplicasAnnotation].flatMap({ Int($0) }) else { return false }
        return replicas(rs) == replicas(d) && desired == replicas(d) && (rs.status.availableReplicas ?? 0) == replicas(d)
    }

    /// `ReplicasAnnotationsNeedUpdate` / `SetReplicasAnnotations`: the annotations a ReplicaSet
    /// sized for `d` carries.
    public static func replicasAnnotations(_ d: Deployment) -> [String: String] {
        [desiredReplicasAnnotation: String(replicas(d)), maxReplicasAnnotation: String(replicas(d) + maxSurge(d))]
    }

    /// `SetNewReplicaSetAnnotations`: copies the Deployment's annotations (but the skipped ones),
    /// raises the revision to `newRevision` (keeping the old one in the revision history — a
    /// rollback), and for a ReplicaSet about to be created adds the replicas annotations.
    /// Returns whether anything changed.
    public static func setNewReplicaSetAnnotations(_ d: Deployment, _ rs: inout ReplicaSet, newRevision: Int64, exists: Bool) -> Bool {
        var annotations = rs.metadata.annotations
        var changed = false
        for (key, value) in d.metadata.annotations where !annotationsToSkip.contains(key) && annotations[key] != value {
            annotations[key] = value
            changed = true
        }
        let oldRevisionText = annotations[revisionAnnotation]
        let oldRevision: Int64
        if let text = oldRevisionText, !text.isEmpty {
            guard let value = Int64(text) else { return false }
            oldRevision = value
        } else {
            oldRevision = 0
        }
        if oldRevision < newRevision {
            annotations[revisionAnnotation] = String(newRevision)
            changed = true
            if let oldRevisionText {
                let history = annotations[revisionHistoryAnnotation] ?? ""
                if history.isEmpty {
                    annotations[revisionHistoryAnnotation] = oldRevisionText
                } else {
                    var revisions = history.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                    var total = history.count + oldRevisionText.count + 1
                    var start = 0
                    while total > maxRevisionHistoryLength && start < revisions.count {
                        total -= revisions[start].count + 1
                        start += 1
                    }
                    if total <= maxRevisionHistoryLength {
                        revisions = Array(revisions[start...]) + [oldRevisionText]
                        annotations[revisionHistoryAnnotation] = revisions.joined(separator: ",")
                    }
                }
            }
        }
        if !exists {
            for (key, value) in replicasAnnotations(d) where annotations[key] != value {
                annotations[key] = value
                changed = true
            }
        }
        rs.metadata.annotations = annotations  // written with keys sorted, as Go's JSON encoder does
        return changed
    }

    // MARK: Status

    /// `calculateStatus`: counts summed over the ReplicaSets, and the `Available` condition.
    public static func status(_ d: Deployment, all: [ReplicaSet], new: ReplicaSet?, now: Timestamp) -> DeploymentStatus {
        let available = all.reduce(0) { $0 + ($1.status.availableReplicas ?? 0) }
        let total = all.reduce(0) { $0 + replicas($1) }
        var status = DeploymentStatus(raw: JSONObject())
        func omittingZero(_ n: Int) -> Int? { n == 0 ? nil : n }
        status.observedGeneration = d.metadata.generation
        status.replicas = omittingZero(all.reduce(0) { $0 + ($1.status.replicas ?? 0) })
        status.updatedReplicas = omittingZero(new?.status.replicas ?? 0)
        status.readyReplicas = omittingZero(all.reduce(0) { $0 + ($1.status.readyReplicas ?? 0) })
        status.availableReplicas = omittingZero(available)
        status.unavailableReplicas = omittingZero(max(0, total - available))
        var conditions = d.status.conditions
        if available >= replicas(d) - maxUnavailable(d) {
            setCondition(&conditions, condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now))
        } else {
            setCondition(&conditions, condition("Available", "False", "MinimumReplicasUnavailable",
                                                "Deployment does not have minimum availability.", now))
        }
        status.conditions = conditions
        status.collisionCount = d.status.collisionCount
        return ordered(status)
    }

    /// DeploymentStatus in the API's field order.
    static func ordered(_ status: DeploymentStatus) -> DeploymentStatus {
        var status = status
        if status.raw["conditions"]?.arrayValue?.isEmpty == true { status.raw["conditions"] = nil }
        status.raw = status.raw.ordered(first: ["observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                                                "unavailableReplicas", "conditions", "collisionCount"])
        return status
    }

    /// `NewDeploymentCondition`, in DeploymentCondition's field order.
    public static func condition(_ type: String, _ status: String, _ reason: String, _ message: String, _ now: Timestamp) -> Condition {
        let time = JSONValue.string(Timestamp(seconds: now.seconds).rfc3339)
        return Condition(raw: ["type": .string(type), "status": .string(status), "lastUpdateTime": time, "lastTransitionTime": time,
                               "reason": .string(reason), "message": .string(message)])
    }

    /// `SetDeploymentCondition`: nothing when a condition of that type has the same status and
    /// reason; else it replaces it (keeping its transition time when the status is the same),
    /// at the end of the list.
    public static func setCondition(_ conditions: inout [Condition], _ condition: Condition) {
        var condition = condition
        if let current = conditions[type: condition.type] {
            if current.status == condition.status && current.reason == condition.reason { return }
            if current.status == condition.status { condition.raw["lastTransitionTime"] = current.raw["lastTransitionTime"] }
        }
        conditions.removeAll { $0.type == condition.type }
        conditions.append(condition)
    }

    /// `DeploymentComplete`: every replica updated and available, and the spec observed.
    public static func isComplete(_ d: Deployment, _ status: DeploymentStatus) -> Bool {
        let want = replicas(d)
        return (status.updatedReplicas ?? 0) == want && (status.replicas ?? 0) == want && (status.availableReplicas ?? 0) == want
            && (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
    }

    /// `DeploymentProgressing`: more updated, fewer old, more ready or more available replicas
    /// than the Deployment's current status shows.
    public static func isProgressing(_ d: Deployment, _ new: DeploymentStatus) -> Bool {
        let old = d.status
        let oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0)
        let newOld = (new.replicas ?? 0) - (new.updatedReplicas ?? 0)
        return (new.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld
            || (new.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (new.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
    }

    /// `DeploymentTimedOut`: the Progressing condition was last updated more than
    /// progressDeadlineSeconds ago (strictly).
    public static func hasTimedOut(_ d: Deployment, _ status: DeploymentStatus, now: Timestamp) -> Bool {
        guard let deadline = progressDeadline(d), let progressing = status.conditions[type: "Progressing"] else { return false }
        if progressing.reason == newRSAvailableReason { return false }
        if progressing.reason == timedOutReason { return true }
        guard let updated = lastUpdateTime(progressing) else { return false }
        return updated.adding(.seconds(deadline)) < now
    }

    /// `HasProgressDeadline`: set and not MaxInt32.
    public static func progressDeadline(_ d: Deployment) -> Int? {
        guard let seconds = d.spec.progressDeadlineSeconds, seconds != Int(Int32.max) else { return nil }
        return seconds
    }

    public static func lastUpdateTime(_ condition: Condition) -> Timestamp? {
        condition.raw["lastUpdateTime"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
    }
}
