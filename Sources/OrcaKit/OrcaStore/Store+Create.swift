public import OrcaAPI
import OrcaLog

extension Store {
    /// Creates an object, as `POST` to the API would.
    ///
    /// Applies defaulting, the admission plugins (DefaultTolerationSeconds, ResourceQuota `pods`),
    /// `generateName`, a new UID, `creationTimestamp`, `generation: 1` and kind-specific
    /// preparation (pod status Pending, Job selector, Service cluster IP), then validation.
    ///
    /// - Throws: ``StoreError`` — `AlreadyExists`, `Invalid` (every field error), `Forbidden`
    ///   (quota), `BadRequest`/`NotFound` for a malformed manifest or unknown kind.
    @discardableResult
    public func create(_ object: JSONValue, context: WriteContext = .user) async throws -> Unstructured {
        let kind = try Self.resourceKind(of: object)
        try Self.checkTypes(object, kind: kind)
        let record = try await log.transact { [self] txn in
            try self.createInTransaction(object, kind: kind, txn: txn, context: context)
        }
        return Unstructured(record.object)
    }

    func createInTransaction(_ input: JSONValue, kind: ResourceKind, txn: any LogTransaction,
                             context: WriteContext) throws -> EventRecord {
        var object = Unstructured(input)
        if object.value["metadata"]?.objectValue == nil { object.value["metadata"] = .object(JSONObject()) }
        object.namespace = kind.namespaced ? (object.namespace.isEmpty ? "default" : object.namespace) : ""
        let now = now()

        // Defaulting, then mutating admission.
        let labelsGiven = !object.labels.isEmpty
        Defaults.apply(to: &object.value, kind: kind)
        if kind.namespaced {
            // NamespaceLifecycle, the first admission plugin: nothing new in a namespace being
            // deleted (a namespace that does not exist is allowed: Orca has no namespace
            // objects for `default` and the like).
            let namespace = try txn.current(ObjectKey(kind: "Namespace", namespace: "", name: object.namespace))
            if let namespace, namespace.object[path: ["status", "phase"]]?.stringValue == "Terminating" {
                throw StoreError.namespaceTerminating(kind.kind, object.name.isEmpty ? (object.generateName ?? "") : object.name,
                                                      namespace: object.namespace)
            }
        }
        if kind.kind == "Pod", var spec = object.value["spec"], spec.objectValue != nil {
            try admitPriority(&spec, pod: object.name.isEmpty ? (object.generateName ?? "") : object.name, txn: txn)
            Defaults.addDefaultTolerations(to: &spec, seconds: admission.defaultTolerationSeconds)
            object.value["spec"] = spec
        }

        // BeforeCreate: system fields.
        var generatedName = false
        if object.name.isEmpty, let prefix = object.generateName, !prefix.isEmpty {
            object.name = Self.generatedName(prefix: prefix, suffix: identities.nameSuffix(kind: kind.kind, namespace: object.namespace, prefix: prefix))
            generatedName = true
        }
        object.uid = identities.uid(kind: kind.kind)
        object.creationTimestamp = Timestamp(seconds: now.seconds)
        object.resourceVersion = nil
        object.deletionTimestamp = nil
        object.deletionGracePeriodSeconds = nil
        if kind.hasSpecGeneration { object.generation = 1 } else { object.generation = nil }
        prepareForCreate(&object, kind: kind, labelsGiven: labelsGiven, txn: txn)

        let errors = Validation.validate(object, kind: kind)
        if !errors.isEmpty { throw StoreError.invalid(kind.kind, object.name.isEmpty ? (object.generateName ?? "") : object.name, errors) }

        if kind.kind == "Pod" {
            // A validating admission plugin: it sees the generated name (the registry names the
            // object before it calls them), so its errors do too.
            try checkPodQuota(object, txn: txn, now: now)
        }
        try checkSingleDefaultPriorityClass(object, txn: txn)

        // A generated name that collides is retried, as kube-apiserver does (RetryGenerateName).
        var attempts = 0
        while try txn.current(object.key) != nil {
            guard generatedName, attempts < 8, let prefix = object.generateName else {
                throw StoreError.alreadyExists(kind.kind, object.name)
            }
            object.name = Self.generatedName(prefix: prefix, suffix: identities.nameSuffix(kind: kind.kind, namespace: object.namespace, prefix: prefix))
            attempts += 1
        }
        return try txn.append(EventDraft(time: now, type: .added, actor: context.actor, cause: context.cause, object: object.value))
    }

