import OrcaAPI

extension Store {
    /// The object `kubectl apply` makes of `current` when `manifest` is applied and `lastApplied`
    /// was the manifest applied before: what the manifest sets replaces what is there, what
    /// `lastApplied` set and `manifest` no longer does is removed, and everything else — what the
    /// API server defaulted, what controllers and other writers set — is kept.
    ///
    /// Objects merge member by member. Lists of the kinds Kubernetes' strategic merge patch merges
    /// by a key (see `mergeKey(list:elements:)`: containers by name, container ports by
    /// containerPort, volume mounts by mountPath…) merge element by element, so re-applying a pod
    /// with a new image keeps its containers' defaulted fields; an element the previous manifest
    /// had and this one has not is removed, one only the server has is kept. Other lists (args,
    /// tolerations, a selector's expressions) are replaced whole, as in Kubernetes.
    public static func applying(_ manifest: JSONValue, lastApplied: JSONValue?, to current: JSONValue) -> JSONValue {
        merged(current: current, lastApplied: lastApplied, manifest: manifest, field: "")
    }

    private static func merged(current: JSONValue?, lastApplied: JSONValue?, manifest: JSONValue, field: String) -> JSONValue {
        switch manifest {
        case .object(let wanted):
            var result = current?.objectValue ?? JSONObject()
            if let old = lastApplied?.objectValue {
                for entry in old where wanted[entry.key] == nil { result[entry.key] = nil }
            }
            for entry in wanted.entries {
                if entry.value.isNull {
                    result[entry.key] = nil
                } else {
                    result[entry.key] = merged(current: result[entry.key], lastApplied: lastApplied?[entry.key],
                                               manifest: entry.value, field: entry.key)
                }
            }
            return .object(result)
        case .array(let wanted):
            guard let key = mergeKey(list: field, elements: wanted), let existing = current?.arrayValue else { return manifest }
            let before = lastApplied?.arrayValue ?? []
            func element(_ list: [JSONValue], _ id: JSONValue) -> JSONValue? { list.first { $0[key] == id } }
            var result: [JSONValue] = wanted.map { item in
                guard let id = item[key] else { return item }
                return merged(current: element(existing, id), lastApplied: element(before, id), manifest: item, field: "")
            }
            for item in existing {
                guard let id = item[key] else { continue }
                if element(wanted, id) == nil, element(before, id) == nil { result.append(item) }
            }
            return .array(result)
        default:
            return manifest
        }
    }

    /// The key Kubernetes' strategic merge patch merges the list named `list` by (its
    /// `patchMergeKey`), when every element of the list has it; nil for lists replaced whole.
    static func mergeKey(list: String, elements: [JSONValue]) -> String? {
        let key: String
        switch list {
        case "containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets": key = "name"
        case "ports": key = elements.contains { $0["containerPort"] != nil } ? "containerPort" : "port"
        case "volumeMounts": key = "mountPath"
        case "volumeDevices": key = "devicePath"
        case "hostAliases": key = "ip"
        case "ownerReferences": key = "uid"
        case "conditions", "addresses": key = "type"
        default: return nil
        }
        return elements.allSatisfy({ $0[key] != nil }) ? key : nil
    }
}
