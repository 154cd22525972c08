public import OrcaAPI
import OrcaLog

/// Which part of an object a write changes.
public enum Subresource: String, Sendable, Hashable {
    /// Everything but `status` (status changes are ignored, as by the main resource endpoint).
    case main
    /// Only `status` (spec and metadata changes are ignored).
    case status
    /// A Namespace's `spec.finalizers` only (the `/finalize` subresource the namespace
    /// controller uses to say it is done).
    case finalize
}

extension Store {
    /// Replaces an object, as `PUT` would, with optimistic concurrency.
    ///
    /// A non-empty `metadata.resourceVersion` must equal the current one, or the write fails with
    /// `Conflict`; an empty one updates unconditionally. `generation` increases when `spec`
    /// changes. An update that changes nothing appends nothing.
    ///
    /// - Throws: ``StoreError`` — `NotFound`, `Conflict`, `Invalid`, `BadRequest`.
    @discardableResult
    public func update(_ object: JSONValue, subresource: Subresource = .main, context: WriteContext = .user) async throws -> Unstructured {
        let kind = try Self.resourceKind(of: object)
        try Self.checkTypes(object, kind: kind)
        var input = Unstructured(object)
        input.namespace = kind.namespaced ? (input.namespace.isEmpty ? "default" : input.namespace) : ""
        let submitted = input
        let record = try await log.transact { [self] txn in
            guard let current = try txn.current(submitted.key) else { throw StoreError.notFound(kind.kind, submitted.name) }
            return try self.updateInTransaction(submitted, current: current, kind: kind, subresource: subresource,
                                                txn: txn, context: context)
        }
        return Unstructured(record.object)
    }

    /// Updates `status` only (the `/status` subresource).
    @discardableResult
    public func updateStatus(_ object: JSONValue, context: WriteContext = .user) async throws -> Unstructured {
        try await update(object, subresource: .status, context: context)
    }

    /// Applies a JSON merge patch (RFC 7386) to the current object, as `PATCH` with
    /// `application/merge-patch+json` would. A patch that includes `metadata.resourceVersion` is
    /// checked against the current one.
    @discardableResult
    public func patch(kind kindName: String, namespace: String = "default", name: String, mergePatch: JSONValue,
                      subresource: Subresource = .main, context: WriteContext = .user) async throws -> Unstructured {
        guard let kind = ResourceKind.forKind(kindName) else {
            throw StoreError(.notFound, "the server doesn't have a resource type \"\(kindName)\"")
        }
        guard mergePatch.objectValue != nil else {
            throw StoreError(.badRequest, "a merge patch must be a JSON object, not a \(mergePatch.typeName)")
        }
        let key = ObjectKey(kind: kind.kind, namespace: kind.namespaced ? (namespace.isEmpty ? "default" : namespace) : "", name: name)
        let record = try await log.transact { [self] txn in
            guard let current = try txn.current(key) else { throw StoreError.notFound(kind.kind, name) }
            var patched = Unstructured(current.object.applyingMergePatch(mergePatch))
            // Identity fields cannot be patched away.
            patched.kind = kind.kind
            patched.apiVersion = kind.apiVersion
            patched.name = name
            patched.namespace = key.namespace
            try Self.checkTypes(patched.value, kind: kind)
            return try self.updateInTransaction(patched, current: current, kind: kind, subresource: subresource,
                                                txn: txn, context: context)
        }
        return Unstructured(record.object)
    }

    /// The annotation holding the manifest last applied, as kubectl keeps it.
    public static let lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

