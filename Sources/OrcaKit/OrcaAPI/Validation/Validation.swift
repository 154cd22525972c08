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

    /// `ValidateDaemonSetUpdateStrategy` and `ValidateRollingUpdateDaemonSet`.
    static func validateDaemonSetUpdateStrategy(_ strategy: JSONValue?) -> [FieldError] {
        let type = strategy?["type"]?.stringValue ?? ""
        switch type {
        case "OnDelete":
            return []
        case "RollingUpdate":
            guard let rolling = strategy?["rollingUpdate"], rolling.objectValue != nil else {
                return [.required("spec.updateStrategy.rollingUpdate")]
            }
            var errors: [FieldError] = []
            var values: [String: Int] = [:]
            for field in ["maxUnavailable", "maxSurge"] {
                let path = "spec.updateStrategy.rollingUpdate.\(field)"
                guard let value = rolling[field], !value.isNull else { continue }
                if let text = value.stringValue {
                    guard text.hasSuffix("%"), let percent = Int(text.dropLast()), percent >= 0, text.dropLast().allSatisfy(\.isNumber) else {
                        errors.append(.invalid(path, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"))
                        continue
                    }
                    if percent > 100 { errors.append(.invalid(path, value, "must not be greater than 100%")) }
                    values[field] = percent
                } else if let number = value.intValue {
                    if number < 0 { errors.append(.invalid(path, value, "must be greater than or equal to 0")) }
                    values[field] = Int(number)
                } else {
                    errors.append(.invalid(path, value, "must be an integer or a percentage"))
                }
            }
            let hasUnavailable = (values["maxUnavailable"] ?? 0) != 0, hasSurge = (values["maxSurge"] ?? 0) != 0
            if hasUnavailable && hasSurge {
                errors.append(.invalid("spec.updateStrategy.rollingUpdate.maxSurge", rolling["maxSurge"],
                                       "may not be set when maxUnavailable is non-zero"))
            } else if !hasUnavailable && !hasSurge {
                errors.append(.required("spec.updateStrategy.rollingUpdate.maxUnavailable", "cannot be 0 when maxSurge is 0"))
            }
            return errors
        default:
            return [.notSupported("spec.updateStrategy", .string(type), ["RollingUpdate", "OnDelete"])]
        }
    }

    /// backoffLimitPerIndex, maxFailedIndexes and successPolicy (`validateJobSpec`): all three
    /// need Indexed completion mode.
    static func validateJobIndexPolicies(_ v: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let indexed = v[path: ["spec", "completionMode"]]?.stringValue == "Indexed"
        let completions = v[path: ["spec", "completions"]]?.intValue
        let perIndex = v[path: ["spec", "backoffLimitPerIndex"]].flatMap { $0.isNull ? nil : $0 }
        let maxFailed = v[path: ["spec", "maxFailedIndexes"]].flatMap { $0.isNull ? nil : $0 }
        if perIndex != nil { errors += nonNegative(v, ["spec", "backoffLimitPerIndex"]) }
        if let maxFailed {
            errors += nonNegative(v, ["spec", "maxFailedIndexes"])
            if perIndex == nil { errors.append(.required("spec.backoffLimitPerIndex", "when maxFailedIndexes is specified")) }
            if indexed, let completions, let m = maxFailed.intValue, m > completions {
                errors.append(.invalid("spec.maxFailedIndexes", maxFailed, "must be less than or equal to completions"))
            }
        }
        if !indexed {
            if let perIndex { errors.append(.invalid("spec.backoffLimitPerIndex", perIndex, "requires indexed completion mode")) }
            if let maxFailed { errors.append(.invalid("spec.maxFailedIndexes", maxFailed, "requires indexed completion mode")) }
        }
        guard let policy = v[path: ["spec", "successPolicy"]], !policy.isNull else { return errors }
        guard indexed else {
            errors.append(.invalid("spec.successPolicy", policy, "requires indexed completion mode"))
            return errors
        }
        let rules = policy["rules"]?.arrayValue ?? []
        if rules.isEmpty {
            errors.append(.required("spec.successPolicy.rules", "at least one rules must be specified when the successPolicy is specified"))
        }
        if rules.count > 20 {
            errors.append(.invalid("spec.successPolicy.rules", .int(Int64(rules.count)), "must have at most 20 items"))
        }
        let total = Int(completions ?? 0)
        for (i, rule) in rules.enumerated() {
            let path = "spec.successPolicy.rules[\(i)]"
            let indexes = rule["succeededIndexes"].flatMap { $0.isNull ? nil : $0 }
            let count = rule["succeededCount"].flatMap { $0.isNull ? nil : $0 }
            if indexes == nil && count == nil {
                errors.append(.required(path, "at least one of succeededCount or succeededIndexes must be specified"))
            }
            var indexTotal: Int?
            if let indexes {
                switch indexFormat(indexes.stringValue ?? "", completions: total) {
                case .success(let n): indexTotal = n
                case .failure(let message):
                    errors.append(.invalid(path + ".succeededIndexes", indexes, "error parsing succeededIndexes: \(message.text)"))
                }
            }
            if let count {
                guard let n = count.intValue else {
                    errors.append(.invalid(path + ".succeededCount", count, "must be an integer"))
                    continue
                }
                if n < 0 { errors.append(.invalid(path + ".succeededCount", count, "must be greater than or equal to 0")) }
                if n > total {
                    errors.append(.invalid(path + ".succeededCount", count, "must be less than or equal to \(total) (the number of specified completions)"))
                }
                if indexes != nil, let indexTotal, n > indexTotal {
                    errors.append(.invalid(path + ".succeededCount", count,
                                           "must be less than or equal to \(indexTotal) (the number of indexes in the specified succeededIndexes field)"))
                }
            }
        }
        return errors
    }

    struct IndexFormatError: Error { var text: String }

    /// `validateIndexesFormat`: "1,3-5" — increasing, below completions; the number of indexes.
    static func indexFormat(_ text: String, completions: Int) -> Result<Int, IndexFormatError> {
        if text.isEmpty { return .success(0) }
        var last: Int?
        var total = 0
        for interval in text.split(separator: ",", omittingEmptySubsequences: false) {
            let limits = interval.split(separator: "-", omittingEmptySubsequences: false)
            if limits.count > 2 {
                return .failure(IndexFormatError(text: "the fragment \"\(interval)\" violates the requirement that an index interval can have at most two parts separated by '-'"))
            }
            guard let x = Int32(limits[0]) else {
                return .failure(IndexFormatError(text: "cannot convert string to integer for index: \"\(limits[0])\""))
            }
            if Int(x) >= completions { return .failure(IndexFormatError(text: "too large index: \"\(limits[0])\"")) }
            if let last, last >= Int(x) { return .failure(IndexFormatError(text: "non-increasing order, previous: \(last), current: \(x)")) }
            total += 1
            last = Int(x)
            if limits.count > 1 {
                guard let y = Int32(limits[1]) else {
                    return .failure(IndexFormatError(text: "cannot convert string to integer for index: \"\(limits[1])\""))
                }
                if Int(y) >= completions { return .failure(IndexFormatError(text: "too large index: \"\(limits[1])\"")) }
                if Int(x) >= Int(y) { return .failure(IndexFormatError(text: "non-increasing order, previous: \(x), current: \(y)")) }
                total += Int(y) - Int(x)
                last = Int(y)
            }
        }
        return .success(total)
    }

    static func nonNegative(_ v: JSONValue, _ path: [String]) -> [FieldError] {
        guard let value = v[path: path], !value.isNull else { return [] }
        guard let i = value.intValue else {
            return [.invalid(path.joined(separator: "."), value, "must be an integer")]
        }
        return i < 0 ? [.invalid(path.joined(separator: "."), value, "must be greater than or equal to 0")] : []
    }

    static func validateSelectorAndTemplate(_ v: JSONValue, requireSelector: Bool, emptySelectorKind: String = "deployment") -> [FieldError] {
        var errors: [FieldError] = []
        let selectorJSON = v[path: ["spec", "selector"]]
        var selector: LabelSelector?
        if let selectorJSON, !selectorJSON.isNull {
            do {
                selector = try LabelSelector(json: selectorJSON)
                if selector?.isEmpty == true {
                    errors.append(.invalid("spec.selector", selectorJSON, "empty selector is invalid for \(emptySelectorKind)"))
                }
            } catch { errors += error.errors }
        } else if requireSelector {
            errors.append(.required("spec.selector"))
        }
        let template = v[path: ["spec", "template"]]
        guard let template, !template.isNull else {
            errors.append(.required("spec.template"))
            return errors
        }
        let labels = Unstructured(template).labels
        if let selector, !selector.isEmpty, !selector.matches(labels) {
            errors.append(.invalid("spec.template.metadata.labels", template[path: ["metadata", "labels"]] ?? .object(JSONObject()),
                                   "`selector` does not match template `labels`"))
        }
        errors += validatePodSpec(template["spec"], path: "spec.template.spec")
        return errors
    }

    static func validatePodSpec(_ spec: JSONValue?, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        guard let spec, spec.objectValue != nil else { return [.required(path)] }
        let containers = spec["containers"]?.arrayValue ?? []
        if containers.isEmpty { errors.append(.required("\(path).containers")) }
        var names = Set<String>()
        for (listName, list) in [("initContainers", spec["initContainers"]?.arrayValue ?? []), ("containers", containers)] {
            for (i, c) in list.enumerated() {
                let p = "\(path).\(listName)[\(i)]"
                let name = c["name"]?.stringValue ?? ""
                if name.isEmpty {
                    errors.append(.required("\(p).name"))
                } else if !NameFormat.isDNS1123Label(name) {
                    errors.append(.invalid("\(p).name", .string(name), NameFormat.dns1123LabelMessage))
                } else if !names.insert(name).inserted {
                    errors.append(.duplicate("\(p).name", .string(name)))
                }
                if (c["image"]?.stringValue ?? "").isEmpty { errors.append(.required("\(p).image")) }
                var portNames = Set<String>()
                for (j, port) in (c["ports"]?.arrayValue ?? []).enumerated() {
                    let pp = "\(p).ports[\(j)]"
                    if let n = port["containerPort"]?.intValue {
                        if !(1...65535).contains(n) {
                            errors.append(.invalid("\(pp).containerPort", .int(n), "must be between 1 and 65535, inclusive"))
                        }
                    } else {
                        errors.append(.required("\(pp).containerPort"))
                    }
                    if let pn = port["name"]?.stringValue, !portNames.insert(pn).inserted {
                        errors.append(.duplicate("\(pp).name", .string(pn)))
                    }
                    if let proto = port["protocol"]?.stringValue, !["TCP", "UDP", "SCTP"].contains(proto) {
                        errors.append(.notSupported("\(pp).protocol", .string(proto), ["SCTP", "TCP", "UDP"]))
                    }
                }
                for kind in ["requests", "limits"] {
                    for entry in c[path: ["resources", kind]]?.objectValue ?? JSONObject() {
                        let text = entry.value.stringValue ?? entry.value.jsonString()
                        if Quantity(text) == nil || (Quantity(text)?.milliValue ?? 0) < 0 {
                            errors.append(.invalid("\(p).resources.\(kind)[\(entry.key)]", entry.value, "must be a valid, non-negative quantity"))
                        }
                    }
                }
            }
        }
        if let policy = spec["restartPolicy"]?.stringValue, !["Always", "OnFailure", "Never"].contains(policy) {
            errors.append(.notSupported("\(path).restartPolicy", .string(policy), ["Always", "OnFailure", "Never"]))
        }
        if let grace = spec["terminationGracePeriodSeconds"]?.intValue, grace < 0 {
            errors.append(.invalid("\(path).terminationGracePeriodSeconds", .int(grace), "must be greater than or equal to 0"))
        }
        for (i, t) in (spec["tolerations"]?.arrayValue ?? []).enumerated() {
            let p = "\(path).tolerations[\(i)]"
            let op = t["operator"]?.stringValue ?? "Equal"
            if op != "Equal", op != "Exists" {
                errors.append(.notSupported("\(p).operator", .string(op), ["Equal", "Exists"]))
            }
            if op == "Exists", let value = t["value"]?.stringValue, !value.isEmpty {
                errors.append(.invalid("\(p).operator", .string(op), "value must be empty when `operator` is 'Exists'"))
            }
            if (t["key"]?.stringValue ?? "").isEmpty, op != "Exists" {
                errors.append(.invalid("\(p).operator", .string(op), "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
            }
            if let effect = t["effect"]?.stringValue, !effect.isEmpty, !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(effect) {
                errors.append(.notSupported("\(p).effect", .string(effect), ["NoExecute", "NoSchedule", "PreferNoSchedule"]))
            }
            if t["tolerationSeconds"] != nil, t["effect"]?.stringValue != "NoExecute" {
                errors.append(.invalid("\(p).effect", t["effect"] ?? .string(""), "effect must be 'NoExecute' when `tolerationSeconds` is set"))
            }
        }
        return errors
    }

    static func validateTaint(_ taint: JSONValue, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if (taint["key"]?.stringValue ?? "").isEmpty { errors.append(.required("\(path).key")) }
        let effect = taint["effect"]?.stringValue ?? ""
        if effect.isEmpty {
            errors.append(.required("\(path).effect"))
        } else if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(effect) {
            errors.append(.notSupported("\(path).effect", .string(effect), ["NoSchedule", "PreferNoSchedule", "NoExecute"]))
        }
        return errors
    }

    static func validateService(_ v: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let type = v[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
        if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(type) {
            errors.append(.notSupported("spec.type", .string(type), ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]))
        }
        let ports = v[path: ["spec", "ports"]]?.arrayValue ?? []
        let headless = v[path: ["spec", "clusterIP"]]?.stringValue == "None"
        if ports.isEmpty, type != "ExternalName", !headless { errors.append(.required("spec.ports")) }
        var names = Set<String>()
        for (i, port) in ports.enumerated() {
            let p = "spec.ports[\(i)]"
            if let n = port["port"]?.intValue {
                if !(1...65535).contains(n) { errors.append(.invalid("\(p).port", .int(n), "must be between 1 and 65535, inclusive")) }
            } else {
                errors.append(.required("\(p).port"))
            }
            let name = port["name"]?.stringValue ?? ""
            if ports.count > 1, name.isEmpty { errors.append(.required("\(p).name")) }
            if !name.isEmpty, !names.insert(name).inserted { errors.append(.duplicate("\(p).name", .string(name))) }
        }
        if type == "ExternalName", (v[path: ["spec", "externalName"]]?.stringValue ?? "").isEmpty {
            errors.append(.required("spec.externalName"))
        }
        return errors
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
