public import Orca

/// One pod as the simulated container runtime sees it: its containers' states and the kubelet's
/// crash back-off, advanced in time by ``advance(to:)`` and rendered into a pod status by
/// ``status(of:now:)``. Pure value logic, so every rule of KUBERNETES.md §1 can be unit tested.
public struct SimulatedPod: Sendable {
    public enum State: Sendable, Hashable {
        case waiting(reason: String, message: String?)
        case running(startedAt: Timestamp)
        case terminated(Termination)
    }

    public struct Termination: Sendable, Hashable {
        public var exitCode: Int
        public var reason: String
        public var message: String?
        public var startedAt: Timestamp
        public var finishedAt: Timestamp
    }

    public struct SimulatedContainer: Sendable {
        public var name: String
        public var image: String
        public var isInit: Bool
        public var state: State = .waiting(reason: "ContainerCreating", message: nil)
        public var lastTermination: Termination?
        public var restartCount = 0
        /// Runs started so far (selects the exit code of `sim.orca.dev/exit-codes`).
        public var runs = 0
        /// When the current run exits on its own.
        public var exitAt: Timestamp?
        /// When the current run becomes ready.
        public var readyAt: Timestamp?
        /// The current run has passed its readiness delay.
        public var readyReached = false
        /// A `set-ready` / `set-unready` override of the readiness probe.
        public var probeOverride: Bool?
        /// flowcontrol.Backoff's entry: current delay and when it was last advanced.
        public var backoff: (delay: Duration, lastUpdate: Timestamp)?
        /// The readiness probe's initial delay (nil without a probe).
        public var probeDelay: Duration?
        /// When a container ignoring SIGTERM is killed.
        public var killAt: Timestamp?

        public var isRunning: Bool { if case .running = state { return true } else { return false } }
        public var isReady: Bool { isRunning && !isInit && (probeOverride ?? readyReached) }
        public var termination: Termination? { if case .terminated(let t) = state { return t } else { return nil } }
    }

    /// kubelet's `backOffPeriod` and `MaxContainerBackOff`.
    public static let initialBackoff: Duration = .seconds(10)
    public static let maxBackoff: Duration = .seconds(300)

    /// The inputs of the kubelet's last status write for this pod: the seq of the pod record and
    /// of its node's record it was computed from and the instant. When the write comes back as
    /// the pod's next event in the same instant, with the node unchanged, the status would come
    /// out the same, so the kubelet does not compute it again.
    public struct StatusWrite: Sendable, Equatable {
        public var podSeq: UInt64
        public var nodeSeq: UInt64?
        public var at: Timestamp
    }

    public var lastWrite: StatusWrite?
    public var uid: String
    public var name: String
    public var namespace: String
    public var restartPolicy: String
    public var behavior: Behavior
    /// When the sandbox is ready and the first container starts.
    public var startAt: Timestamp
    public var sandboxReady = false
    public var startTime: Timestamp
    public var containers: [SimulatedContainer]
    public var initContainers: [SimulatedContainer]
    /// Set once the kubelet has begun terminating the pod (deletion).
    public var terminating = false
    /// Set once the pod was evicted by the kubelet.
    public var evicted = false

    public init(pod: Pod, behavior: Behavior, now: Timestamp) {
        uid = pod.metadata.uid ?? ""
        name = pod.metadata.name ?? ""
        namespace = pod.metadata.namespace ?? "default"
        restartPolicy = pod.spec.restartPolicy ?? "Always"
        self.behavior = behavior
        startAt = now.adding(behavior.startAfter)
        startTime = Timestamp(seconds: now.seconds)
        func make(_ c: Container, isInit: Bool) -> SimulatedContainer {
            var container = SimulatedContainer(name: c.name ?? "", image: c.image ?? "", isInit: isInit)
            if !isInit, let probe = c.readinessProbe { container.probeDelay = .seconds(probe.initialDelaySeconds ?? 0) }
            return container
        }
        containers = pod.spec.containers.map { make($0, isInit: false) }
        initContainers = pod.spec.initContainers.map { make($0, isInit: true) }
        if !initContainers.isEmpty {
            for i in containers.indices { containers[i].state = .waiting(reason: "PodInitializing", message: nil) }
        }
    }

