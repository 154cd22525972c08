/// Validation of objects as kube-apiserver validates them, with Kubernetes' messages.
///
/// Works on the full JSON tree, so it sees exactly what was submitted (after defaulting).
public enum Validation {
    /// Every problem with `object` of the given built-in kind; empty when valid.
    public static func validate(_ object: Unstructured, kind: ResourceKind) -> [FieldError] {
        var errors = validateMeta(object, kind: kind)
        let v = object.value
        switch kind.kind {
        case "Pod":
            errors += validatePodSpec(v["spec"], path: "spec")
            if let policy = v[path: ["spec", "preemptionPolicy"]] { errors += validatePreemptionPolicy(policy, path: "spec.preemptionPolicy") }
        case "ReplicaSet":
            errors += nonNegative(v, ["spec", "replicas"])
            errors += nonNegative(v, ["spec", "minReadySeconds"])
            errors += validateSelectorAndTemplate(v, requireSelector: true)
        case "Deployment":
            errors += validateDeploymentSpec(v)
        case "StatefulSet":
            errors += validateStatefulSetSpec(v)
        case "CronJob":
            errors += validateCronJob(object)
        case "DaemonSet":
            // In ValidateDaemonSetSpec's order.
            errors += validateSelectorAndTemplate(v, requireSelector: true, emptySelectorKind: "daemonset")
            if let policy = v[path: ["spec", "template", "spec", "restartPolicy"]]?.stringValue, policy != "Always" {
                errors.append(.notSupported("spec.template.spec.restartPolicy", .string(policy), ["Always"]))
            }
            errors += nonNegative(v, ["spec", "minReadySeconds"])
            errors += validateDaemonSetUpdateStrategy(v[path: ["spec", "updateStrategy"]])
            errors += nonNegative(v, ["spec", "revisionHistoryLimit"])
        case "Job":
            for field in ["parallelism", "completions", "backoffLimit"] { errors += nonNegative(v, ["spec", field]) }
            if let deadline = v[path: ["spec", "activeDeadlineSeconds"]]?.intValue, deadline <= 0 {
                errors.append(.invalid("spec.activeDeadlineSeconds", .int(deadline), "must be greater than 0"))
            }
            if let mode = v[path: ["spec", "completionMode"]]?.stringValue, mode != "NonIndexed", mode != "Indexed" {
                errors.append(.notSupported("spec.completionMode", .string(mode), ["NonIndexed", "Indexed"]))
            }
            if v[path: ["spec", "completionMode"]]?.stringValue == "Indexed", v[path: ["spec", "completions"]]?.intValue == nil {
                errors.append(.required("spec.completions", "when completion mode is Indexed"))
            }
            errors += validateJobIndexPolicies(v)
            errors += validateSelectorAndTemplate(v, requireSelector: true)
            let policy = v[path: ["spec", "template", "spec", "restartPolicy"]]?.stringValue ?? ""
            if policy != "OnFailure" && policy != "Never" {
                errors.append(.notSupported("spec.template.spec.restartPolicy", .string(policy), ["OnFailure", "Never"]))
            }
        case "Service": errors += validateService(v)
        case "PriorityClass": errors += validatePriorityClass(object)
        case "Node":
            for (i, taint) in (v[path: ["spec", "taints"]]?.arrayValue ?? []).enumerated() {
                errors += validateTaint(taint, path: "spec.taints[\(i)]")
            }
        default: break
        }
        return errors
    }