    /// Creates the object, or updates the existing one — `orca apply`, with kubectl's three-way
    /// merge (`applying(_:lastApplied:to:)`): fields in the manifest are set, fields that were in
    /// the last applied manifest but are no longer are removed, and fields set by others
    /// (controllers, defaulting, allocation) are kept. The manifest is recorded in the
    /// `kubectl.kubernetes.io/last-applied-configuration` annotation.
    @discardableResult
    public func apply(_ object: JSONValue, context: WriteContext = .user) async throws -> (object: Unstructured, created: Bool, changed: Bool) {
        let kind = try Self.resourceKind(of: object)
        try Self.checkTypes(object, kind: kind)
        var input = Unstructured(object)
        if input.value["metadata"]?.objectValue == nil { input.value["metadata"] = .object(JSONObject()) }
        input.namespace = kind.namespaced ? (input.namespace.isEmpty ? "default" : input.namespace) : ""
        if input.name.isEmpty, input.generateName == nil {
            throw StoreError.invalid(kind.kind, "", [.required("metadata.name", "name or generateName is required")])
        }
        var applied = Unstructured(object)
        var appliedAnnotations = applied.annotations
        appliedAnnotations[Self.lastAppliedAnnotation] = nil
        applied.annotations = appliedAnnotations
        var manifest = input
        var annotations = manifest.annotations
        annotations[Self.lastAppliedAnnotation] = applied.value.jsonString()
        manifest.annotations = annotations
        let lastAppliedManifest = manifest
        let result = try await log.transact { [self] txn -> (EventRecord, Bool, Bool) in
            guard !lastAppliedManifest.name.isEmpty, let current = try txn.current(lastAppliedManifest.key) else {
                return (try self.createInTransaction(lastAppliedManifest.value, kind: kind, txn: txn, context: context), true, true)
            }
            let previous = Unstructured(current.object).annotations[Self.lastAppliedAnnotation].flatMap { try? JSONValue.parse($0) }
            var wanted = lastAppliedManifest.value
            wanted["status"] = nil
            wanted[path: ["metadata", "resourceVersion"]] = nil
            let next = Unstructured(Self.applying(wanted, lastApplied: previous, to: current.object))
            let record = try self.updateInTransaction(next, current: current, kind: kind, subresource: .main, txn: txn, context: context)
            return (record, false, record.seq != current.seq)
        }
        return (Unstructured(result.0.object), result.1, result.2)
    }

    /// Binds a pod to a node (the `binding` subresource the scheduler uses): sets `spec.nodeName`
    /// and the `PodScheduled=True` condition.
    @discardableResult
    public func bind(podNamespace: String = "default", podName: String, nodeName: String, context: WriteContext) async throws -> Unstructured {
        let key = ObjectKey(kind: "Pod", namespace: podNamespace, name: podName)
        let now = now()
        let record = try await log.transact { txn -> EventRecord in
            guard let current = try txn.current(key) else { throw StoreError.notFound("Pod", podName) }
            var pod = Unstructured(current.object)
            if let assigned = pod.value[path: ["spec", "nodeName"]]?.stringValue, !assigned.isEmpty {
                throw StoreError(.conflict, "Operation cannot be fulfilled on pods/binding \"\(podName)\": pod \(podName) is already assigned to node \"\(assigned)\"")
            }
            if pod.deletionTimestamp != nil {
                throw StoreError(.conflict, "Operation cannot be fulfilled on pods/binding \"\(podName)\": pod \(podName) is being deleted, cannot be assigned to a host")
            }
            pod.value[path: ["spec", "nodeName"]] = .string(nodeName)
            var conditions = pod.value[path: ["status", "conditions"]]?.arrayValue ?? []
            let condition: JSONValue = ["type": "PodScheduled", "status": "True", "lastProbeTime": .null,
                                        "lastTransitionTime": .string(Timestamp(seconds: now.seconds).rfc3339)]
            if let i = conditions.firstIndex(where: { $0["type"]?.stringValue == "PodScheduled" }) {
                conditions[i] = condition
            } else {
                conditions.append(condition)
            }
            pod.value[path: ["status", "conditions"]] = .array(conditions)
            return try txn.append(EventDraft(time: now, type: .modified, actor: context.actor, cause: context.cause, object: pod.value))
        }
        return Unstructured(record.object)
    }

