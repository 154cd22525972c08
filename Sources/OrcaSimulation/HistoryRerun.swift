public import Orca

/// Runs controllers against a recorded history — Orca's own or one recorded from a real
/// cluster — in place of the writers that recorded them, and reports where they diverge.
///
/// Every recorded event is either **replaced** (its writer is one the run stands in for, such as
/// `kube-controller-manager` for Orca's Job controller) or **the world's** (a user, a scheduler, a
/// kubelet): the world's events are applied to the run's log at their recorded time, and the
/// controllers react on a virtual clock, as in a simulation (deliver, drain to quiescence, then
/// the next event or timer). A replaced event is not applied; the controllers write their own.
///
/// An object a replaced writer created (a Job's pod) has a generated name and UID that the
/// controllers cannot reproduce, so it is matched to one the controllers created: the same kind,
/// namespace and controlling owner, the same name if there is one, else the earliest unmatched.
/// A world event about such an object is applied to its counterpart as a change: the JSON merge
/// patch between its recorded version and the one before (so a kubelet's status update lands on
/// the pod Orca's controller made), with recorded UIDs translated to the counterparts'. Until an
/// object has a counterpart, the world's events about it wait.
///
/// The report lists, per kind, the objects created on each side and how many were matched; and
/// every object a replaced writer wrote whose end state differs from its counterpart's (names,
/// UIDs, creation times, bookkeeping and ``Options/ignoring`` left out).
public final class HistoryRerun: Sendable {
    /// The recorded history, read in three passes (never held whole in memory, but for the
    /// latest version of each live object).
    public let source: any HistorySource
    public let options: Options
    /// The run: its log, clock and controllers (install plugins here before ``run()``).
    public let simulation: Simulation
    /// Each entry's time (``History/Timing``), in order.
    let times: [Timestamp]
    /// Each entry's writer (its `actor`, else ``History/Attribution``'s, else `unknown`) and
    /// whether the run replaces it.
    let writers: [(name: String, replaced: Bool)]
    /// The kinds the history has events of.
    let kinds: Set<String>

    public struct Options: Sendable {
        /// Built-in controllers to run (names as in ``Simulation/controllerOrder``).
        public var controllers: [String]
        /// The recorded writers whose events the run replaces (see ``defaultReplaced(for:)``).
        public var replacing: Set<String>
        /// Seed for the UIDs and generated names the controllers create past the recorded ones.
        public var seed: UInt64 = 1
        /// How long to keep the clock running after the last recorded event.
        public var settle: Duration = .zero
        /// Field paths left out of the end-state comparison, each with what lies below it
        /// (`status.terminating`, `status.conditions[SuccessCriteriaMet]`, `metadata.labels`): for
        /// fields the recording's Kubernetes version did not have.
        public var ignoring: [String] = []
        /// The control plane's settings (a scenario's `config:`; its `disabled` list is ignored:
        /// ``controllers`` says what runs). A log simulated from a scenario re-runs faithfully only
        /// with that scenario's settings, which the log does not hold.
        public var config = SimulationConfig()

        public init(controllers: [String], replacing: Set<String>? = nil) {
            self.controllers = controllers
            self.replacing = replacing ?? HistoryRerun.defaultReplaced(for: controllers)
        }
    }

    /// Controllers that cannot stand in for a recorded writer: the simulated kubelet needs the
    /// simulated nodes of a scenario.
    public static let unsupported: Set<String> = ["kubelet", "kubelet-node"]

    /// The service account each built-in controller writes as in kube-controller-manager (with
    /// `--use-service-account-credentials`, as kubeadm runs it): an audit log's user.
    public static let serviceAccounts: [String: String] = [
        "replicaset": "replicaset-controller", "deployment": "deployment-controller", "job": "job-controller",
        "daemonset": "daemon-set-controller", "statefulset": "statefulset-controller", "cronjob": "cronjob-controller",
        "endpoint": "endpoint-controller", "endpointslice": "endpointslice-controller", "garbagecollector": "generic-garbage-collector", "podgc": "pod-garbage-collector",
        "nodelifecycle": "node-controller", "taint-eviction-controller": "taint-eviction-controller",
        "ttl-after-finished": "ttl-after-finished-controller", "resourcequota": "resourcequota-controller",
        "namespace": "namespace-controller",
    ]