    /// Continues a pod whose status already says its containers were started (an object that
    /// existed before the simulation, or a kubelet taking over): running containers go on
    /// running from their `startedAt`, terminated ones stay terminated, restart counts are kept.
    public mutating func adopt(_ status: PodStatus, now: Timestamp) {
        let byName = Dictionary((status.containerStatuses + status.initContainerStatuses).map { ($0.name ?? "", $0) },
                                uniquingKeysWith: { a, _ in a })
        guard status.phase == "Running" || status.phase == "Succeeded" || status.phase == "Failed",
              !byName.isEmpty else { return }
        sandboxReady = true
        startAt = status.startTime ?? now
        startTime = status.startTime ?? startTime
        func adopt(_ c: inout SimulatedContainer) {
            guard let s = byName[c.name] else { return }
            c.restartCount = s.restartCount ?? 0
            c.runs = max(1, c.restartCount + 1)
            if let t = s.lastState.terminated {
                c.lastTermination = Termination(exitCode: t.exitCode ?? 0, reason: t.reason ?? "Completed", message: t.message,
                                                startedAt: t.startedAt ?? now, finishedAt: t.finishedAt ?? now)
            }
            if let r = s.state.running {
                let started = r.startedAt ?? now
                c.state = .running(startedAt: started)
                c.exitAt = c.isInit ? now : behavior.runFor.map { max(now, started.adding($0)) }
                c.readyReached = s.ready ?? true
            } else if let t = s.state.terminated {
                c.state = .terminated(Termination(exitCode: t.exitCode ?? 0, reason: t.reason ?? "Completed", message: t.message,
                                                  startedAt: t.startedAt ?? now, finishedAt: t.finishedAt ?? now))
            } else if let w = s.state.waiting {
                c.state = .waiting(reason: w.reason ?? "ContainerCreating", message: w.message)
                if w.reason != "CrashLoopBackOff" { c.runs = c.restartCount }
            }
        }
        for i in initContainers.indices { adopt(&initContainers[i]) }
        for i in containers.indices { adopt(&containers[i]) }
    }

    // MARK: Time

    /// Applies every transition due at or before `now`, in order.
    public mutating func advance(to now: Timestamp) {
        guard !evicted else { return }
        if !sandboxReady {
            guard now >= startAt else { return }
            sandboxReady = true
            startNextInit(at: startAt)
        }
        // Transitions at earlier instants first, so back-off sees the real exit times.
        while let next = nextTransition(), next <= now {
            step(at: next, now: now)
        }
    }

    /// The earliest pending transition (exit, kill, restart after back-off, readiness).
    public func nextTransition() -> Timestamp? {
        guard !evicted, !(terminating && allTerminated) else { return nil }
        if !sandboxReady { return startAt }
        var times: [Timestamp] = []
        for c in initContainers + containers {
            switch c.state {
            case .running:
                if let t = c.exitAt { times.append(t) }
                if let t = c.killAt { times.append(t) }
                if !c.isInit, let t = c.readyAt { times.append(t) }
            case .waiting(let reason, _) where reason == "CrashLoopBackOff":
                if let t = Self.restartTime(c) { times.append(t) }
            default: break
            }
        }
        return times.min()
    }

    /// The transitions due at `time`: exits, kills, restarts after back-off, readiness; then
    /// the next init container or the app containers start.
    mutating func step(at time: Timestamp, now: Timestamp) {
        let context = FinishContext(restartPolicy: restartPolicy, terminating: terminating, pod: "\(name)_\(namespace)(\(uid))")
        for i in initContainers.indices { Self.due(&initContainers[i], at: time, behavior: behavior, context: context) }
        for i in containers.indices { Self.due(&containers[i], at: time, behavior: behavior, context: context) }
        startNextInit(at: time)
    }

    static func due(_ c: inout SimulatedContainer, at time: Timestamp, behavior: Behavior, context: FinishContext) {
        if c.isRunning, let exit = c.exitAt, exit <= time {
            finish(&c, exitCode: c.isInit ? 0 : behavior.exitCode(run: c.runs - 1), at: exit, behavior: behavior, context: context)
        } else if c.isRunning, let kill = c.killAt, kill <= time {
            finish(&c, exitCode: 137, at: kill, behavior: behavior, context: context)
        }
        if case .waiting("CrashLoopBackOff", _) = c.state, let t = restartTime(c), t <= time {
            restart(&c, at: t, behavior: behavior)
        }
        if !c.isInit, c.isRunning, let ready = c.readyAt, ready <= time {
            c.readyAt = nil
            c.readyReached = true
        }
    }

