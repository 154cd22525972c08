import Orca
import KubeletSimulator

extension Simulation {
    func fail(_ step: Step, _ field: String, _ message: String) -> ScenarioError {
        ScenarioError(file: scenario.file, line: step.line, field: "steps[\(step.index)]\(field.isEmpty ? "" : ".")\(field)", message: message)
    }

    /// Runs one step as the user (actor `scenario/steps[i]`). A target that matches nothing, or
    /// a write the API rejects as invalid, stops the run (exit status 2); a write admission
    /// refuses (Forbidden) is recorded in ``refusedWrites`` and the run goes on, as a cluster
    /// would — an `apply` step's other manifests are still applied.
    func perform(_ step: Step) async throws {
        let context = WriteContext(actor: "scenario/steps[\(step.index)]")
        let store = manager.store
        let now = clock.now()
        do {
            switch step.action {
            case .apply(let manifests):
                for manifest in manifests {
                    do {
                        try await apply(manifest.value, context: context)
                    } catch let error as StoreError where error.reason == .forbidden {
                        let at = now.since(scenario.start)
                        refusals.withLock { $0.append("\(scenario.file):\(step.line): steps[\(step.index)] at \(at.goString): \(error.reason): \(error.message)") }
                    }
                }
            case .patch(let target, let merge, let subresource):
                let object = try resolve(target, step, "patch")
                try await store.patch(kind: target.kind, namespace: object.namespace, name: object.name, mergePatch: merge,
                                      subresource: subresource, context: context)
            case .delete(let target, let options):
                let object = try resolve(target, step, "delete")
                try await store.delete(kind: target.kind, namespace: object.namespace, name: object.name, options: options, context: context)
            case .node(let name, let action):
                guard try store.get(kind: "Node", namespace: "", name: name) != nil else {
                    throw fail(step, "node", "node \"\(name)\" not found")
                }
                try await perform(action, node: name, step: step, context: context, now: now)
            case .pod(let target, let action):
                let object = try resolve(target, step, "pod")
                guard let pod = Pod(object.value) else { throw fail(step, "pod", "\(target) is not a Pod") }
                perform(action, pod: pod, now: now)
                controller("kubelet")?.queue.add(ReconcileRequest(namespace: object.namespace, name: object.name))
            case .delayWatch(let kindName, let name, let by):
                guard let kind = ResourceKind.lookup(kindName) else { throw fail(step, "kind", "unknown kind \"\(kindName)\"") }
                guard let target = controller(name) else {
                    let known = controllers.withLock { $0.keys.sorted() }.joined(separator: ", ")
                    throw fail(step, "controller", "no controller \"\(name)\" in this run (running: \(known))")
                }
                guard by >= .zero else { throw fail(step, "by", "must not be negative") }
                manager.informers.delay(kind.kind, for: target.name, by: by, clock: clock)
            }
        } catch let error as StoreError {
            throw fail(step, "", "\(error.reason): \(error.message)")
        }
    }

    /// Creates the object, or updates the existing one as `kubectl apply` does: what the manifest
    /// sets replaces what is there (lists Kubernetes merges by key, element by element), what the scenario's previous manifest for the
    /// object set and this one no longer does is removed, and what the API server and controllers
    /// set (a Job's generated selector, a pod's admission defaults, a Service's cluster IP) is
    /// kept. Unlike kubectl, no last-applied annotation is written: the run remembers the manifests.
    func apply(_ manifest: JSONValue, context: WriteContext) async throws {
        let kind = try Store.resourceKind(of: manifest)
        let namespace = kind.namespaced ? (manifest[path: ["metadata", "namespace"]]?.stringValue ?? "default") : ""
        let name = manifest[path: ["metadata", "name"]]?.stringValue ?? ""
        let key = ObjectKey(kind: kind.kind, namespace: namespace, name: name)
        if !name.isEmpty, let existing = try manager.store.get(kind: kind.kind, namespace: namespace, name: name) {
            var wanted = manifest
            wanted["status"] = nil
            wanted[path: ["metadata", "resourceVersion"]] = nil
            var next = Unstructured(Store.applying(wanted, lastApplied: applied.withLock { $0[key] }, to: existing.value))
            next.resourceVersion = nil
            try await manager.store.update(next.value, context: context)
        } else {
            try await manager.store.create(manifest, context: context)
        }
        applied.withLock { $0[key] = manifest }
    }

    /// The object a target names: by name, or the ordinal-th live match of the selector in
    /// creation order.
    func resolve(_ target: Target, _ step: Step, _ field: String) throws -> Unstructured {
        let store = manager.store
        if let name = target.name {
            guard let object = try store.get(kind: target.kind, namespace: target.namespace, name: name) else {
                throw fail(step, field, "\(target.kind) \"\(name)\" not found in namespace \"\(target.namespace)\"")
            }
            return object
        }
        let seq = try manager.log.latestSeq()
        let candidates = try targetCandidates(kind: target.kind, namespace: target.namespace, seq: seq)
        let live = candidates.matching(target.selector ?? .everything)
        guard target.ordinal < live.count else {
            throw fail(step, field, "no live \(target.kind) matches selector \"\(target.selectorText ?? "")\" at ordinal \(target.ordinal) (\(live.count) match)")
        }
        return live[target.ordinal]
    }

