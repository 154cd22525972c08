public import Orca

/// Kubernetes' EndpointSlice controller (`pkg/controller/endpointslice` and the reconciler in
/// `k8s.io/endpointslice`): for each Service with a selector, EndpointSlices of address type IPv4
/// named `<service>-<suffix>`, labelled `kubernetes.io/service-name` and
/// `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io` (plus the Service's
/// labels, and `service.kubernetes.io/headless` for a headless one), owned by the Service, holding
/// an endpoint per pod with an IP that has not finished — terminating pods included, with their
/// `ready`, `serving` and `terminating` conditions — grouped by the pod's resolved ports, at most
/// 100 endpoints a slice. Existing slices are kept and updated in place; new endpoints fill
/// slices with room before new slices are made; a Service without endpoints keeps one
/// placeholder slice with none. Where Kubernetes leaves the order open (a set), endpoints are in
/// pod name order.
public struct EndpointSliceController: Reconciler {
    public typealias Object = Service
    public static let name = "endpointslice"
    public static let maxEndpointsPerSlice = 100
    public static let serviceNameLabel = "kubernetes.io/service-name"
    public static let managedByLabel = "endpointslice.kubernetes.io/managed-by"
    public static let managedBy = "endpointslice-controller.k8s.io"

    let triggers = TriggerTimeTracker()