    // MARK: Container transitions

    /// Starts the first init container that has not succeeded, or, once all have, the app
    /// containers that never ran.
    mutating func startNextInit(at time: Timestamp) {
        guard !terminating, sandboxReady else { return }
        if let i = initContainers.firstIndex(where: { $0.termination?.exitCode != 0 }) {
            let c = initContainers[i]
            // Running, in back-off, or failed for good (restartPolicy Never).
            if c.isRunning || c.termination != nil { return }
            if case .waiting("CrashLoopBackOff", _) = c.state { return }
            Self.start(&initContainers[i], at: time, behavior: behavior)
            return
        }
        for i in containers.indices where containers[i].runs == 0 && !containers[i].isRunning && containers[i].termination == nil {
            Self.start(&containers[i], at: time, behavior: behavior)
        }
    }

    static func start(_ c: inout SimulatedContainer, at time: Timestamp, behavior: Behavior) {
        c.state = .running(startedAt: time)
        c.runs += 1
        c.killAt = nil
        if c.isInit {
            // Init containers finish on their own: after run-for when set, else at once.
            c.exitAt = time.adding(behavior.runFor ?? .zero)
        } else {
            c.exitAt = behavior.runFor.map { time.adding($0) }
            let delay = behavior.readyAfter ?? c.probeDelay ?? .zero
            c.readyReached = delay <= .zero
            c.readyAt = delay > .zero ? time.adding(delay) : nil
        }
    }

    struct FinishContext {
        var restartPolicy: String
        var terminating: Bool
        /// `name_namespace(uid)`, as the back-off message names the pod.
        var pod: String
    }

    /// The container exits with `exitCode` at `time`; the restart policy decides what follows.
    static func finish(_ c: inout SimulatedContainer, exitCode: Int, at time: Timestamp, behavior: Behavior, context: FinishContext) {
        guard case .running(let startedAt) = c.state else { return }
        let termination = Termination(exitCode: exitCode, reason: exitCode == 0 ? "Completed" : "Error",
                                      message: nil, startedAt: startedAt, finishedAt: time)
        c.state = .terminated(termination)
        c.exitAt = nil
        c.readyAt = nil
        c.killAt = nil
        c.readyReached = false
        guard !context.terminating else { return }
        let restarts: Bool
        switch context.restartPolicy {
        case "Never": restarts = false
        case "OnFailure": restarts = exitCode != 0
        default: restarts = !c.isInit || exitCode != 0
        }
        guard restarts else { return }
        // doBackOff: restart now unless in back-off since the exit.
        if let t = restartTime(c), t > time, let entry = c.backoff {
            c.lastTermination = termination
            c.state = .waiting(reason: "CrashLoopBackOff",
                               message: "back-off \(entry.delay.goString) restarting failed container=\(c.name) pod=\(context.pod)")
        } else {
            restart(&c, at: time, behavior: behavior)
        }
    }

    /// When a crashed container may restart: `finishedAt + backoff`, or nil when there is no
    /// live back-off entry (restart at once). An entry expires 2 × max (600 s) after its last
    /// update.
    static func restartTime(_ c: SimulatedContainer) -> Timestamp? {
        let finished = c.termination?.finishedAt ?? c.lastTermination?.finishedAt
        guard let finished, let entry = c.backoff else { return nil }
        if finished.since(entry.lastUpdate) > maxBackoff * 2 { return nil }
        return finished.adding(entry.delay)
    }

    static func restart(_ c: inout SimulatedContainer, at time: Timestamp, behavior: Behavior) {
        let termination = c.termination ?? c.lastTermination
        // Backoff.Next(id, finishedAt): a fresh entry, or double the live one.
        if let entry = c.backoff, let finished = termination?.finishedAt, finished.since(entry.lastUpdate) <= maxBackoff * 2 {
            c.backoff = (min(entry.delay * 2, maxBackoff), time)
        } else {
            c.backoff = (initialBackoff, time)
        }
        c.lastTermination = termination
        c.restartCount += 1
        start(&c, at: time, behavior: behavior)
    }