    /// The live objects of a kind in a namespace in creation order, with an index by label, as of
    /// log seq `seq`. Steps that write nothing (pod actions) leave the log where it was, so a run
    /// of them lists the objects once instead of once per step.
    func targetCandidates(kind: String, namespace: String, seq: UInt64) throws -> TargetCandidates {
        let key = "\(kind)/\(namespace)"
        if let cached = targetCandidateCache.withLock({ $0.seq == seq ? $0.lists[key] : nil }) { return cached }
        // Sort keys are computed once per object, not once per comparison (a namespace can hold
        // 150,000 pods, and a timestamp is parsed from text).
        let live = try manager.store.list(kind: kind, namespace: namespace, selector: .everything)
            .filter { $0.deletionTimestamp == nil }
            .map { (created: $0.creationTimestamp ?? .zero, uid: $0.uid, version: UInt64($0.resourceVersion ?? "") ?? 0, object: $0) }
            .sorted { a, b in
                if a.created != b.created { return a.created < b.created }
                return a.uid != b.uid ? a.uid < b.uid : a.version < b.version
            }
            .map(\.object)
        let candidates = TargetCandidates(live)
        targetCandidateCache.withLock { c in
            if c.seq != seq { c = (seq, [:]) }
            c.lists[key] = candidates
        }
        return candidates
    }

    func perform(_ action: Step.NodeAction, node: String, step: Step, context: WriteContext, now: Timestamp) async throws {
        let store = manager.store
        switch action {
        case .stopHeartbeat:
            kubelets.setAlive(node, false, now: now)
        case .resumeHeartbeat:
            kubelets.setAlive(node, true, now: now)
            controller("kubelet-node")?.queue.add(ReconcileRequest(name: node))
            for pod in manager.informers.informer(for: "Pod").snapshot.byIndex(IndexName.nodeName, node) {
                controller("kubelet")?.queue.add(ReconcileRequest(pod))
            }
        case .setCondition(let condition):
            guard kubelets.isAlive(node) else { throw fail(step, "node", "node \"\(node)\" has no running kubelet to report a condition") }
            kubelets.setCondition(node, condition)
            controller("kubelet-node")?.queue.add(ReconcileRequest(name: node))
        case .cordon:
            try await store.patch(kind: "Node", namespace: "", name: node, mergePatch: ["spec": ["unschedulable": true]], context: context)
        case .uncordon:
            try await store.patch(kind: "Node", namespace: "", name: node, mergePatch: ["spec": ["unschedulable": .null]], context: context)
        case .delete:
            try await store.delete(kind: "Node", namespace: "", name: node, context: context)
        }
    }

    func perform(_ action: Step.PodAction, pod: Pod, now: Timestamp) {
        let key = pod.key
        let uid = pod.metadata.uid ?? ""
        switch action {
        case .exit(let container, let code):
            kubelets.withPod(key, uid: uid) { $0.exit(container: container, exitCode: code, at: now) }
        case .failLiveness(let container):
            kubelets.withPod(key, uid: uid) { $0.exit(container: container, exitCode: 137, at: now) }
        case .setReady(let ready):
            kubelets.withPod(key, uid: uid) { $0.setReady(ready, at: now) }
        case .evict:
            kubelets.withPod(key, uid: uid) { $0.evict(at: now) }
        case .setBehavior(let change):
            let current = kubelets.withPod(key, uid: uid) { $0.behavior }
                ?? ((try? Behavior(annotations: pod.metadata.annotations)) ?? Behavior())
            kubelets.setBehavior(change.applied(to: current), podUID: uid, key: key, now: now)
        }
    }
}

/// Live objects in creation order, indexed by `key=value` label.
struct TargetCandidates: Sendable {
    let objects: [Unstructured]
    let labels: [[String: String]]
    let byLabel: [String: [Int]]

    init(_ objects: [Unstructured]) {
        self.objects = objects
        labels = objects.map(\.labels)
        var index: [String: [Int]] = [:]
        for (i, l) in labels.enumerated() { for (k, v) in l { index[k + "=" + v, default: []].append(i) } }
        byLabel = index
    }

    /// The objects the selector matches, in creation order. An equality requirement narrows the
    /// scan to the objects carrying that label.
    func matching(_ selector: LabelSelector) -> [Unstructured] {
        var positions: [Int]?
        for requirement in selector.requirements where requirement.op == .equals {
            let list = byLabel[requirement.key + "=" + (requirement.values.first ?? "")] ?? []
            if positions == nil || list.count < positions?.count ?? 0 { positions = list }
        }
        return (positions ?? Array(objects.indices)).filter { selector.matches(labels[$0]) }.map { objects[$0] }
    }
}
