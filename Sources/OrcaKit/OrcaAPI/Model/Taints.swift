/// Taints and tolerations as Kubernetes compares them (`k8s.io/api/core/v1/toleration.go`,
/// `taint.go`).

extension Taint {
    public init(key: String, value: String? = nil, effect: String, timeAdded: Timestamp? = nil) {
        self.init(raw: JSONObject())
        self.key = key
        if let value { self.value = value }
        self.effect = effect
        if let timeAdded { self.timeAdded = timeAdded }
    }

    /// Same key and effect (`MatchTaint`): the identity of a taint on a node.
    public func matches(_ other: Taint) -> Bool { (key ?? "") == (other.key ?? "") && (effect ?? "") == (other.effect ?? "") }

    /// `node.kubernetes.io/not-ready:NoExecute`, `…/unreachable:NoExecute` and the other taints
    /// the node lifecycle controller manages.
    public static let notReadyKey = "node.kubernetes.io/not-ready"
    public static let unreachableKey = "node.kubernetes.io/unreachable"
    public static let unschedulableKey = "node.kubernetes.io/unschedulable"
}

extension Toleration {
    /// `ToleratesTaint`: an empty effect matches every effect, an empty key with `Exists` every
    /// key; operator `Equal` (the default) compares values.
    public func tolerates(_ taint: Taint) -> Bool {
        if let effect, !effect.isEmpty, effect != (taint.effect ?? "") { return false }
        if let key, !key.isEmpty, key != (taint.key ?? "") { return false }
        switch self.operator ?? "" {
        case "", "Equal": return (value ?? "") == (taint.value ?? "")
        case "Exists": return true
        default: return false
        }
    }
}

extension Array where Element == Toleration {
    /// Whether some toleration tolerates `taint`.
    public func tolerate(_ taint: Taint) -> Bool { contains { $0.tolerates(taint) } }

    /// `GetMatchingTolerations`: whether every taint is tolerated, and for each taint the first
    /// toleration that does.
    public func matching(_ taints: [Taint]) -> (allTolerated: Bool, used: [Toleration]) {
        var used: [Toleration] = []
        for taint in taints {
            guard let t = first(where: { $0.tolerates(taint) }) else { return (false, []) }
            used.append(t)
        }
        return (true, used)
    }
}
