public import OrcaAPI
import OrcaLog

/// How dependents are treated when their owner is deleted (`propagationPolicy`).
public enum PropagationPolicy: String, Sendable, Hashable, CaseIterable {
    /// Delete the owner now; the garbage collector deletes dependents afterwards.
    case background = "Background"
    /// Keep the owner (finalizer `foregroundDeletion`) until its blocking dependents are gone.
    case foreground = "Foreground"
    /// Keep the owner (finalizer `orphan`) until dependents' owner references are removed.
    case orphan = "Orphan"

    /// The default per kind, as Kubernetes' `DefaultGarbageCollectionPolicy`: batch/v1 Jobs
    /// orphan their pods unless told otherwise; everything else is deleted in the background.
    public static func defaultPolicy(forKind kind: String) -> PropagationPolicy {
        kind == "Job" ? .orphan : .background
    }

    /// `finalizers` with this policy's finalizer — `orphan` or `foregroundDeletion`, the other
    /// one removed (neither for Background) — as the registry sets them on a delete.
    func applied(to finalizers: [String]) -> [String] {
        switch self {
        case .orphan:
            let out = finalizers.filter { $0 != "foregroundDeletion" }
            return out.contains("orphan") ? out : out + ["orphan"]
        case .foreground:
            let out = finalizers.filter { $0 != "orphan" }
            return out.contains("foregroundDeletion") ? out : out + ["foregroundDeletion"]
        case .background:
            return finalizers.filter { $0 != "orphan" && $0 != "foregroundDeletion" }
        }
    }
}

/// Options of a delete, as `metav1.DeleteOptions`.
public struct DeleteOptions: Sendable, Hashable {
    /// Seconds before the object is removed; nil uses the object's own (pods: 30 s default).
    /// Only pods are deleted gracefully; 0 removes at once.
    public var gracePeriodSeconds: Int64?
    /// nil uses the kind's default (``PropagationPolicy/defaultPolicy(forKind:)``).
    public var propagationPolicy: PropagationPolicy?
    /// Delete only if the object still has this UID.
    public var preconditionUID: String?
    /// Delete only if the object still has this resourceVersion.
    public var preconditionResourceVersion: String?

    public init(gracePeriodSeconds: Int64? = nil, propagationPolicy: PropagationPolicy? = nil,
                preconditionUID: String? = nil, preconditionResourceVersion: String? = nil) {
        self.gracePeriodSeconds = gracePeriodSeconds
        self.propagationPolicy = propagationPolicy
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
    }

    /// `--grace-period=0 --force`: remove at once, regardless of the kubelet.
    public static let force = DeleteOptions(gracePeriodSeconds: 0)
}

/// What a delete did.
public enum DeleteOutcome: Sendable, Hashable {
    /// The object is gone (a DELETED event was appended).
    case deleted(Unstructured)
    /// The object now has a deletionTimestamp and stays until its grace period ends or its
    /// finalizers are removed.
    case terminating(Unstructured)
}

