public import Orca

/// The Job controller's orphan queue: a pod carrying `batch.kubernetes.io/job-tracking` whose
/// Job is gone, finished or no longer its controller gets the finalizer removed, so it can be
/// deleted (batch/v1 orphans a deleted Job's pods by default).
public struct JobOrphanFinalizerController: Reconciler {
    public typealias Object = Pod
    public static let name = "job-orphans"

    public init() {}

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let pod = context.get(Pod.self, request), JobPlanning.hasTrackingFinalizer(pod) else { return .done }
        if let ref = PodUtil.controllerRef(pod), ref.kind == Job.kind,
           let job = context.get(Job.self, ReconcileRequest(namespace: request.namespace, name: ref.name)),
           job.metadata.uid == ref.uid, !JobController.isFinished(job) {
            return .done
        }
        if PodUtil.controllerRef(pod) == nil {
            // An orphan that a live Job may still adopt is left to it.
            let adoptable = context.list(Job.self, namespace: request.namespace).contains { job in
                guard job.metadata.deletionTimestamp == nil, !JobController.isFinished(job),
                      let selector = LabelSelector(specSelector: job.spec.selector.json), !selector.isEmpty else { return false }
                return selector.matches(pod.metadata.labels)
            }
            if adoptable { return .done }
        }
        try await JobController.removeTrackingFinalizer(pod, context: context)
        return .done
    }
}