    /// The shared update path: concurrency check, subresource rules, defaulting, immutable
    /// fields, validation, generation, then MODIFIED — or DELETED when the last finalizer of an
    /// object whose deletion is due goes. Returns `current` unchanged when nothing changes.
    func updateInTransaction(_ submitted: Unstructured, current: EventRecord, kind: ResourceKind, subresource: Subresource,
                             txn: any LogTransaction, context: WriteContext) throws -> EventRecord {
        let old = Unstructured(current.object)
        if let rv = submitted.resourceVersion, !rv.isEmpty, rv != old.resourceVersion {
            throw StoreError.conflict(kind.kind, submitted.name)
        }
        if !submitted.uid.isEmpty, submitted.uid != old.uid {
            throw StoreError(.conflict, "Operation cannot be fulfilled on \(StoreError.resource(kind.kind)) \"\(submitted.name)\": Precondition failed: UID in precondition: \(submitted.uid), UID in object meta: \(old.uid)")
        }
        var next: Unstructured
        switch subresource {
        case .status:
            next = old
            next.value["status"] = submitted.value["status"]
            if kind.kind == "Job" { Defaults.defaultJobLabels(&next.value) }
            // deploymentStatusStrategy keeps only spec and labels: the Deployment controller
            // writes its revision annotation with the status.
            if kind.kind == "Deployment" { next.value[path: ["metadata", "annotations"]] = submitted.value[path: ["metadata", "annotations"]] }
        case .finalize:
            guard kind.kind == "Namespace" else {
                throw StoreError(.notFound, "the server could not find the requested resource")
            }
            next = old
            next.value[path: ["spec", "finalizers"]] = submitted.value[path: ["spec", "finalizers"]] ?? .array([])
        case .main:
            next = submitted
            Defaults.apply(to: &next.value, kind: kind)
            for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "resourceVersion"] {
                next.value[path: ["metadata", field]] = old.value[path: ["metadata", field]]
            }
            if Self.hasStatusSubresource(kind) { next.value["status"] = old.value["status"] }
            if kind.kind == "Namespace" {
                // namespaceStrategy.PrepareForUpdate: spec.finalizers change only through /finalize.
                next.value[path: ["spec", "finalizers"]] = old.value[path: ["spec", "finalizers"]]
            }
            if kind.kind == "Service" {
                // Allocated values are kept when an update leaves them out.
                for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"]
                where next.value[path: ["spec", field]] == nil {
                    next.value[path: ["spec", field]] = old.value[path: ["spec", field]]
                }
            }
            if old.deletionTimestamp != nil {
                let added = Set(next.finalizers).subtracting(old.finalizers)
                if !added.isEmpty {
                    let list = added.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                    throw StoreError.invalid(kind.kind, old.name, [.forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted, found new finalizers []string{\(list)}")])
                }
            }
            if kind.kind == "DaemonSet" {
                // A template change bumps the template generation; otherwise it is kept.
                let current = old.annotations[Self.templateGenerationAnnotation].flatMap { Int($0) } ?? 1
                let changed = next.value[path: ["spec", "template"]] != old.value[path: ["spec", "template"]]
                next.annotations[Self.templateGenerationAnnotation] = String(changed ? current + 1 : current)
            }
            var errors = Validation.validate(next, kind: kind)
            errors += Self.immutableFieldErrors(old: old.value, new: next.value, kind: kind)
            if !errors.isEmpty { throw StoreError.invalid(kind.kind, old.name, errors) }
            try checkSingleDefaultPriorityClass(next, txn: txn)
            if kind.hasSpecGeneration, next.value["spec"] != old.value["spec"] {
                next.generation = (old.generation ?? 0) + 1
            }
        }
        if next.value == old.value { return current }
        let now = now()
        let removeNow = next.deletionTimestamp != nil && next.finalizers.isEmpty && (next.deletionGracePeriodSeconds ?? 0) == 0
            && (next.value[path: ["spec", "finalizers"]]?.arrayValue ?? []).isEmpty
        return try txn.append(EventDraft(time: now, type: removeNow ? .deleted : .modified, actor: context.actor,
                                         cause: context.cause, object: next.value))
    }

    /// batch/v1's `ValidateJobSpecUpdate`, in its order: `completions` (an Indexed Job's may
    /// change together with `parallelism`, ElasticIndexedJob), `selector`, `template` (a suspended
    /// Job that never started may change its pods' node affinity, node selector, tolerations,
    /// scheduling gates, labels and annotations), `completionMode`, `podFailurePolicy`,
    /// `backoffLimitPerIndex`, `managedBy` and `successPolicy`.
    static func jobImmutableFieldErrors(old: JSONValue, new: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        func immutable(_ field: String) {
            if old[path: ["spec", field]] != new[path: ["spec", field]] {
                errors.append(.invalid("spec.\(field)", new[path: ["spec", field]] ?? .null, "field is immutable"))
            }
        }
        let completions = new[path: ["spec", "completions"]]
        if new[path: ["spec", "completionMode"]]?.stringValue != "Indexed" {
            immutable("completions")
        } else if let completions, old[path: ["spec", "completions"]] != completions, !completions.isNull,
                  completions != new[path: ["spec", "parallelism"]] {
            errors.append(.invalid("spec.completions", completions, "can only be modified in tandem with spec.parallelism"))
        }
        immutable("selector")
        let suspended = old[path: ["spec", "suspend"]]?.boolValue == true
        let started = old[path: ["status", "startTime"]].map { !$0.isNull } ?? false
        func schedulingFixed(_ template: JSONValue?) -> JSONValue? {
            guard var t = template, suspended, !started else { return template }
            for path in [["metadata", "labels"], ["metadata", "annotations"], ["spec", "nodeSelector"], ["spec", "tolerations"],
                         ["spec", "schedulingGates"], ["spec", "affinity", "nodeAffinity"]] {
                t[path: path] = nil
            }
            if t[path: ["spec", "affinity"]]?.objectValue?.isEmpty == true { t[path: ["spec", "affinity"]] = nil }
            return t
        }
        if schedulingFixed(old[path: ["spec", "template"]]) != schedulingFixed(new[path: ["spec", "template"]]) {
            errors.append(.invalid("spec.template", new[path: ["spec", "template"]] ?? .null, "field is immutable"))
        }
        for field in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"] { immutable(field) }
        return errors
    }

    static func hasStatusSubresource(_ kind: ResourceKind) -> Bool {
        ["Pod", "Node", "Namespace", "Service", "ResourceQuota", "ReplicaSet", "DaemonSet", "Deployment", "StatefulSet", "Job", "CronJob"].contains(kind.kind)
    }

    /// Fields Kubernetes does not let an update change.
    static func immutableFieldErrors(old: JSONValue, new: JSONValue, kind: ResourceKind) -> [FieldError] {
        switch kind.kind {
        case "ReplicaSet", "DaemonSet", "Deployment":
            if old[path: ["spec", "selector"]] != new[path: ["spec", "selector"]] {
                return [.invalid("spec.selector", new[path: ["spec", "selector"]], "field is immutable")]
            }
        case "Job":
            return jobImmutableFieldErrors(old: old, new: new)
        case "StatefulSet":
            // ValidateStatefulSetUpdate: only these may change.
            var a = old["spec"] ?? .null, b = new["spec"] ?? .null
            for field in ["replicas", "template", "updateStrategy", "minReadySeconds", "ordinals", "persistentVolumeClaimRetentionPolicy"] {
                a[field] = nil
                b[field] = nil
            }
            if a != b {
                return [.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")]
            }
        case "Pod":
            var masked = new["spec"] ?? .null
            let oldSpec = old["spec"] ?? .null
            for list in ["containers", "initContainers"] {
                if var items = masked[list]?.arrayValue, let oldItems = oldSpec[list]?.arrayValue, items.count == oldItems.count {
                    for i in items.indices { items[i]["image"] = oldItems[i]["image"] }
                    masked[list] = .array(items)
                }
            }
            // Scheduling gates may only be removed; while a pod is gated its nodeSelector may
            // gain entries (PodSchedulingReadiness).
            var errors: [FieldError] = []
            let oldGates = Set((oldSpec["schedulingGates"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
            for (i, gate) in (masked["schedulingGates"]?.arrayValue ?? []).enumerated() {
                if let name = gate["name"]?.stringValue, !oldGates.contains(name) {
                    errors.append(.forbidden("spec.schedulingGates[\(i)].name", "only deletion is allowed, but found new scheduling gate '\(name)'"))
                }
            }
            masked["schedulingGates"] = oldSpec["schedulingGates"]
            if !oldGates.isEmpty, let newSelector = masked["nodeSelector"]?.objectValue {
                let oldSelector = oldSpec["nodeSelector"]?.objectValue ?? [:]
                if oldSelector.allSatisfy({ newSelector[$0.key] == $0.value }) {
                    masked["nodeSelector"] = oldSpec["nodeSelector"]
                } else {
                    errors.append(.forbidden("spec.nodeSelector", "only additions to spec.nodeSelector are allowed (no mutations or deletions)"))
                    masked["nodeSelector"] = oldSpec["nodeSelector"]
                }
            }
            if !errors.isEmpty { return errors }
            masked["activeDeadlineSeconds"] = oldSpec["activeDeadlineSeconds"]
            masked["terminationGracePeriodSeconds"] = oldSpec["terminationGracePeriodSeconds"]
            let oldTolerations = oldSpec["tolerations"]?.arrayValue ?? []
            let newTolerations = masked["tolerations"]?.arrayValue ?? []
            if oldTolerations.allSatisfy(newTolerations.contains) { masked["tolerations"] = oldSpec["tolerations"] }
            if masked != oldSpec {
                return [.forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")]
            }
        case "PriorityClass":
            var errors: [FieldError] = []
            if old["value"] != new["value"] { errors.append(.forbidden("value", "may not be changed in an update.")) }
            if old["preemptionPolicy"] != new["preemptionPolicy"] {
                errors.append(.invalid("preemptionPolicy", new["preemptionPolicy"], "field is immutable"))
            }
            return errors
        default: break
        }
        return []
    }
}
