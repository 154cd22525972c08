public import Orca

extension SimulatedPod {
    /// The phase, as the kubelet's `getPhase` computes it (KUBERNETES.md §1).
    public var phase: String {
        if evicted { return "Failed" }
        if terminating && allTerminated {
            return containers.allSatisfy({ $0.termination?.exitCode == 0 }) && initContainers.allSatisfy({ $0.termination?.exitCode == 0 })
                ? "Succeeded" : "Failed"
        }
        guard sandboxReady else { return "Pending" }
        if let failed = initContainers.first(where: { ($0.termination?.exitCode ?? 0) != 0 }), restartPolicy == "Never",
           failed.termination != nil {
            return "Failed"
        }
        if initContainers.contains(where: { $0.termination?.exitCode != 0 }) { return "Pending" }
        var running = 0, waiting = 0, stopped = 0, succeeded = 0
        for c in containers {
            switch c.state {
            case .running: running += 1
            case .terminated(let t):
                stopped += 1
                if t.exitCode == 0 { succeeded += 1 }
            case .waiting:
                if c.lastTermination != nil { stopped += 1 } else { waiting += 1 }
            }
        }
        if waiting > 0 { return "Pending" }
        if running > 0 { return "Running" }
        if stopped > 0 {
            if restartPolicy == "Always" { return "Running" }
            if stopped == succeeded { return "Succeeded" }
            if restartPolicy == "Never" { return "Failed" }
            return "Running"
        }
        return "Pending"
    }

    /// The pod's status as the kubelet reports it at `now`, keeping what others own
    /// (DisruptionTarget, readiness-gate conditions, qosClass) and each condition's
    /// lastTransitionTime while its status stays the same. `PodScheduled` is the kubelet's
    /// too: True (the scheduler's transition time kept), also for a pod bound by its manifest.
    public func status(of pod: Pod, now: Timestamp, podIP: String?, hostIP: String?) -> PodStatus {
        let second = Timestamp(seconds: now.seconds)
        let old = pod.status
        var status = old
        let phase = self.phase
        status.phase = phase
        if evicted {
            status.reason = "Evicted"
            status.message = "The node was low on resource: memory. "
        }
        if let hostIP {
            status.hostIP = hostIP
            var ip = PodIP()
            ip.ip = hostIP
            status.hostIPs = [ip]
        }
        if sandboxReady, let podIP {
            status.podIP = podIP
            var ip = PodIP()
            ip.ip = podIP
            status.podIPs = [ip]
        }
        status.startTime = old.startTime ?? startTime

        // Conditions.
        let completed = phase == "Succeeded"
        let pendingInit = initContainers.filter { $0.termination?.exitCode != 0 }.map(\.name)
        let unready = containers.filter { !$0.isReady }.map(\.name)
        var own: [Condition] = []
        own.append(Condition(type: "PodReadyToStartContainers", status: sandboxReady && phase != "Succeeded" && phase != "Failed" ? "True" : "False"))
        if pendingInit.isEmpty || completed {
            own.append(Condition(type: "Initialized", status: "True", reason: completed && !initContainers.isEmpty ? "PodCompleted" : nil))
        } else {
            own.append(Condition(type: "Initialized", status: "False", reason: "ContainersNotInitialized",
                                 message: "containers with incomplete status: [\(pendingInit.joined(separator: " "))]"))
        }
        let containersReady: Condition
        if completed {
            containersReady = Condition(type: "ContainersReady", status: "False", reason: "PodCompleted")
        } else if unready.isEmpty {
            containersReady = Condition(type: "ContainersReady", status: "True")
        } else {
            containersReady = Condition(type: "ContainersReady", status: "False", reason: "ContainersNotReady",
                                        message: "containers with unready status: [\(unready.joined(separator: " "))]")
        }
        var ready = containersReady
        ready.type = "Ready"
        if containersReady.isTrue {
            for gate in pod.spec.readinessGates {
                let type = gate.conditionType ?? ""
                guard let c = old.conditions[type: type] else {
                    ready = Condition(type: "Ready", status: "False", reason: "ReadinessGatesNotReady",
                                      message: "corresponding condition of pod readiness gate \"\(type)\" does not exist.")
                    break
                }
                if !c.isTrue {
                    ready = Condition(type: "Ready", status: "False", reason: "ReadinessGatesNotReady",
                                      message: "the status of pod readiness gate \"\(type)\" is not \"True\", but \(c.status)")
                    break
                }
            }
        }
        own.append(ready)
        own.append(containersReady)
        own.append(Condition(type: "PodScheduled", status: "True"))
        func stamped(_ condition: Condition) -> Condition {
            var c = condition
            c.raw["lastProbeTime"] = .null
            let previous = old.conditions[type: c.type]
            c.lastTransitionTime = previous?.status == c.status ? previous?.lastTransitionTime ?? second : second
            return Self.ordered(c)
        }
        // The status manager's mergePodStatus: the conditions others own first (readiness
        // gates, a DisruptionTarget a controller set), then the kubelet's own in the order it
        // generates them; the patch's $setElementOrder makes that the stored order.
        var conditions = old.conditions.filter { !Self.kubeletConditions.contains($0.type) }
        conditions += own.map(stamped)
        if evicted {
            // A condition the kubelet shares: replaced where it stands, or appended.
            let disruption = stamped(Condition(type: "DisruptionTarget", status: "True", reason: "TerminationByKubelet",
                                               message: "The node was low on resource: memory. "))
            if let i = conditions.firstIndex(where: { $0.type == "DisruptionTarget" }) {
                conditions[i] = disruption
            } else {
                conditions.append(disruption)
            }
        }
        status.conditions = conditions

        if !initContainers.isEmpty { status.initContainerStatuses = initContainers.map(Self.containerStatus) }
        status.containerStatuses = containers.map(Self.containerStatus)
        return status
    }

    /// The conditions the kubelet owns (`PodConditionsByKubelet`): it writes them whole.
    static let kubeletConditions: Set<String> = ["PodScheduled", "Ready", "Initialized", "ContainersReady", "PodReadyToStartContainers"]

    /// Kubernetes' key order for a condition.
    static func ordered(_ c: Condition) -> Condition {
        var out = JSONObject()
        for key in ["type", "status", "lastProbeTime", "lastTransitionTime", "reason", "message"] {
            if let v = c.raw[key] { out[key] = v }
        }
        return Condition(raw: out)
    }

    static func containerStatus(_ c: SimulatedContainer) -> ContainerStatus {
        var status = ContainerStatus()
        status.name = c.name
        status.state = render(c.state)
        // The API always serialises lastState (a struct): `{}` before a container first ends.
        status.raw["lastState"] = .object(c.lastTermination.map { render(.terminated($0)).raw } ?? JSONObject())
        status.ready = c.isReady
        status.restartCount = c.restartCount
        status.image = c.image
        status.started = c.isRunning
        return status
    }

    static func render(_ state: State) -> ContainerState {
        var out = ContainerState()
        switch state {
        case .waiting(let reason, let message):
            var w = ContainerStateWaiting()
            w.reason = reason
            w.message = message
            out.waiting = w
        case .running(let startedAt):
            var r = ContainerStateRunning()
            r.startedAt = Timestamp(seconds: startedAt.seconds)
            out.running = r
        case .terminated(let t):
            var x = ContainerStateTerminated()
            x.exitCode = t.exitCode
            x.reason = t.reason
            x.message = t.message
            x.startedAt = Timestamp(seconds: t.startedAt.seconds)
            x.finishedAt = Timestamp(seconds: t.finishedAt.seconds)
            out.terminated = x
        }
        return out
    }
}
