/// What Orca knows about a kind: its group/version, names as kubectl accepts them, and scope.
public struct ResourceKind: Sendable, Hashable {
    public var kind: String
    public var apiVersion: String
    public var plural: String
    public var shortNames: [String]
    public var namespaced: Bool
    /// Whether a change under `spec` (rather than any change) bumps `metadata.generation`.
    public var hasSpecGeneration: Bool

    public init(kind: String, apiVersion: String, plural: String, shortNames: [String] = [], namespaced: Bool = true,
                hasSpecGeneration: Bool = true) {
        self.kind = kind
        self.apiVersion = apiVersion
        self.plural = plural
        self.shortNames = shortNames
        self.namespaced = namespaced
        self.hasSpecGeneration = hasSpecGeneration
    }

    public var singular: String { kind.lowercased() }
    public var group: String { apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : "" }
    /// `replicasets.apps`, `pods` — the resource as Kubernetes names it in messages.
    public var groupResource: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The kinds Orca models. Any other kind is stored as an unstructured object.
    public static let builtIn: [ResourceKind] = [
        ResourceKind(kind: "Pod", apiVersion: "v1", plural: "pods", shortNames: ["po"], hasSpecGeneration: false),
        ResourceKind(kind: "Node", apiVersion: "v1", plural: "nodes", shortNames: ["no"], namespaced: false,
                     hasSpecGeneration: false),
        ResourceKind(kind: "Namespace", apiVersion: "v1", plural: "namespaces", shortNames: ["ns"], namespaced: false,
                     hasSpecGeneration: false),
        ResourceKind(kind: "Service", apiVersion: "v1", plural: "services", shortNames: ["svc"], hasSpecGeneration: false),
        ResourceKind(kind: "Endpoints", apiVersion: "v1", plural: "endpoints", shortNames: ["ep"], hasSpecGeneration: false),
        ResourceKind(kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1", plural: "endpointslices", hasSpecGeneration: false),
        ResourceKind(kind: "Event", apiVersion: "v1", plural: "events", shortNames: ["ev"], hasSpecGeneration: false),
        ResourceKind(kind: "ResourceQuota", apiVersion: "v1", plural: "resourcequotas", shortNames: ["quota"],
                     hasSpecGeneration: false),
        ResourceKind(kind: "Lease", apiVersion: "coordination.k8s.io/v1", plural: "leases", hasSpecGeneration: false),
        ResourceKind(kind: "ReplicaSet", apiVersion: "apps/v1", plural: "replicasets", shortNames: ["rs"]),
        ResourceKind(kind: "DaemonSet", apiVersion: "apps/v1", plural: "daemonsets", shortNames: ["ds"]),
        ResourceKind(kind: "Deployment", apiVersion: "apps/v1", plural: "deployments", shortNames: ["deploy"]),
        ResourceKind(kind: "StatefulSet", apiVersion: "apps/v1", plural: "statefulsets", shortNames: ["sts"]),
        ResourceKind(kind: "ControllerRevision", apiVersion: "apps/v1", plural: "controllerrevisions",
                     hasSpecGeneration: false),
        ResourceKind(kind: "Job", apiVersion: "batch/v1", plural: "jobs"),
        ResourceKind(kind: "CronJob", apiVersion: "batch/v1", plural: "cronjobs", shortNames: ["cj"]),
        ResourceKind(kind: "PriorityClass", apiVersion: "scheduling.k8s.io/v1", plural: "priorityclasses", shortNames: ["pc"],
                     namespaced: false, hasSpecGeneration: false),
    ]

    static let byName: [String: ResourceKind] = {
        var map: [String: ResourceKind] = [:]
        for k in builtIn {
            for name in [k.kind.lowercased(), k.plural, k.singular] + k.shortNames + [k.groupResource] {
                map[name] = k
            }
        }
        return map
    }()

    static let byKind: [String: ResourceKind] = Dictionary(uniqueKeysWithValues: builtIn.map { ($0.kind, $0) })

    /// Resolves what kubectl accepts as a resource type, case-insensitively: plural, singular,
    /// short name or Kind (`pods`, `pod`, `po`, `Pod`). Nil for an unknown name.
    public static func lookup(_ name: String) -> ResourceKind? { byName[name.lowercased()] }

    /// The built-in kind with exactly this Kind name.
    public static func forKind(_ kind: String) -> ResourceKind? { byKind[kind] }
}
