/// Validation of Services.
extension Validation {
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
