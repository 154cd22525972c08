/// What a pod asks for, as Kubernetes' quota and scheduler count it.
public enum PodResources {
    /// The pod resource a ResourceQuota name accounts for, and whether as limits: `requests.cpu`
    /// and a bare `cpu`, `memory` or `ephemeral-storage` are requests, `limits.memory` limits; nil
    /// for names pods do not count this way (`pods`, `count/services`, `services.loadbalancers`…).
    public static func quotaResource(_ name: String) -> (resource: String, limits: Bool)? {
        if name.hasPrefix("limits.") { return (String(name.dropFirst("limits.".count)), true) }
        if name.hasPrefix("requests.") { return (String(name.dropFirst("requests.".count)), false) }
        return ["cpu", "memory", "ephemeral-storage"].contains(name) ? (name, false) : nil
    }

    /// How much of `resource` the pod `spec` requests (or, with `limits`, is limited to), in
    /// milli-units: the larger of its containers' sum and any one init container's
    /// (`PodRequests`/`PodLimits`).
    public static func amount(_ spec: JSONValue?, resource: String, limits: Bool) -> Int64 {
        func amount(_ container: JSONValue) -> Int64 {
            guard let q = container[path: ["resources", limits ? "limits" : "requests", resource]] else { return 0 }
            return Quantity(q.stringValue ?? q.jsonString())?.milliValue ?? 0
        }
        let sum = (spec?["containers"]?.arrayValue ?? []).reduce(Int64(0)) { $0 + amount($1) }
        return (spec?["initContainers"]?.arrayValue ?? []).map(amount).reduce(sum, max)
    }
}

extension Quantity {
    /// `milli` written as Kubernetes writes the sum of quantities in `sample`'s format: binary
    /// (`Ki`…`Ei`) or decimal (`k`…`E`) suffixes keep their family, the largest exact one chosen;
    /// a fraction in milli-units; zero as `0`.
    public static func format(milli: Int64, like sample: String) -> String {
        guard milli != 0 else { return "0" }
        guard milli % 1000 == 0 else { return "\(milli)m" }
        let value = milli / 1000
        let binary: [(String, Int64)] = [("Ei", 1 << 60), ("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)]
        let decimal: [(String, Int64)] = [("E", 1_000_000_000_000_000_000), ("P", 1_000_000_000_000_000), ("T", 1_000_000_000_000),
                                          ("G", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)]
        let suffixes = binary.contains { sample.hasSuffix($0.0) } ? binary
            : decimal.contains { sample.hasSuffix($0.0) } ? decimal : []
        for (suffix, factor) in suffixes where value % factor == 0 { return "\(value / factor)\(suffix)" }
        return String(value)
    }
}
