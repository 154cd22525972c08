public import Orca

/// Kubernetes' Endpoints controller (`pkg/controller/endpoint`): one Endpoints object per Service
/// with a selector, listing the IPs of the matching pods — ready ones in `addresses`, others in
/// `notReadyAddresses` — with the Service's ports resolved against each pod, repacked into
/// subsets by port set. Written only when the subsets, labels or capacity annotation change.
public struct EndpointsController: Reconciler {
    public typealias Object = Service
    public static let name = "endpoint"
    public static let maxCapacity = 1000
    public static let overCapacityAnnotation = "endpoints.kubernetes.io/over-capacity"
    public static let triggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time"
    public static let headlessLabel = "service.kubernetes.io/headless"

    let triggers = TriggerTimeTracker()

    public init() {}

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [
            Watch("Pod", .custom { event, context in servicesFor(event, context) }),
            // Endpoints whose Service is gone are removed: the initial list and deletions.
            Watch("Endpoints", .custom { event, _ in
                switch event {
                case .added(let r, let initial): return initial ? [ReconcileRequest(r)] : []
                case .deleted(let r, _): return [ReconcileRequest(r)]
                case .updated: return []
                }
            }),
        ], workers: 5, indexes: [.labels(of: Pod.kind)])
    }

    /// Services in the pod's namespace whose selector matches its old or new labels.
    static func servicesFor(_ event: InformerEvent, _ context: ObserveContext) -> [ReconcileRequest] {
        var labelSets = [event.record.labels]
        if case .updated(let old, _) = event { labelSets.insert(old.labels, at: 0) }
        var out: [ReconcileRequest] = []
        for record in context.snapshot(Service.kind).list(namespace: event.record.namespace) {
            guard case .object(let selector)? = record.value(at: ["spec", "selector"]) else { continue }
            let matches = labelSets.contains { labels in selector.allSatisfy { labels[$0.key] == $0.value.stringValue } }
            if matches { out.append(ReconcileRequest(record)) }
        }
        return out
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let service = context.get(Service.self, request) else {
            triggers.forget(request)
            do {
                _ = try await context.client.delete(kind: Endpoints.kind, namespace: request.namespace, name: request.name)
            } catch let error as StoreError where error.reason == .notFound {}
            return .done
        }
        // ExternalName and selector-less Services are left alone (their Endpoints are the user's).
        guard service.spec.type != "ExternalName", case .object(let selectorObject)? = service.raw["spec"]?["selector"] else { return .done }
        let selector = selectorObject.reduce(into: [String: String]()) { $0[$1.key] = $1.value.stringValue ?? "" }
        let pods = context.snapshot(Pod.kind).selecting(selector, namespace: request.namespace).compactMap { Pod($0.object) }
        let subsets = Self.subsets(service: service, pods: pods)
        let trigger = triggers.lastChangeTriggerTime(request, service: service, pods: pods)

        let current = context.get(Endpoints.self, request)
        let headless = service.spec.clusterIP == "None"
        var labels = service.metadata.labels
        var compareLabels = current?.metadata.labels ?? [:]
        compareLabels[Self.headlessLabel] = nil
        let (truncatedSubsets, truncated) = Self.truncate(subsets)
        let annotations = current?.metadata.annotations ?? [:]
        let capacityCorrect = truncated ? annotations[Self.overCapacityAnnotation] == "truncated" : annotations[Self.overCapacityAnnotation] == nil
        if let current, current.subsets.map(\.raw) == subsets.map(\.raw), compareLabels == service.metadata.labels, capacityCorrect {
            return .done
        }
        if headless { labels[Self.headlessLabel] = "" }
        var newAnnotations = annotations
        newAnnotations[Self.triggerTimeAnnotation] = trigger.map(\.description)
        newAnnotations[Self.overCapacityAnnotation] = truncated ? "truncated" : nil
        var endpoints = current ?? Endpoints(metadata: ObjectMeta())
        endpoints.metadata.name = request.name
        endpoints.metadata.namespace = request.namespace
        endpoints.metadata.labels = labels
        endpoints.metadata.annotations = newAnnotations
        if labels.isEmpty { endpoints.metadata.raw["labels"] = nil }
        if newAnnotations.isEmpty { endpoints.metadata.raw["annotations"] = nil }
        endpoints.subsets = truncatedSubsets
        if truncatedSubsets.isEmpty { endpoints.raw["subsets"] = nil }
        do {
            if current == nil {
                _ = try await context.client.create(endpoints)
            } else {
                _ = try await context.client.update(endpoints)
            }
        } catch let error as StoreError where error.reason == .alreadyExists || error.reason == .conflict {
            // The cache was behind; the event that follows queues the Service again.
            return .requeue(after: .zero)
        }
        return .done
    }

    // MARK: Subsets

    /// The Endpoints subsets for `service` over the pods its selector matches, repacked and sorted.
    public static func subsets(service: Service, pods: [Pod]) -> [EndpointSubset] {
        let publishNotReady = service.spec.publishNotReadyAddresses == true
        let headless = service.spec.clusterIP == "None"
        var entries: [(address: EndpointAddress, ready: Bool, ports: [EndpointPort])] = []
        for pod in pods {
            guard shouldBeInEndpoints(pod, includeTerminating: publishNotReady) else { continue }
            let address = endpointAddress(pod, service: service)
            let ready = publishNotReady || PodUtil.isReady(pod)
            if service.spec.ports.isEmpty {
                if headless { entries.append((address, ready, [])) }
                continue
            }
            var ports: [EndpointPort] = []
            for servicePort in service.spec.ports {
                guard let number = findPort(pod, servicePort) else { continue }
                var port = EndpointPort(raw: JSONObject())
                if let name = servicePort.name, !name.isEmpty { port.name = name }
                port.port = number
                port.protocol = servicePort.protocol ?? "TCP"
                if let app = servicePort.appProtocol { port.appProtocol = app }
                ports.append(port)
            }
            // Each resolved port is its own subset entry before repacking, as upstream adds them.
            if !ports.isEmpty { entries.append((address, ready, ports)) }
        }
        return repack(entries)
    }

    /// `ShouldPodBeInEndpoints`: not terminal, has an IP, not terminating (unless included).
    public static func shouldBeInEndpoints(_ pod: Pod, includeTerminating: Bool) -> Bool {
        if ["Succeeded", "Failed"].contains(pod.status.phase ?? "") { return false }
        if (pod.status.podIP ?? "").isEmpty && pod.status.podIPs.isEmpty { return false }
        if !includeTerminating && pod.metadata.deletionTimestamp != nil { return false }
        return true
    }

    static func endpointAddress(_ pod: Pod, service: Service) -> EndpointAddress {
        var address = EndpointAddress(raw: JSONObject())
        address.ip = pod.status.podIP ?? pod.status.podIPs.first?.ip
        if let hostname = pod.spec.hostname, !hostname.isEmpty, pod.spec.subdomain == service.metadata.name,
           pod.metadata.namespace == service.metadata.namespace {
            address.hostname = hostname
        }
        if let node = pod.spec.nodeName, !node.isEmpty { address.nodeName = node }
        var ref = ObjectReference()
        ref.kind = "Pod"
        ref.namespace = pod.metadata.namespace
        ref.name = pod.metadata.name
        ref.uid = pod.metadata.uid
        address.targetRef = ref
        return address
    }

    /// `FindPort`: a numeric targetPort as is; a named one from the containers' ports with the
    /// service port's protocol.
    public static func findPort(_ pod: Pod, _ servicePort: ServicePort) -> Int? {
        switch servicePort.targetPort ?? servicePort.port.map(IntOrString.int) {
        case .int(let n)?: return n
        case .string(let name)?:
            let proto = servicePort.protocol ?? "TCP"
            for container in pod.spec.containers {
                for p in container.ports where p.name == name && (p.protocol ?? "TCP") == proto { return p.containerPort }
            }
            return nil
        case nil: return nil
        }
    }

    /// `RepackSubsets`: addresses grouped by identical port sets; addresses sorted by IP (as
    /// strings) then UID.
    static func repack(_ entries: [(address: EndpointAddress, ready: Bool, ports: [EndpointPort])]) -> [EndpointSubset] {
        func portKey(_ ports: [EndpointPort]) -> String {
            ports.map { "\($0.name ?? "")|\($0.port ?? 0)|\($0.protocol ?? "")|\($0.appProtocol ?? "")" }.sorted().joined(separator: ",")
        }
        var groups: [String: (ports: [EndpointPort], ready: [EndpointAddress], notReady: [EndpointAddress])] = [:]
        for entry in entries {
            let key = portKey(entry.ports)
            var group = groups[key] ?? (entry.ports.sorted { portKey([$0]) < portKey([$1]) }, [], [])
            if entry.ready { group.ready.append(entry.address) } else { group.notReady.append(entry.address) }
            groups[key] = group
        }
        func byIP(_ a: EndpointAddress, _ b: EndpointAddress) -> Bool {
            let (ia, ib) = (Array((a.ip ?? "").utf8), Array((b.ip ?? "").utf8))
            if ia != ib { return ia.lexicographicallyPrecedes(ib) }
            return (a.targetRef?.uid ?? "") < (b.targetRef?.uid ?? "")
        }
        return groups.keys.sorted().compactMap { key in
            guard let group = groups[key] else { return nil }
            var subset = EndpointSubset(raw: JSONObject())
            if !group.ready.isEmpty { subset.addresses = group.ready.sorted(by: byIP) }
            if !group.notReady.isEmpty { subset.notReadyAddresses = group.notReady.sorted(by: byIP) }
            if !group.ports.isEmpty { subset.ports = group.ports }
            return subset
        }
    }

    /// `truncateEndpoints`: at most 1000 addresses, ready ones first, each subset keeping its
    /// proportional share (rounded up).
    public static func truncate(_ subsets: [EndpointSubset]) -> ([EndpointSubset], Bool) {
        let totalReady = subsets.reduce(0) { $0 + $1.addresses.count }
        let totalNotReady = subsets.reduce(0) { $0 + $1.notReadyAddresses.count }
        guard totalReady + totalNotReady > maxCapacity else { return (subsets, false) }
        let truncateReady = totalReady > maxCapacity
        let limit = truncateReady ? maxCapacity : maxCapacity - totalReady
        let total = truncateReady ? totalReady : totalNotReady
        var canBeAdded = limit
        var out = subsets
        for i in out.indices {
            let inSubset = truncateReady ? out[i].addresses.count : out[i].notReadyAddresses.count
            let share = min(canBeAdded, (inSubset * limit + total - 1) / total)
            if truncateReady {
                out[i].addresses = Array(out[i].addresses.prefix(share))
                out[i].raw["notReadyAddresses"] = nil
                canBeAdded -= out[i].addresses.count
            } else {
                out[i].notReadyAddresses = Array(out[i].notReadyAddresses.prefix(share))
                canBeAdded -= out[i].notReadyAddresses.count
            }
        }
        return (out, true)
    }
}

