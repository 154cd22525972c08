public import Orca

/// The pod half of every simulated kubelet: runs the containers of each pod bound to a node with
/// a live kubelet (``SimulatedPod``) and reports their status; terminates deleted pods (SIGTERM,
/// the grace period, SIGKILL, a terminal phase) and removes them with a final delete of grace 0.
/// Writes are stamped `kubelet/<node>`. A pod on a node whose kubelet is stopped never changes.
public struct KubeletPodController: Reconciler {
    public typealias Object = Pod
    public static let name = "kubelet"
    public let kubelets: Kubelets

    public init(kubelets: Kubelets) { self.kubelets = kubelets }

    public static var configuration: ControllerConfiguration {
        // A node coming back (or appearing) resyncs its pods.
        ControllerConfiguration(watches: [Watch("Node", .custom { event, context in
            guard case .updated = event else { return [] }
            return context.snapshot("Pod").byIndex(IndexName.nodeName, event.record.name).map { ReconcileRequest($0) }
        })])
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        let key = ObjectKey(kind: "Pod", namespace: request.namespace, name: request.name)
        // The kubelet's own status write coming back in the same instant, nothing else changed:
        // what the full pass below would do is what the write's pass already returned.
        if let record = context.snapshot("Pod").get(key), let known = kubelets.load(key), let write = known.lastWrite,
           write.podSeq == record.seq, write.at == context.now,
           let nodeName = record.value(at: ["spec", "nodeName"])?.stringValue, kubelets.isAlive(nodeName),
           write.nodeSeq == context.snapshot("Node").get(name: nodeName)?.seq {
            guard let next = known.nextTransition() else { return .done }
            return .requeue(after: max(.zero, next.since(context.now)))
        }
        guard let record = context.snapshot("Pod").get(key), let pod = Pod(record.object) else {
            kubelets.store(key, nil)
            return .done
        }
        guard let nodeName = pod.spec.nodeName, !nodeName.isEmpty, kubelets.isAlive(nodeName) else { return .done }
        let uid = pod.metadata.uid ?? ""
        let annotated: Behavior
        do {
            annotated = try Behavior(annotations: pod.metadata.annotations)
        } catch {
            throw TerminalError("pod \(request): \(error.message)")
        }
        let behavior = kubelets.behavior(uid: uid) ?? annotated
        if behavior.frozen { return .done }
        let now = context.now
        let client = StoreClient(store: context.client.store,
                                 writeContext: WriteContext(actor: "kubelet/\(nodeName)", cause: context.cause))

        let apiPhase = pod.status.phase
        if apiPhase == "Succeeded" || apiPhase == "Failed" {
            if pod.metadata.deletionTimestamp != nil {
                kubelets.store(key, nil)
                try await finalDelete(client, request, uid: uid)
            }
            return .done
        }

        var sim: SimulatedPod
        if let known = kubelets.load(key), known.uid == uid {
            sim = known
        } else {
            sim = SimulatedPod(pod: pod, behavior: behavior, now: now)
            sim.adopt(pod.status, now: now)
        }
        let nodeSeq = context.snapshot("Node").get(name: nodeName)?.seq
        let node = context.get(Node.self, ReconcileRequest(name: nodeName))
        let ip = kubelets.podIP(key, node: nodeName, cidr: node?.spec.podCIDR, existing: pod.status.podIP)
        let hostIP = node?.status.addresses.first { $0.type == "InternalIP" }?.address
        sim.advance(to: now)
        if let deadline = pod.metadata.deletionTimestamp {
            sim.terminate(deadline: deadline, at: now)
        }
        sim.lastWrite = nil
        kubelets.store(key, sim)

        var updated = pod
        updated.status = sim.status(of: pod, now: now, podIP: ip, hostIP: hostIP)
        if updated.status != pod.status {
            let written = try await client.updateStatus(updated)
            if let seq = written.metadata.resourceVersion.flatMap({ UInt64($0) }) {
                sim.lastWrite = SimulatedPod.StatusWrite(podSeq: seq, nodeSeq: nodeSeq, at: now)
                kubelets.store(key, sim)
            }
        }
        if pod.metadata.deletionTimestamp != nil, sim.allTerminated {
            kubelets.store(key, nil)
            try await finalDelete(client, request, uid: uid)
            return .done
        }
        guard let next = sim.nextTransition() else { return .done }
        return .requeue(after: max(.zero, next.since(now)))
    }

    /// The kubelet's final delete, with grace 0 and a UID precondition.
    func finalDelete(_ client: StoreClient, _ request: ReconcileRequest, uid: String) async throws {
        do {
            try await client.delete(kind: "Pod", namespace: request.namespace, name: request.name,
                                    options: DeleteOptions(gracePeriodSeconds: 0, preconditionUID: uid))
        } catch let error as StoreError where error.reason == .notFound || error.reason == .conflict {
            return
        }
    }
}
