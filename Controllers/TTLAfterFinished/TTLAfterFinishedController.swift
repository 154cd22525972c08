import Orca

/// Deletes finished Jobs `spec.ttlSecondsAfterFinished` seconds after they finish, as
/// Kubernetes' ttl-after-finished controller does.
///
/// A Job is finished when its `Complete` or `Failed` condition is `True`; it finished at that
/// condition's `lastTransitionTime` (or `status.completionTime`). Until it expires the request is
/// requeued for the moment it will; then the Job is deleted with foreground propagation, so its
/// pods go first. Jobs without a TTL, or not finished, are left alone.
///
/// Written against the public `Orca` module only, exactly as a third-party controller would be.
public struct TTLAfterFinishedController: Reconciler {
    public typealias Object = Job
    public static let name = "ttl-after-finished"
    public static var configuration: ControllerConfiguration { ControllerConfiguration(workers: 5) }

    public init() {}

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let job = context.get(Job.self, request), job.metadata.deletionTimestamp == nil else { return .done }
        switch Self.plan(job, now: context.now) {
        case .keep:
            return .done
        case .wait(let remaining):
            return .requeue(after: remaining)
        case .delete:
            context.logger.info("deleting finished job past its TTL")
            do {
                // As upstream: foreground (pods go first), and only the Job we looked at.
                try await context.client.delete(kind: Job.kind, namespace: request.namespace, name: request.name,
                                                options: DeleteOptions(propagationPolicy: .foreground,
                                                                       preconditionUID: job.metadata.uid))
            } catch let error as StoreError where error.reason == .notFound {
                // Already gone: nothing left to do.
            }
            return .done
        }
    }

    /// What to do with a Job at `now`.
    public enum Plan: Equatable, Sendable {
        case keep
        case wait(Duration)
        case delete
    }

    /// The pure decision, for unit tests.
    public static func plan(_ job: Job, now: Timestamp) -> Plan {
        guard let ttl = job.spec.ttlSecondsAfterFinished, let finished = finishTime(job) else { return .keep }
        let expiry = finished.adding(.seconds(ttl))
        return now >= expiry ? .delete : .wait(expiry.since(now))
    }

    /// When the Job finished, or nil while it has not.
    public static func finishTime(_ job: Job) -> Timestamp? {
        let conditions = job.status.conditions
        guard let done = conditions.first(where: { ($0.type == "Complete" || $0.type == "Failed") && $0.isTrue }) else { return nil }
        return done.lastTransitionTime ?? job.status.completionTime
    }
}
