import Orca

/// The two rollout strategies of a Deployment sync: RollingUpdate and Recreate.
extension DeploymentSync {
    /// `rolloutRolling`.
    func rolloutRolling() async throws -> ReconcileResult {
        let (created, old) = try await allReplicaSets(create: true)
        guard let new = created else { return .done }
        let all = old + [new]
        if try await reconcileNew(new, all: all) { return try await syncRolloutStatus(all: all, new: new) }
        if try await reconcileOld(old.filter { Plan.replicas($0) > 0 }, all: all, new: new) {
            return try await syncRolloutStatus(all: all, new: new)
        }
        if Plan.isComplete(d, d.status) { try await cleanup(old: old) }
        return try await syncRolloutStatus(all: all, new: new)
    }

    /// `reconcileNewReplicaSet`: grows the new ReplicaSet as far as maxSurge allows (or shrinks it
    /// to the replica count).
    func reconcileNew(_ new: ReplicaSet, all: [ReplicaSet]) async throws -> Bool {
        if Plan.replicas(new) == replicas { return false }
        if Plan.replicas(new) > replicas { return try await scale(new, to: replicas).scaled }
        return try await scale(new, to: Plan.newRSNewReplicas(d, all: all, new: new)).scaled
    }

    /// `reconcileOldReplicaSets`: scales old ReplicaSets down — their unhealthy replicas first,
    /// then as far as maxUnavailable allows.
    func reconcileOld(_ oldActive: [ReplicaSet], all: [ReplicaSet], new: ReplicaSet) async throws -> Bool {
        let oldCount = oldActive.reduce(0) { $0 + Plan.replicas($1) }
        guard oldCount > 0 else { return false }
        let allCount = all.reduce(0) { $0 + Plan.replicas($1) }
        let maxUnavailable = Plan.maxUnavailable(d)
        let minAvailable = replicas - maxUnavailable
        let newUnavailable = Plan.replicas(new) - (new.status.availableReplicas ?? 0)
        let maxScaledDown = allCount - minAvailable - newUnavailable
        guard maxScaledDown > 0 else { return false }

        // cleanupUnhealthyReplicas, oldest first.
        var old = Plan.byCreation(oldActive)
        var cleaned = 0
        for i in old.indices {
            if cleaned >= maxScaledDown { break }
            let rs = old[i]
            let available = rs.status.availableReplicas ?? 0
            if Plan.replicas(rs) == 0 || Plan.replicas(rs) == available { continue }
            let count = min(maxScaledDown - cleaned, Plan.replicas(rs) - available)
            old[i] = try await scale(rs, to: Plan.replicas(rs) - count).rs
            cleaned += count
        }

        // scaleDownOldReplicaSetsForRollingUpdate.
        var scaledDown = 0
        let available = (old + [new]).reduce(0) { $0 + ($1.status.availableReplicas ?? 0) }
        if available > minAvailable {
            let total = available - minAvailable
            for rs in Plan.byCreation(old) {
                if scaledDown >= total { break }
                if Plan.replicas(rs) == 0 { continue }
                let count = min(Plan.replicas(rs), total - scaledDown)
                try await scale(rs, to: Plan.replicas(rs) - count)
                scaledDown += count
            }
        }
        return cleaned + scaledDown > 0
    }

    // MARK: Recreate

    /// `rolloutRecreate`: old ReplicaSets to zero, then — once none of their pods runs — the new
    /// ReplicaSet at the full count.
    func rolloutRecreate(pods: [Pod]) async throws -> ReconcileResult {
        var (new, old) = try await allReplicaSets(create: false)
        var all = old + (new.map { [$0] } ?? [])
        var scaledDown = false
        for rs in old where Plan.replicas(rs) > 0 {
            if try await scale(rs, to: 0).scaled { scaledDown = true }
        }
        if scaledDown { return try await syncRolloutStatus(all: all, new: new) }
        if oldPodsRunning(new: new, old: old, pods: pods) { return try await syncRolloutStatus(all: all, new: new) }
        if new == nil {
            (new, old) = try await allReplicaSets(create: true)
            all = old + (new.map { [$0] } ?? [])
        }
        if let rs = new { try await scale(rs, to: replicas) }
        if Plan.isComplete(d, d.status) { try await cleanup(old: old) }
        return try await syncRolloutStatus(all: all, new: new)
    }

    /// `oldPodsRunning`: an old ReplicaSet still reports pods, or a pod of one is not finished.
    func oldPodsRunning(new: ReplicaSet?, old: [ReplicaSet], pods: [Pod]) -> Bool {
        if old.reduce(0, { $0 + ($1.status.replicas ?? 0) }) > 0 { return true }
        let owned = Set(rsList.compactMap(\.metadata.uid))
        return pods.contains { pod in
            guard let ref = PodUtil.controllerRef(pod), owned.contains(ref.uid), ref.uid != new?.metadata.uid else { return false }
            return pod.status.phase != "Succeeded" && pod.status.phase != "Failed"
        }
    }
}