    // MARK: Actions

    /// A running container exits now (`exit` action) — or, with `liveness`, is killed by a
    /// failed liveness probe (exit 137).
    @discardableResult
    public mutating func exit(container: String?, exitCode: Int, at now: Timestamp) -> Bool {
        advance(to: now)
        let context = FinishContext(restartPolicy: restartPolicy, terminating: terminating, pod: "\(name)_\(namespace)(\(uid))")
        let target = container ?? containers.first?.name
        if let i = initContainers.firstIndex(where: { $0.name == target }) {
            guard initContainers[i].isRunning else { return false }
            Self.finish(&initContainers[i], exitCode: exitCode, at: now, behavior: behavior, context: context)
        } else if let i = containers.firstIndex(where: { $0.name == target }) {
            guard containers[i].isRunning else { return false }
            Self.finish(&containers[i], exitCode: exitCode, at: now, behavior: behavior, context: context)
        } else {
            return false
        }
        startNextInit(at: now)
        return true
    }

    /// `set-ready` / `set-unready`: the readiness probe of every app container starts passing or failing.
    public mutating func setReady(_ ready: Bool, at now: Timestamp) {
        advance(to: now)
        for i in containers.indices { containers[i].probeOverride = ready }
    }

    /// The pod is being deleted: SIGTERM to every running container; those ignoring it are
    /// killed at `deadline`.
    public mutating func terminate(deadline: Timestamp, at now: Timestamp) {
        advance(to: now)
        guard !terminating else { return }
        terminating = true
        let context = FinishContext(restartPolicy: restartPolicy, terminating: true, pod: "")
        for list in [\SimulatedPod.initContainers, \SimulatedPod.containers] {
            for i in self[keyPath: list].indices {
                var c = self[keyPath: list][i]
                switch c.state {
                case .running:
                    if behavior.ignoreSigterm && deadline > now {
                        c.killAt = deadline
                        c.exitAt = nil
                    } else {
                        Self.finish(&c, exitCode: 143, at: now, behavior: behavior, context: context)
                    }
                case .waiting:
                    if c.runs == 0 || c.lastTermination == nil {
                        c.state = .terminated(Termination(exitCode: 137, reason: "ContainerStatusUnknown",
                                                          message: "The container could not be located when the pod was deleted.  The container used to be Running",
                                                          startedAt: now, finishedAt: now))
                    } else if let last = c.lastTermination {
                        c.state = .terminated(last)
                    }
                case .terminated: break
                }
                self[keyPath: list][i] = c
            }
        }
    }

    /// The kubelet evicts the pod: every container is killed.
    public mutating func evict(at now: Timestamp) {
        advance(to: now)
        terminating = true
        let context = FinishContext(restartPolicy: restartPolicy, terminating: true, pod: "")
        for i in containers.indices where containers[i].isRunning {
            Self.finish(&containers[i], exitCode: 137, at: now, behavior: behavior, context: context)
        }
        for i in initContainers.indices where initContainers[i].isRunning {
            Self.finish(&initContainers[i], exitCode: 137, at: now, behavior: behavior, context: context)
        }
        for i in containers.indices where containers[i].termination == nil {
            containers[i].state = .terminated(containers[i].lastTermination
                ?? Termination(exitCode: 137, reason: "ContainerStatusUnknown", message: nil, startedAt: now, finishedAt: now))
        }
        evicted = true
    }

    /// Changes the behaviour; a running container's exit and readiness times follow at once.
    public mutating func setBehavior(_ new: Behavior, at now: Timestamp) {
        advance(to: now)
        behavior = new
        for i in containers.indices {
            guard case .running(let startedAt) = containers[i].state else { continue }
            containers[i].exitAt = new.runFor.map { max(now, startedAt.adding($0)) }
            if let readyAfter = new.readyAfter, !containers[i].readyReached {
                containers[i].readyAt = max(now, startedAt.adding(readyAfter))
            }
        }
        advance(to: now)
    }

    /// True once every container has terminated (during deletion or eviction).
    public var allTerminated: Bool {
        (initContainers + containers).allSatisfy { $0.termination != nil }
    }
}