    /// What a run of `controllers` replaces by default: their own actors (`controller/job`, as
    /// Orca records them) and what writes for them in Kubernetes — `kube-controller-manager` (the
    /// managedFields manager), `system:kube-controller-manager` and the controller's service
    /// account (an audit log's users); for the scheduler `default-scheduler`, `kube-scheduler` and
    /// `system:kube-scheduler`.
    public static func defaultReplaced(for controllers: [String]) -> Set<String> {
        var out: Set<String> = []
        for name in controllers {
            out.insert("controller/\(name)")
            if name == "scheduler" {
                out.formUnion(["scheduler", "default-scheduler", "kube-scheduler", "system:kube-scheduler"])
            } else {
                out.formUnion(["kube-controller-manager", "system:kube-controller-manager"])
                if let account = serviceAccounts[name] { out.insert("system:serviceaccount:kube-system:\(account)") }
            }
        }
        if controllers.contains("job") { out.insert("controller/job-orphans") }
        if controllers.contains("nodelifecycle") { out.insert("controller/nodelifecycle-taints") }
        return out
    }

    /// The writers that are one process running every controller of kube-controller-manager:
    /// which of their writes the run replaces depends on what the write is (``replaces(_:writer:options:)``).
    public static let sharedWriters: Set<String> = ["kube-controller-manager", "system:kube-controller-manager"]

    /// The kinds each built-in controller writes (`*`: any kind, as the garbage collector does).
    public static let kindsWritten: [String: Set<String>] = [
        "replicaset": ["ReplicaSet", "Pod"], "deployment": ["Deployment", "ReplicaSet"], "job": ["Job", "Pod"], "daemonset": ["DaemonSet", "Pod", "ControllerRevision"],
        "statefulset": ["StatefulSet", "Pod", "ControllerRevision"], "cronjob": ["CronJob", "Job"],
        "endpoint": ["Endpoints"], "endpointslice": ["EndpointSlice"], "garbagecollector": ["*"], "podgc": ["Pod"], "nodelifecycle": ["Node", "Pod"],
        "taint-eviction-controller": ["Pod"], "ttl-after-finished": ["Job"], "scheduler": ["Pod"],
        "resourcequota": ["ResourceQuota"], "namespace": ["*"],
    ]

    /// The event source each built-in controller records as (`source.component`).
    public static let eventComponents: [String: String] = [
        "replicaset": "replicaset-controller", "deployment": "deployment-controller", "job": "job-controller",
        "daemonset": "daemonset-controller", "statefulset": "statefulset-controller", "cronjob": "cronjob-controller",
        "endpoint": "endpoint-controller", "endpointslice": "endpoint-slice-controller", "garbagecollector": "garbage-collector-controller", "nodelifecycle": "node-controller",
        "taint-eviction-controller": "taint-eviction-controller", "ttl-after-finished": "ttl-after-finished-controller",
        "scheduler": "default-scheduler",
    ]

    /// The controller that creates the pods of an owner of this kind.
    static let podCreators: [String: String] = ["ReplicaSet": "replicaset", "Job": "job", "DaemonSet": "daemonset",
                                                "StatefulSet": "statefulset"]

