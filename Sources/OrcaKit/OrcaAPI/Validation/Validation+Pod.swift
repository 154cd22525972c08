/// Validation of pod specs (in pods and in templates) and node taints.
extension Validation {
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
}