    static func validateMeta(_ object: Unstructured, kind: ResourceKind) -> [FieldError] {
        var errors: [FieldError] = []
        let name = object.name
        if name.isEmpty {
            errors.append(.required("metadata.name", "name or generateName is required"))
        } else {
            switch kind.kind {
            case "Service", "Namespace":
                let ok = kind.kind == "Service" ? NameFormat.isDNS1035Label(name) : NameFormat.isDNS1123Label(name)
                if !ok {
                    errors.append(.invalid("metadata.name", .string(name),
                                           kind.kind == "Service" ? NameFormat.dns1035LabelMessage : NameFormat.dns1123LabelMessage))
                }
            default:
                if !NameFormat.isDNS1123Subdomain(name) {
                    errors.append(.invalid("metadata.name", .string(name), NameFormat.dns1123SubdomainMessage))
                }
            }
        }
        if kind.namespaced, !object.namespace.isEmpty, !NameFormat.isDNS1123Label(object.namespace) {
            errors.append(.invalid("metadata.namespace", .string(object.namespace), NameFormat.dns1123LabelMessage))
        }
        for field in ["labels", "annotations"] {
            if let v = object.value[path: ["metadata", field]], !v.isNull {
                guard let o = v.objectValue else {
                    errors.append(.invalid("metadata.\(field)", v, "must be a map of strings"))
                    continue
                }
                for entry in o where entry.value.stringValue == nil {
                    errors.append(.invalid("metadata.\(field)", entry.value, "values must be strings"))
                }
            }
        }
        for label in object.labels.sorted(by: { $0.key < $1.key }) {
            if !isQualifiedName(label.key) {
                errors.append(.invalid("metadata.labels", .string(label.key), "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"))
            }
            if !isLabelValue(label.value) {
                errors.append(.invalid("metadata.labels", .string(label.value), "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"))
            }
        }
        var seenFinalizers = Set<String>()
        for (i, f) in object.finalizers.enumerated() where !seenFinalizers.insert(f).inserted {
            errors.append(.duplicate("metadata.finalizers[\(i)]", .string(f)))
        }
        return errors
    }

    static func isLabelValue(_ s: String) -> Bool {
        if s.isEmpty { return true }
        let b = Array(s.utf8)
        func alnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
        guard b.count <= 63, alnum(b[0]), alnum(b[b.count - 1]) else { return false }
        return b.allSatisfy { alnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    static func isQualifiedName(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last, !name.isEmpty else { return false }
        if parts.count == 2, !NameFormat.isDNS1123Subdomain(String(parts[0])) { return false }
        return isLabelValue(String(name))
    }
}

extension Validation {
    /// The values of the PriorityClasses every cluster has (`system-` names are reserved for them).
    public static let systemPriorityClasses: [String: Int64] = ["system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000]
    /// The highest value a PriorityClass of a user may have.
    public static let highestUserDefinablePriority: Int64 = 1_000_000_000

    /// `ValidatePriorityClass` (scheduling/v1).
    static func validatePriorityClass(_ object: Unstructured) -> [FieldError] {
        var errors: [FieldError] = []
        let value = object.value["value"]?.intValue ?? 0
        if object.name.hasPrefix("system-") {
            var problem: String?
            if let known = systemPriorityClasses[object.name] {
                if value != known {
                    problem = "value of \(object.name) PriorityClass must be \(known)"
                } else if object.value["globalDefault"]?.boolValue == true {
                    problem = "globalDefault of \(object.name) PriorityClass must be false"
                }
            } else {
                problem = "\(object.name) is not a known system priority class"
            }
            if let problem {
                errors.append(.forbidden("metadata.name", "priority class names with 'system-' prefix are reserved for system use only. error: \(problem)"))
            }
        } else if value > highestUserDefinablePriority {
            errors.append(.forbidden("value", "maximum allowed value of a user defined priority is \(highestUserDefinablePriority)"))
        }
        if let policy = object.value["preemptionPolicy"] { errors += validatePreemptionPolicy(policy, path: "preemptionPolicy") }
        return errors
    }

    /// `ValidatePreemptionPolicy`: PreemptLowerPriority or Never.
    static func validatePreemptionPolicy(_ policy: JSONValue, path: String) -> [FieldError] {
        switch policy.stringValue {
        case "PreemptLowerPriority", "Never": return []
        case "": return [.required(path)]
        default: return [.notSupported(path, policy, ["PreemptLowerPriority", "Never"])]
        }
    }
}