/// `TriggerTimeTracker`: the trigger times (pods' Ready transitions, the Service's creation) seen
/// at the last sync of each Service, shared in shape by the Endpoints and EndpointSlice controllers.
final class TriggerTimeTracker: Sendable {
    struct State: Sendable {
        var pods: [String: Timestamp] = [:]
        var service: Timestamp?
    }

    let states = ReconcilerState<[ReconcileRequest: State]>([:])

    func forget(_ request: ReconcileRequest) { states.withLock { $0[request] = nil } }

    /// `ComputeEndpointLastChangeTriggerTime`: the earliest trigger that changed since the last
    /// sync; nil when none did.
    func lastChangeTriggerTime(_ request: ReconcileRequest, service: Service, pods: [Pod]) -> Timestamp? {
        states.withLock { all in
            let old = all[request] ?? State()
            var state = State()
            var earliest: Timestamp?
            for pod in pods {
                guard let t = pod.status.conditions[type: "Ready"]?.lastTransitionTime else { continue }
                let name = pod.metadata.name ?? ""
                state.pods[name] = t
                if old.pods[name].map({ t > $0 }) ?? true { earliest = min(earliest ?? t, t) }
            }
            if let created = service.metadata.creationTimestamp {
                if old.service.map({ created > $0 }) ?? true { earliest = min(earliest ?? created, created) }
                state.service = created
            }
            all[request] = state
            return earliest
        }
    }
}