    /// Whether the run stands in for this recorded write of `writer`: `writer` is one of
    /// ``Options/replacing``, and — for a shared writer (kube-controller-manager, which also runs
    /// the Deployment, StatefulSet, EndpointSlice… controllers Orca does not) — the write is one a
    /// controller of the run makes: an Event its event source records, a Pod its owner's
    /// controller creates, any other write a kind one of the run's controllers writes.
    public static func replaces(_ entry: History.Entry, writer: String, options: Options) -> Bool {
        guard options.replacing.contains(writer) else { return false }
        guard sharedWriters.contains(writer) else { return true }
        let kind = entry.object["kind"]?.stringValue ?? ""
        if kind == "Event" {
            let component = entry.object[path: ["source", "component"]]?.stringValue ?? entry.object["reportingComponent"]?.stringValue
            return options.controllers.contains { eventComponents[$0] != nil && eventComponents[$0] == component }
        }
        if kind == "Pod", entry.type == .added {
            let owners = Unstructured(entry.object).ownerReferences
            guard let owner = owners.first(where: { $0.controller == true }), let creator = podCreators[owner.kind] else { return false }
            return options.controllers.contains(creator)
        }
        return options.controllers.contains { kindsWritten[$0].map { $0.contains(kind) || $0.contains("*") } ?? false }
    }

    /// A bad option: an unknown or unsupported controller, an empty history.
    public struct OptionError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Checks the options as ``init(source:options:log:)`` does, before a log is created for the run.
    public static func validate(options: Options) throws(OptionError) {
        guard !options.controllers.isEmpty || !options.replacing.isEmpty else {
            throw OptionError(message: "name at least one controller to run, or (for a plugin's controllers) the recorded writers they replace")
        }
        let known = Simulation.controllerOrder.filter { !Self.unsupported.contains($0) }
        for name in options.controllers where !known.contains(name) {
            throw OptionError(message: "unknown controller \"\(name)\": use one of \(known.joined(separator: ", "))")
        }
    }

    /// Sets up a run of `options.controllers` against `entries`, writing to `log` (which should
    /// be empty).
    public convenience init(entries: [History.Entry], options: Options, log: any EventLog) throws {
        try self.init(source: History.InMemory(entries), options: options, log: log)
    }

    /// Sets up a run of `options.controllers` against `source`, writing to `log` (which should be
    /// empty): reads the history once to time and attribute every entry.
    /// - Throws: ``OptionError`` for bad options or an empty history; what reading `source` throws
    ///   (a ``History/LineError`` for a bad line of a file).
    public init(source: any HistorySource, options: Options, log: any EventLog) throws {
        try Self.validate(options: options)
        self.source = source
        self.options = options
        var times: [Timestamp] = []
        var timing = History.Timing()
        var attribution = History.Attribution()
        var live: Set<String> = []
        var writers: [(name: String, replaced: Bool)] = []
        var created: [JSONValue] = []
        var kinds: Set<String> = []
        var reader = try source.makeReader()
        while let batch = try reader.next() {
            for entry in batch {
                let entry = attribution.attributed(entry)
                times.append(timing.time(of: entry))
                let id = History.identity(of: entry.object)
                let name = entry.actor ?? "unknown"
                let replaced = Self.replaces(entry, writer: name, options: options)
                if replaced, entry.type == .added, !live.contains(id) { created.append(RecordedIdentities.identity(of: entry.object)) }
                if entry.type == .deleted { live.remove(id) } else { live.insert(id) }
                writers.append((name, replaced))
                kinds.insert(entry.object["kind"]?.stringValue ?? "")
            }
        }
        guard !times.isEmpty else { throw OptionError(message: "the history has no events") }
        self.times = times
        self.writers = writers
        self.kinds = kinds
        var scenario = Scenario(file: "")
        scenario.seed = options.seed
        scenario.start = times.first ?? .zero
        scenario.config = options.config
        scenario.config.disabled = Set(Simulation.controllerOrder).subtracting(options.controllers)
        simulation = Simulation(scenario: scenario, log: log, identities: RecordedIdentities(created: created, seed: options.seed))
    }

    /// Whether a change at `path` is left out: it is one of ``Options/ignoring`` or lies below one.
    func ignores(_ path: String) -> Bool {
        options.ignoring.contains { Self.path(path, isAtOrBelow: $0) }
    }

    /// `path` is `ancestor` or a field or list item below it (`status.conditions[Ready].reason`
    /// is below `status.conditions`).
    static func path(_ path: String, isAtOrBelow ancestor: String) -> Bool {
        path == ancestor || path.hasPrefix(ancestor + ".") || path.hasPrefix(ancestor + "[")
    }