    public init() {}

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [
            Watch("Pod", .custom { event, context in EndpointsController.servicesFor(event, context) }),
            // A managed slice removed by someone else is made again.
            Watch(EndpointSlice.kind, .custom { event, _ in
                guard case .deleted(let slice, _) = event, slice.labels[managedByLabel] == managedBy,
                      let service = slice.labels[serviceNameLabel] else { return [] }
                return [ReconcileRequest(namespace: slice.namespace, name: service)]
            }),
        ], workers: 5, indexes: [.labels(of: Pod.kind), .labels(of: EndpointSlice.kind)])
    }

    /// One endpoint, with the pod's name for ordering and its resolved ports for grouping.
    struct Desired {
        var pod: String
        var uid: String
        var endpoint: JSONValue
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        // Slices of a deleted Service go with it through the garbage collector (they are owned).
        guard let service = context.get(Service.self, request) else {
            triggers.forget(request)
            return .done
        }
        guard service.spec.type != "ExternalName", case .object(let selectorObject)? = service.raw["spec"]?["selector"] else { return .done }
        let selector = selectorObject.reduce(into: [String: String]()) { $0[$1.key] = $1.value.stringValue ?? "" }
        let pods = context.snapshot(Pod.kind).selecting(selector, namespace: request.namespace).compactMap { Pod($0.object) }
            .sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
        let trigger = triggers.lastChangeTriggerTime(request, service: service, pods: pods)
        let nodes = context.snapshot(Node.kind)

        // The desired endpoints, grouped by their ports. Without named target ports every pod
        // resolves the Service's ports alike: they are worked out once.
        var desired: [String: (ports: JSONValue, endpoints: [Desired])] = [:]
        let named = service.spec.ports.contains { if case .string? = $0.targetPort { return true } else { return false } }
        var shared: (ports: JSONValue, key: String)?
        for pod in pods where EndpointsController.shouldBeInEndpoints(pod, includeTerminating: true) {
            let ports: JSONValue, key: String
            if !named, let shared {
                (ports, key) = shared
            } else {
                ports = Self.ports(service: service, pod: pod)
                key = ports.jsonString()
                if !named { shared = (ports, key) }
            }
            let zone = pod.spec.nodeName.flatMap { nodes.get(name: $0) }?.labels["topology.kubernetes.io/zone"]
            desired[key, default: (ports, [])].endpoints.append(
                Desired(pod: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "", endpoint: Self.endpoint(pod, service: service, zone: zone)))
        }

        let existing = context.snapshot(EndpointSlice.kind)
            .selecting([Self.serviceNameLabel: request.name, Self.managedByLabel: Self.managedBy], namespace: request.namespace)
            .compactMap { EndpointSlice($0.object) }
            .filter { slice in slice.metadata.ownerReferences.contains { $0.uid == service.metadata.uid } }
        var plan = Self.plan(existing: existing, desired: desired)
        // No endpoints at all: one placeholder slice (an existing one kept).
        if plan.keep.allSatisfy({ $0.1.isEmpty }) && plan.create.isEmpty {
            let placeholder = existing.first { ($0.raw["endpoints"]?.arrayValue ?? []).isEmpty && ($0.raw["ports"]?.arrayValue ?? []).isEmpty }
            plan.keep = placeholder.map { [($0, [], .null)] } ?? []
            plan.create = placeholder == nil ? [([], .null)] : []
            plan.delete = existing.filter { $0.metadata.name != placeholder?.metadata.name }
        }

        let labels = Self.labels(service: service)
        let owner = OwnerReference(apiVersion: "v1", kind: "Service", name: service.metadata.name ?? "", uid: service.metadata.uid ?? "",
                                   controller: true, blockOwnerDeletion: true)
        for (slice, endpoints, ports) in plan.keep {
            var updated = slice
            updated.raw["endpoints"] = endpoints.isEmpty ? .null : .array(endpoints)
            updated.raw["ports"] = ports
            updated.metadata.labels = Self.merged(slice.metadata.labels, labels)
            guard updated.raw != slice.raw else { continue }
            // addTriggerTimeAnnotation: set, or cleared when nothing triggered this change.
            var annotations = updated.metadata.annotations
            annotations[EndpointsController.triggerTimeAnnotation] = trigger?.description
            updated.metadata.annotations = annotations
            _ = try await context.client.update(updated)
        }
        for (endpoints, ports) in plan.create {
            var metadata = ObjectMeta()
            metadata.generateName = String((service.metadata.name ?? "").prefix(57)) + "-"
            metadata.namespace = request.namespace
            metadata.labels = labels
            if let trigger { metadata.annotations = [EndpointsController.triggerTimeAnnotation: trigger.description] }
            metadata.ownerReferences = [owner]
            var slice = EndpointSlice(metadata: metadata)
            slice.addressType = "IPv4"
            slice.raw["endpoints"] = endpoints.isEmpty ? .null : .array(endpoints)
            slice.raw["ports"] = ports
            _ = try await context.client.create(slice)
        }
        for slice in plan.delete {
            do {
                _ = try await context.client.delete(kind: EndpointSlice.kind, namespace: request.namespace, name: slice.metadata.name ?? "")
            } catch let error as StoreError where error.reason == .notFound {
                continue
            }
        }
        return .done
    }

    /// `reconcileByAddressType`, for slices that all hold one address type: slices whose ports no
    /// longer occur go; the others keep the endpoints still wanted (updated in place) and take new
    /// ones while they have room; the rest go into new slices of at most 100.
    static func plan(existing: [EndpointSlice], desired: [String: (ports: JSONValue, endpoints: [Desired])])
        -> (keep: [(EndpointSlice, [JSONValue], JSONValue)], create: [([JSONValue], JSONValue)], delete: [EndpointSlice]) {
        var keep: [(EndpointSlice, [JSONValue], JSONValue)] = []
        var create: [([JSONValue], JSONValue)] = []
        var delete: [EndpointSlice] = []
        var placed = Set<String>()
        var byPorts: [String: [Int]] = [:]  // indexes into keep
        for slice in existing.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) {
            let key = (slice.raw["ports"] ?? .null).jsonString()
            guard let wanted = desired[key] else {
                delete.append(slice)
                continue
            }
            let byUID = Dictionary(wanted.endpoints.map { ($0.uid, $0) }, uniquingKeysWith: { a, _ in a })
            var kept: [JSONValue] = []
            let current = slice.raw["endpoints"]?.arrayValue ?? []
            for endpoint in current {
                guard let uid = endpoint[path: ["targetRef", "uid"]]?.stringValue, let want = byUID[uid], !placed.contains(uid) else { continue }
                kept.append(want.endpoint)
                placed.insert(uid)
            }
            // A slice left without endpoints goes (an unchanged empty one — a placeholder — may
            // still take new ones).
            if kept.isEmpty && !current.isEmpty {
                delete.append(slice)
                continue
            }
            byPorts[key, default: []].append(keep.count)
            keep.append((slice, kept, wanted.ports))
        }
        for key in desired.keys.sorted() {
            guard let wanted = desired[key] else { continue }
            var remaining = wanted.endpoints.filter { !placed.contains($0.uid) }.map(\.endpoint)
            for index in byPorts[key] ?? [] where !remaining.isEmpty {
                let room = maxEndpointsPerSlice - keep[index].1.count
                guard room > 0 else { continue }
                keep[index].1 += remaining.prefix(room)
                remaining.removeFirst(min(room, remaining.count))
            }
            while !remaining.isEmpty {
                create.append((Array(remaining.prefix(maxEndpointsPerSlice)), wanted.ports))
                remaining.removeFirst(min(maxEndpointsPerSlice, remaining.count))
            }
        }
        // finalize: a slice about to be deleted is reused for one about to be made (the last one
        // first), as an update.
        while !delete.isEmpty, let last = create.popLast() {
            keep.append((delete.removeFirst(), last.0, last.1))
        }
        return (keep, create, delete)
    }

    /// `podToEndpoint`: the pod's IP, its ready/serving/terminating conditions, hostname (when the
    /// pod's subdomain is the Service), target, node and zone.
    static func endpoint(_ pod: Pod, service: Service, zone: String?) -> JSONValue {
        let publishNotReady = service.spec.publishNotReadyAddresses == true
        let serving = publishNotReady || PodUtil.isReady(pod)
        let terminating = pod.metadata.deletionTimestamp != nil
        let ready = publishNotReady || (serving && !terminating)
        var endpoint: JSONObject = ["addresses": [.string(pod.status.podIP ?? pod.status.podIPs.first?.ip ?? "")],
                                    "conditions": ["ready": .bool(ready), "serving": .bool(serving), "terminating": .bool(terminating)]]
        if let hostname = pod.spec.hostname, !hostname.isEmpty, pod.spec.subdomain == service.metadata.name {
            endpoint["hostname"] = .string(hostname)
        }
        endpoint["targetRef"] = ["kind": "Pod", "namespace": .string(pod.metadata.namespace ?? "default"),
                                 "name": .string(pod.metadata.name ?? ""), "uid": .string(pod.metadata.uid ?? "")]
        if let node = pod.spec.nodeName, !node.isEmpty { endpoint["nodeName"] = .string(node) }
        if let zone, !zone.isEmpty { endpoint["zone"] = .string(zone) }
        return .object(endpoint)
    }

    /// `getEndpointPorts`: each Service port resolved against the pod (unresolvable ones left
    /// out); an unnamed port is named "". None: null.
    static func ports(service: Service, pod: Pod) -> JSONValue {
        var ports: [JSONValue] = []
        for servicePort in service.spec.ports {
            guard let number = EndpointsController.findPort(pod, servicePort) else { continue }
            var port: JSONObject = ["name": .string(servicePort.name ?? ""), "protocol": .string(servicePort.protocol ?? "TCP"),
                                    "port": .int(Int64(number))]
            if let app = servicePort.appProtocol { port["appProtocol"] = .string(app) }
            ports.append(.object(port))
        }
        // An empty list reads back from the API server as null.
        return ports.isEmpty ? .null : .array(ports)
    }

    /// `setEndpointSliceLabels`: the Service's labels, its name, the manager, and the headless
    /// label for a Service without a cluster IP.
    static func labels(service: Service) -> [String: String] {
        var labels = service.metadata.labels
        labels[serviceNameLabel] = service.metadata.name ?? ""
        labels[managedByLabel] = managedBy
        if service.spec.clusterIP == "None" { labels[EndpointsController.headlessLabel] = "" } else { labels[EndpointsController.headlessLabel] = nil }
        return labels
    }

    /// A slice's labels as the controller sets them, keeping any others it does not own.
    static func merged(_ current: [String: String], _ wanted: [String: String]) -> [String: String] {
        var labels = current
        labels[EndpointsController.headlessLabel] = nil
        for (key, value) in wanted { labels[key] = value }
        return labels
    }
}