    /// Creates an object named `<base>.<hex>` with the first hex number from `start` upwards
    /// whose name is free, chosen inside the write transaction (Kubernetes names Events
    /// `<object>.<unix nanoseconds in hex>`; under a virtual clock many share an instant).
    @discardableResult
    public func create(_ object: JSONValue, nameBase: String, firstSuffix start: UInt64, context: WriteContext = .user) async throws -> Unstructured {
        let kind = try Self.resourceKind(of: object)
        try Self.checkTypes(object, kind: kind)
        let record = try await log.transact { [self] txn in
            var named = Unstructured(object)
            let namespace = kind.namespaced ? (named.namespace.isEmpty ? "default" : named.namespace) : ""
            let key = "\(namespace)/\(nameBase)"
            var suffix = start
            if let next = self.suffixHints.withLock({ $0.start == start ? $0.next[key] : nil }) { suffix = max(suffix, next) }
            while try txn.current(ObjectKey(kind: kind.kind, namespace: namespace, name: "\(nameBase).\(String(suffix, radix: 16))")) != nil {
                suffix &+= 1
            }
            named.name = "\(nameBase).\(String(suffix, radix: 16))"
            let created = try self.createInTransaction(named.value, kind: kind, txn: txn, context: context)
            self.suffixHints.withLock { hints in
                if hints.start != start { hints = (start, [:]) }
                hints.next[key] = suffix &+ 1
            }
            return created
        }
        return Unstructured(record.object)
    }

    static func generatedName(prefix: String, suffix: String) -> String {
        // Kubernetes trims the prefix so that the name stays within 63 characters.
        let maxPrefix = 63 - suffix.count
        return String(prefix.prefix(maxPrefix)) + suffix
    }