    /// Replays the history into the run's log and compares the outcome.
    public func run() async throws -> Report {
        var state = RerunState(rerun: self)
        var reader = try source.makeReader()
        var index = -1
        while let batch = try reader.next() {
            for entry in batch {
                index += 1
                guard index < times.count else { throw OptionError(message: "the history changed while it was re-run") }
                // As in a simulation, the world's events of one instant are applied together, then
                // the controllers drain; they also catch up before each event they replace (the
                // recorded writer had seen everything before it).
                if times[index] > state.clock.now() {
                    try await state.settle()
                    try await state.advance(to: times[index])
                } else if writers[index].replaced {
                    try await state.settle()
                }
                try await state.process(entry, writer: writers[index].name, replaced: writers[index].replaced)
            }
        }
        try await state.settle()
        try await state.advance(to: (times.last ?? .zero).adding(options.settle))
        try await state.settle()
        return try state.report()
    }
}

extension HistoryRerun {
    /// The outcome of a run.
    public struct Report: Sendable {
        /// Recorded events of each writer (`unknown` when neither the event nor its object
        /// says), and how many of them the run replaced (all, none, or — for a shared writer such
        /// as kube-controller-manager — those of the run's controllers).
        public struct Writer: Sendable, Hashable {
            public var name: String
            public var events: Int
            public var replaced: Int
        }

        /// Events one actor wrote to the run's log.
        public struct ActorCount: Sendable, Hashable {
            public var actor: String
            public var events: Int
        }

        /// Objects of one kind created by the replaced writers (recorded) and by the controllers
        /// (the run), and how many of them were matched.
        public struct Creations: Sendable {
            public var kind: String
            public var recorded: Int
            public var rerun: Int
            public var matched: Int
            /// Recorded objects no controller created a counterpart for.
            public var unmatchedRecorded: [ObjectKey]
            /// Objects the controllers created that no recorded object matched.
            public var unmatchedRerun: [ObjectKey]
            /// The earliest and latest of (counterpart's creation − recorded creation).
            public var lag: ClosedRange<Duration>?
            /// The history has events of this kind. When it has none (a history recorded by
            /// watching Jobs and Pods holds no Events), what the controllers created of it is
            /// listed but not a divergence.
            public var inHistory: Bool
        }

        /// A recorded world event that could not be applied.
        public struct Skipped: Sendable {
            public var line: Int
            public var key: ObjectKey
            public var reason: String
        }

        /// An object a replaced writer wrote whose end state differs from its counterpart's.
        public struct EndState: Sendable {
            public var recorded: ObjectKey
            /// The counterpart in the run (nil when there is none).
            public var rerun: ObjectKey?
            public var existsRecorded: Bool
            public var existsInRerun: Bool
            /// From the recorded end state to the run's.
            public var changes: [CauseChain.Change]
            /// When the fields in ``changes`` began to differ for good: the first moment after the
            /// two sides' versions last agreed on them (and on the fields above and below them);
            /// nil when they never agreed.
            /// `orca why … --at-time` on the run's log says what the controllers did then.
            public var since: Timestamp?
        }

        /// Recorded events: all, the world's applied to the run, and those the run replaced (the
        /// rest of the world's are in ``skipped``).
        public var events: Int
        public var applied: Int
        public var replaced: Int
        public var writers: [Writer]
        public var skipped: [Skipped]
        /// Events in the run's log, and those each controller of the run wrote.
        public var rerunEvents: Int
        public var rerunWrites: [ActorCount]
        public var creations: [Creations]
        /// Objects compared at the end (every object a replaced writer created or wrote).
        public var compared: Int
        public var endStates: [EndState]

        /// True when an object of a kind the history records was left unmatched, or an end state
        /// differs.
        public var diverged: Bool {
            !endStates.isEmpty || creations.contains { $0.inHistory && (!$0.unmatchedRecorded.isEmpty || !$0.unmatchedRerun.isEmpty) }
        }
    }
}
