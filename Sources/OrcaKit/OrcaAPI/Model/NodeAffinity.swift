/// Node selection as Kubernetes evaluates it (`k8s.io/component-helpers/scheduling/corev1/nodeaffinity`):
/// the scheduler, the DaemonSet controller and anything else that asks "may this pod run there?"
/// share it.

extension NodeSelectorRequirement {
    /// Whether the requirement holds for `labels`: `In`, `NotIn`, `Exists`, `DoesNotExist`, and
    /// `Gt`/`Lt` on integer values. An unknown operator matches nothing.
    public func matches(_ labels: [String: String]) -> Bool {
        let value = labels[key ?? ""]
        switch self.operator ?? "" {
        case "In": return value.map { values.contains($0) } ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let v = value.flatMap({ Int64($0) }), values.count == 1, let bound = Int64(values[0]) else { return false }
            return self.operator == "Gt" ? v > bound : v < bound
        default: return false
        }
    }
}

extension PodSpec {
    /// `GetRequiredNodeAffinity(pod).Match(node)`: every `nodeSelector` label, and — when the pod
    /// has required node affinity — some term whose `matchExpressions` (labels) and `matchFields`
    /// (`metadata.name`) all hold. An empty term, or an empty term list, matches nothing.
    public func requiredNodeAffinityMatches(_ node: Node) -> Bool {
        let labels = node.metadata.labels
        for (key, value) in nodeSelector where labels[key] != value { return false }
        guard let required = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution else { return true }
        let fields = ["metadata.name": node.metadata.name ?? ""]
        return required.nodeSelectorTerms.contains { term in
            if term.matchExpressions.isEmpty && term.matchFields.isEmpty { return false }
            return term.matchExpressions.allSatisfy { $0.matches(labels) } && term.matchFields.allSatisfy { $0.matches(fields) }
        }
    }
}