    /// Kind-specific `PrepareForCreate`.
    /// `labelsGiven`: whether the submitted object had labels of its own (before defaulting).
    func prepareForCreate(_ object: inout Unstructured, kind: ResourceKind, labelsGiven: Bool, txn: any LogTransaction) {
        switch kind.kind {
        case "Pod":
            object.value["status"] = ["phase": "Pending", "qosClass": .string(Defaults.qosClass(object.value["spec"]))]
            // applySchedulingGatedCondition: a gated pod says why the scheduler leaves it alone.
            if !(object.value[path: ["spec", "schedulingGates"]]?.arrayValue ?? []).isEmpty {
                let gated = Condition.pod(type: "PodScheduled", status: "False", reason: "SchedulingGated",
                                          message: "Scheduling is blocked due to non-empty scheduling gates",
                                          lastTransitionTime: Timestamp(seconds: now().seconds))
                object.value[path: ["status", "conditions"]] = [.object(gated.raw)]
            }
        case "ReplicaSet", "Deployment", "StatefulSet", "CronJob":
            object.value["status"] = .object(JSONObject())
        case "DaemonSet":
            object.value["status"] = .object(JSONObject())
            // apps/v1 carries the internal spec.templateGeneration as this annotation (at least 1).
            let given = object.annotations[Self.templateGenerationAnnotation].flatMap { Int($0) } ?? 0
            object.annotations[Self.templateGenerationAnnotation] = String(max(given, 1))
        case "Job":
            object.value["status"] = .object(JSONObject())
            // Defaulting gave a Job without labels its template's labels map — the same map in
            // Kubernetes, so the labels generated into the template below show in the Job's too.
            let labelsAreTemplates = !labelsGiven && object.value[path: ["spec", "template", "metadata", "labels"]]?.objectValue != nil
            if object.value[path: ["spec", "manualSelector"]]?.boolValue != true {
                let uid = object.uid
                object.value[path: ["spec", "selector"]] = ["matchLabels": ["batch.kubernetes.io/controller-uid": .string(uid)]]
                var labels = Unstructured(object.value[path: ["spec", "template"]] ?? .object(JSONObject())).labels
                labels["batch.kubernetes.io/controller-uid"] = uid
                labels["batch.kubernetes.io/job-name"] = object.name
                labels["controller-uid"] = uid
                labels["job-name"] = object.name
                if object.value[path: ["spec", "template", "metadata"]]?.objectValue == nil {
                    object.value[path: ["spec", "template", "metadata"]] = .object(JSONObject())
                }
                var template = Unstructured(object.value[path: ["spec", "template"]] ?? .object(JSONObject()))
                template.labels = labels
                object.value[path: ["spec", "template"]] = template.value
                if labelsAreTemplates { object.labels = labels }
            }
        case "Service":
            object.value["status"] = ["loadBalancer": .object(JSONObject())]
            let type = object.value[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
            guard type != "ExternalName" else { break }
            if object.value[path: ["spec", "clusterIP"]] == nil {
                object.value[path: ["spec", "clusterIP"]] = .string(allocateClusterIP(txn: txn))
            }
            if let ip = object.value[path: ["spec", "clusterIP"]] {
                object.value[path: ["spec", "clusterIPs"]] = [ip]
            }
            if object.value[path: ["spec", "ipFamilies"]] == nil { object.value[path: ["spec", "ipFamilies"]] = ["IPv4"] }
            if object.value[path: ["spec", "ipFamilyPolicy"]] == nil { object.value[path: ["spec", "ipFamilyPolicy"]] = "SingleStack" }
            if object.value[path: ["spec", "internalTrafficPolicy"]] == nil { object.value[path: ["spec", "internalTrafficPolicy"]] = "Cluster" }
        case "Namespace":
            // namespaceStrategy.PrepareForCreate: Active, and the `kubernetes` finalizer the
            // namespace controller removes once the namespace's content is gone.
            var finalizers = object.value[path: ["spec", "finalizers"]]?.arrayValue ?? []
            if !finalizers.contains("kubernetes") { finalizers.append("kubernetes") }
            if object.value["spec"]?.objectValue == nil { object.value["spec"] = .object(JSONObject()) }
            object.value[path: ["spec", "finalizers"]] = .array(finalizers)
            object.value["status"] = ["phase": "Active"]
        default:
            break
        }
    }

    /// `deprecated.daemonset.template.generation`: how many times a DaemonSet's pod template changed
    /// (DaemonSet pods carry it as the `pod-template-generation` label).
    public static let templateGenerationAnnotation = "deprecated.daemonset.template.generation"

    /// The lowest free address of the service range 10.96.0.0/12, from 10.96.0.10 (10.96.0.1 is
    /// the `kubernetes` service's and .2–.9 are kept for cluster add-ons).
    func allocateClusterIP(txn: any LogTransaction) -> String {
        let used = Set(((try? txn.list(kind: "Service", namespace: nil)) ?? []).compactMap {
            $0.object[path: ["spec", "clusterIP"]]?.stringValue
        })
        var n: UInt32 = 10
        while n < (1 << 20) {
            let ip = "10.\(96 + (n >> 16)).\((n >> 8) & 0xFF).\(n & 0xFF)"
            if !used.contains(ip) { return ip }
            n += 1
        }
        return "None"
    }

    /// The ResourceQuota admission plugin for the `pods` resource.
    func checkPodQuota(_ pod: Unstructured, txn: any LogTransaction, now: Timestamp) throws {
        let quotas = try txn.list(kind: "ResourceQuota", namespace: pod.namespace)
        guard !quotas.isEmpty else { return }
        let spec = pod.value["spec"]
        // The namespace's pods that count, read once for every quota.
        var counting: [JSONValue]?
        func countingPods() throws -> [JSONValue] {
            if let counting { return counting }
            let pods = try txn.list(kind: "Pod", namespace: pod.namespace).map(\.object)
                .filter { Self.countsTowardQuota(Unstructured($0), now: now) }
            counting = pods
            return pods
        }
        for quota in quotas {
            let hard = quota.object[path: ["spec", "hard"]]?.objectValue ?? [:]
            // The pod evaluator's Constraints: quota on cpu or memory requires every container to
            // say how much.
            var missing = Set<String>()
            let containers = (spec?["containers"]?.arrayValue ?? []) + (spec?["initContainers"]?.arrayValue ?? [])
            for name in hard.keys where Self.constrainedQuotaResources.contains(name) {
                guard let (resource, limits) = PodResources.quotaResource(name) else { continue }
                if containers.contains(where: { $0[path: ["resources", limits ? "limits" : "requests", resource]] == nil }) { missing.insert(name) }
            }
            if !missing.isEmpty {
                throw StoreError.forbidden("Pod", pod.name, "failed quota: \(quota.name): must specify \(missing.sorted().joined(separator: ","))")
            }
            // What the pod adds to each quota'd resource, against what the namespace uses.
            var requested: [(String, Int64, String)] = []  // name, milli-units, format sample
            for (name, limit) in hard {
                let sample = limit.stringValue ?? limit.intValue.map(String.init) ?? ""
                if name == "pods" || name == "count/pods" {
                    requested.append((name, 1000, sample))
                } else if let (resource, limits) = PodResources.quotaResource(name) {
                    let amount = PodResources.amount(spec, resource: resource, limits: limits)
                    if amount > 0 { requested.append((name, amount, sample)) }
                }
            }
            var exceeded: [(name: String, requested: String, used: String, limited: String)] = []
            for (name, amount, sample) in requested.sorted(by: { $0.0 < $1.0 }) {
                guard let limit = Quantity(sample)?.milliValue else { continue }
                let used: Int64
                if let (resource, limits) = PodResources.quotaResource(name) {
                    used = try countingPods().reduce(Int64(0)) { $0 + PodResources.amount($1["spec"], resource: resource, limits: limits) }
                } else {
                    used = Int64(try countingPods().count) * 1000
                }
                if used + amount > limit {
                    exceeded.append((name, Quantity.format(milli: amount, like: sample), Quantity.format(milli: used, like: sample), sample))
                }
            }
            if !exceeded.isEmpty {
                func list(_ part: KeyPath<(name: String, requested: String, used: String, limited: String), String>) -> String {
                    exceeded.map { "\($0.name)=\($0[keyPath: part])" }.joined(separator: ",")
                }
                throw StoreError.forbidden("Pod", pod.name, "exceeded quota: \(quota.name), requested: \(list(\.requested)), used: \(list(\.used)), limited: \(list(\.limited))")
            }
        }
    }

    /// The quota'd resources every container must state (the pod evaluator's `validationSet`).
    static let constrainedQuotaResources: Set<String> = ["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]

    /// A pod counts toward the `pods` quota unless it is terminal, or terminating past its grace.
    static func countsTowardQuota(_ pod: Unstructured, now: Timestamp) -> Bool {
        let phase = pod.value[path: ["status", "phase"]]?.stringValue
        if phase == "Succeeded" || phase == "Failed" { return false }
        // As upstream's QuotaV1Pod: deletionTimestamp plus the grace period once more.
        if let deletion = pod.deletionTimestamp, let grace = pod.deletionGracePeriodSeconds,
           now > deletion.adding(.seconds(grace)) { return false }
        return true
    }
}

extension Store {
    /// The Priority admission plugin: a pod gets the value of its `priorityClassName` (a built-in
    /// class or a stored PriorityClass) as `priority`, or that of the globalDefault class, or 0
    /// when there is none; and the class's `preemptionPolicy` (PreemptLowerPriority by default).
    func admitPriority(_ spec: inout JSONValue, pod: String, txn: any LogTransaction) throws {
        var className = spec["priorityClassName"]?.stringValue ?? ""
        var value: Int64 = 0
        var policy = "PreemptLowerPriority"
        func use(_ priorityClass: JSONValue) {
            value = priorityClass["value"]?.intValue ?? 0
            policy = priorityClass["preemptionPolicy"]?.stringValue ?? policy
        }
        if className.isEmpty {
            let classes = try txn.list(kind: "PriorityClass", namespace: nil)
            if let global = classes.first(where: { $0.object["globalDefault"]?.boolValue == true }) {
                className = global.name
                use(global.object)
            }
        } else if let system = Validation.systemPriorityClasses[className] {
            value = system
        } else if let stored = try txn.current(ObjectKey(kind: "PriorityClass", namespace: "", name: className)) {
            use(stored.object)
        } else {
            throw StoreError.forbidden("Pod", pod, "no PriorityClass with name \(className) was found")
        }
        if let given = spec["priority"]?.intValue, given != value {
            throw StoreError.forbidden("Pod", pod, "the integer value of priority (\(given)) must not be provided in pod spec; "
                + "priority admission controller computed \(value) from the given PriorityClass name")
        }
        if let given = spec["preemptionPolicy"]?.stringValue, given != policy {
            throw StoreError.forbidden("Pod", pod, "the string value of PreemptionPolicy (\(given)) must not be provided in pod spec; "
                + "priority admission controller computed \(policy) from the given PriorityClass name")
        }
        if !className.isEmpty { spec["priorityClassName"] = .string(className) }
        spec["priority"] = .int(value)
        spec["preemptionPolicy"] = .string(policy)
    }

    /// The Priority admission plugin on PriorityClasses: at most one may be `globalDefault`.
    func checkSingleDefaultPriorityClass(_ object: Unstructured, txn: any LogTransaction) throws {
        guard object.kind == "PriorityClass", object.value["globalDefault"]?.boolValue == true else { return }
        let classes = try txn.list(kind: "PriorityClass", namespace: nil)
        if let other = classes.first(where: { $0.name != object.name && $0.object["globalDefault"]?.boolValue == true }) {
            throw StoreError.forbidden("PriorityClass", object.name, "PriorityClass \(other.name) is already marked as default. Only one default can exist")
        }
    }
}
