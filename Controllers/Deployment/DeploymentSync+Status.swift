import Orca

/// A Deployment sync's status: counts, the Available and Progressing conditions, the deadline.
extension DeploymentSync {
    /// `syncStatusOnly`.
    func syncStatusOnly() async throws -> ReconcileResult {
        let (new, old) = try await allReplicaSets(create: false)
        return try await syncStatus(all: old + (new.map { [$0] } ?? []), new: new)
    }

    /// `syncDeploymentStatus`.
    func syncStatus(all: [ReplicaSet], new: ReplicaSet?) async throws -> ReconcileResult {
        let status = Plan.status(d, all: all, new: new, now: context.now)
        if status != d.status {
            d.status = status
            try await writeStatus()
        }
        return .done
    }

    /// `checkPausedConditions`: Progressing Unknown `DeploymentPaused` / `DeploymentResumed`.
    func checkPausedConditions() async throws {
        guard Plan.progressDeadline(d) != nil else { return }
        let current = d.status.conditions[type: "Progressing"]
        if current?.reason == Plan.timedOutReason { return }
        let pausedExists = current?.reason == Plan.pausedReason
        if d.spec.paused == true, !pausedExists {
            setCondition(Plan.condition("Progressing", "Unknown", Plan.pausedReason, "Deployment is paused", context.now))
        } else if d.spec.paused != true, pausedExists {
            setCondition(Plan.condition("Progressing", "Unknown", Plan.resumedReason, "Deployment is resumed", context.now))
        } else {
            return
        }
        try await writeStatus()
    }

    /// `syncRolloutStatus`: the status, the Progressing condition (complete, progressing or timed
    /// out) and the new ReplicaSet's ReplicaFailure; when nothing changed, a check of the
    /// progress deadline is scheduled.
    func syncRolloutStatus(all: [ReplicaSet], new: ReplicaSet?) async throws -> ReconcileResult {
        let now = context.now
        var status = Plan.status(d, all: all, new: new, now: now)
        var conditions = status.conditions
        let deadline = Plan.progressDeadline(d)
        if deadline == nil { conditions.removeAll { $0.type == "Progressing" } }
        let current = d.status.conditions[type: "Progressing"]
        let isCompleteDeployment = (status.replicas ?? 0) == (status.updatedReplicas ?? 0) && current?.reason == Plan.newRSAvailableReason
        let subject = new.map { "ReplicaSet \"\($0.metadata.name ?? "")\"" } ?? "Deployment \"\(d.metadata.name ?? "")\""
        if deadline != nil, !isCompleteDeployment {
            if Plan.isComplete(d, status) {
                Plan.setCondition(&conditions, Plan.condition("Progressing", "True", Plan.newRSAvailableReason,
                                                              "\(subject) has successfully progressed.", now))
            } else if Plan.isProgressing(d, status) {
                var condition = Plan.condition("Progressing", "True", Plan.replicaSetUpdatedReason, "\(subject) is progressing.", now)
                if let current {
                    if current.status == "True" { condition.raw["lastTransitionTime"] = current.raw["lastTransitionTime"] }
                    conditions.removeAll { $0.type == "Progressing" }
                }
                Plan.setCondition(&conditions, condition)
            } else if Plan.hasTimedOut(d, status, now: now) {
                Plan.setCondition(&conditions, Plan.condition("Progressing", "False", Plan.timedOutReason,
                                                              "\(subject) has timed out progressing.", now))
            }
        }
        // getReplicaFailures: the new ReplicaSet's, else any old one's.
        let failures = (new.map { [$0] } ?? []) + all
        if let failure = failures.lazy.compactMap({ $0.status.conditions[type: "ReplicaFailure"] }).first {
            let time = failure.raw["lastTransitionTime"] ?? .null
            Plan.setCondition(&conditions, Condition(raw: ["type": "ReplicaFailure", "status": .string(failure.status),
                                                           "lastUpdateTime": time, "lastTransitionTime": time,
                                                           "reason": .string(failure.reason ?? ""), "message": .string(failure.message ?? "")]))
        } else {
            conditions.removeAll { $0.type == "ReplicaFailure" }
        }
        status.conditions = conditions
        status = Plan.ordered(status)
        if status == d.status { return requeueStuck(status) }
        d.status = status
        try await writeStatus()
        return .done
    }

    /// `requeueStuckDeployment`: while a rollout is neither complete nor timed out, look again
    /// when its progress deadline passes (a second after, as upstream adds).
    func requeueStuck(_ status: DeploymentStatus) -> ReconcileResult {
        guard let deadline = Plan.progressDeadline(d), let current = d.status.conditions[type: "Progressing"],
              !Plan.isComplete(d, status), current.reason != Plan.timedOutReason,
              let updated = Plan.lastUpdateTime(current) else { return .done }
        let after = updated.adding(.seconds(deadline)).since(context.now)
        if after < .seconds(1) { return .requeue(after: .milliseconds(5)) }
        return .requeue(after: after + .seconds(1))
    }
}