extension Store {
    /// Deletes an object with Kubernetes' semantics.
    ///
    /// Pods are deleted gracefully: `deletionTimestamp = now + grace` and
    /// `deletionGracePeriodSeconds = grace` (grace from the options, else the pod's
    /// `terminationGracePeriodSeconds`, else 30 s), except that an unscheduled or terminal pod, or
    /// grace 0, is removed at once. A second delete may shorten the grace, never lengthen it.
    /// Finalizers keep any object until they are removed. The propagation policy adds the
    /// `orphan` or `foregroundDeletion` finalizer as Kubernetes does.
    ///
    /// - Throws: ``StoreError`` — `NotFound`, or `Conflict` when a precondition fails.
    @discardableResult
    public func delete(kind kindName: String, namespace: String = "default", name: String,
                       options: DeleteOptions = DeleteOptions(), context: WriteContext = .user) async throws -> DeleteOutcome {
        guard let kind = ResourceKind.forKind(kindName) else {
            throw StoreError(.notFound, "the server doesn't have a resource type \"\(kindName)\"")
        }
        let key = ObjectKey(kind: kind.kind, namespace: kind.namespaced ? (namespace.isEmpty ? "default" : namespace) : "", name: name)
        let now = now()
        let defaultGrace = admission.defaultTerminationGracePeriodSeconds
        let record = try await log.transact { txn -> EventRecord in
            guard let current = try txn.current(key) else { throw StoreError.notFound(kind.kind, name) }
            var object = Unstructured(current.object)
            if let uid = options.preconditionUID, uid != object.uid {
                throw StoreError(.conflict, "Operation cannot be fulfilled on \(StoreError.resource(kind.kind)) \"\(name)\": Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.uid)")
            }
            if let rv = options.preconditionResourceVersion, rv != object.resourceVersion {
                throw StoreError(.conflict, "Operation cannot be fulfilled on \(StoreError.resource(kind.kind)) \"\(name)\": Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(object.resourceVersion ?? "")")
            }

            if kind.kind == "Namespace" {
                return try Self.deleteNamespace(object, current: current, options: options, now: now, txn: txn, context: context)
            }
            // Finalizers for the propagation policy.
            // An explicit policy wins; else a finalizer already set by an earlier delete; else the
            // kind's default (upstream's shouldOrphanDependents / shouldDeleteDependents).
            let existing = object.finalizers
            let policy = options.propagationPolicy
                ?? (existing.contains("orphan") ? .orphan : existing.contains("foregroundDeletion") ? .foreground : nil)
                ?? PropagationPolicy.defaultPolicy(forKind: kind.kind)
            let finalizers = policy.applied(to: existing)

            // Grace period: only pods are deleted gracefully.
            var grace: Int64 = 0
            if kind.kind == "Pod" {
                grace = options.gracePeriodSeconds
                    ?? object.value[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? defaultGrace
                let nodeName = object.value[path: ["spec", "nodeName"]]?.stringValue ?? ""
                let phase = object.value[path: ["status", "phase"]]?.stringValue ?? ""
                if nodeName.isEmpty || phase == "Succeeded" || phase == "Failed" { grace = 0 }
                grace = max(grace, 0)
            }
            if let existing = object.deletionGracePeriodSeconds, object.deletionTimestamp != nil {
                grace = min(grace, existing)  // a later delete may shorten, never lengthen
            }

            if grace == 0 && finalizers.isEmpty {
                return try txn.append(EventDraft(time: now, type: .deleted, actor: context.actor, cause: context.cause, object: object.value))
            }
            let deadline = Timestamp(seconds: now.seconds).adding(.seconds(grace))
            if object.deletionTimestamp.map({ deadline < $0 }) ?? true {
                object.deletionTimestamp = deadline
                object.deletionGracePeriodSeconds = grace
            }
            object.finalizers = finalizers
            if object.value == current.object { return current }
            return try txn.append(EventDraft(time: now, type: .modified, actor: context.actor, cause: context.cause, object: object.value))
        }
        let object = Unstructured(record.object)
        return record.type == .deleted ? .deleted(object) : .terminating(object)
    }

    /// The namespace registry's delete: the first request marks the namespace Terminating
    /// (deletionTimestamp now, no grace; the orphan/foregroundDeletion finalizer only for an
    /// explicit policy) and keeps it while `spec.finalizers` — the namespace controller's
    /// `kubernetes` — remain; once they are gone a delete removes it like any object.
    static func deleteNamespace(_ namespace: Unstructured, current: EventRecord, options: DeleteOptions, now: Timestamp,
                                txn: any LogTransaction, context: WriteContext) throws -> EventRecord {
        var object = namespace
        if object.deletionTimestamp == nil {
            object.deletionTimestamp = Timestamp(seconds: now.seconds)
            object.value[path: ["status", "phase"]] = "Terminating"
            if let policy = options.propagationPolicy { object.finalizers = policy.applied(to: object.finalizers) }
            return try txn.append(EventDraft(time: now, type: .modified, actor: context.actor, cause: context.cause, object: object.value))
        }
        let specFinalizers = object.value[path: ["spec", "finalizers"]]?.arrayValue ?? []
        guard specFinalizers.isEmpty, object.finalizers.isEmpty else { return current }
        return try txn.append(EventDraft(time: now, type: .deleted, actor: context.actor, cause: context.cause, object: object.value))
    }
}
