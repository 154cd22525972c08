import Orca
import KubeletSimulator
import Yams

/// A problem in a scenario file: file, line and field, and what is wrong (exit status 2).
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: String
    public var message: String

    public init(file: String, line: Int?, field: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
    }
}

/// A YAML node with its field path, for error messages.
struct Field {
    let node: Yams.Node
    let path: String
    let file: String

    var line: Int? { node.mark.map { $0.line } }

    func error(_ message: String) -> ScenarioError { ScenarioError(file: file, line: line, field: path, message: message) }

    func child(_ key: String, _ node: Yams.Node) -> Field {
        Field(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// The mapping's entries, rejecting keys not in `allowed` (when given).
    func entries(allowed: Set<String>? = nil) throws(ScenarioError) -> [(key: String, field: Field)] {
        guard case .mapping(let mapping) = node else { throw error("must be a mapping, not \(kindName)") }
        var out: [(String, Field)] = []
        for (k, v) in mapping {
            guard let key = k.scalar?.string else { throw error("mapping keys must be strings") }
            if let allowed, !allowed.contains(key) {
                throw child(key, v).error("unknown field \"\(key)\" (known: \(allowed.sorted().joined(separator: ", ")))")
            }
            out.append((key, child(key, v)))
        }
        return out
    }

    func items() throws(ScenarioError) -> [Field] {
        guard case .sequence(let sequence) = node else { throw error("must be a list, not \(kindName)") }
        return sequence.enumerated().map { Field(node: $0.element, path: "\(path)[\($0.offset)]", file: file) }
    }

    var kindName: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar: return "a scalar"
        case .alias: return "an alias"
        }
    }

    func string() throws(ScenarioError) -> String {
        guard case .scalar(let s) = node else { throw error("must be a string, not \(kindName)") }
        return s.string
    }

    func int() throws(ScenarioError) -> Int {
        guard let v = Int(try string().trimmingCharacters(in: .whitespaces)) else { throw error("must be an integer, not \"\((try? string()) ?? "")\"") }
        return v
    }

    func double() throws(ScenarioError) -> Double {
        guard let v = Double(try string().trimmingCharacters(in: .whitespaces)) else { throw error("must be a number") }
        return v
    }

    func bool() throws(ScenarioError) -> Bool {
        switch try string() {
        case "true", "True", "yes": return true
        case "false", "False", "no": return false
        default: throw error("must be true or false")
        }
    }

    /// A Go-style duration (`250ms`, `90s`, `1h30m`); a bare number means seconds.
    func duration() throws(ScenarioError) -> Duration {
        let text = try string()
        if let d = Duration.parseGo(text), d >= .zero { return d }
        throw error("invalid duration \"\(text)\" (use Go syntax such as 250ms, 90s, 5m or 1h30m)")
    }

    func json() throws(ScenarioError) -> JSONValue {
        do {
            return try JSONValue.fromYAML(node)
        } catch {
            throw self.error("\(error)")
        }
    }

    /// Manifests from a block string (one or more YAML documents, or a List) or inline YAML.
    func manifests() throws(ScenarioError) -> [Located<JSONValue>] {
        var documents: [JSONValue]
        let base = line ?? 0
        if case .scalar(let scalar) = node {
            do {
                documents = try JSONValue.parseYAMLDocuments(scalar.string)
            } catch let e as ManifestSyntaxError {
                // A block scalar's content starts on the line after its indicator.
                throw ScenarioError(file: file, line: e.line.map { base + $0 }, field: path, message: "malformed manifest: \(e.message)")
            } catch {
                throw self.error("malformed manifest: \(error)")
            }
        } else if case .sequence = node {
            documents = try items().map { item throws(ScenarioError) in try item.json() }
        } else {
            documents = [try json()]
        }
        var out: [Located<JSONValue>] = []
        for (i, doc) in documents.enumerated() {
            if doc["kind"]?.stringValue == "List", let items = doc["items"]?.arrayValue {
                for (j, item) in items.enumerated() { out.append(Located(value: item, line: base, field: "\(path)[\(i)].items[\(j)]")) }
            } else {
                guard doc.objectValue != nil else {
                    throw self.error("document \(i + 1) is a \(doc.typeName), not a Kubernetes object")
                }
                out.append(Located(value: doc, line: base, field: documents.count > 1 ? "\(path)[\(i)]" : path))
            }
        }
        return out
    }
}

extension Scenario {
    /// Parses a scenario file's text. Every error names the file, the line and the field.
    public static func parse(_ text: String, file: String) throws(ScenarioError) -> Scenario {
        var scenario = Scenario(file: file)
        let root: Yams.Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScenarioError(file: file, line: nil, field: "", message: "the scenario is empty")
            }
            root = node
        } catch let e as ScenarioError {
            throw e
        } catch let e as YamlError {
            let syntax = ManifestSyntaxError(yamlErrorForScenario: e)
            throw ScenarioError(file: file, line: syntax.line, field: "", message: "malformed YAML: \(syntax.message)")
        } catch {
            throw ScenarioError(file: file, line: nil, field: "", message: "malformed YAML: \(error)")
        }
        let top = Field(node: root, path: "", file: file)
        for (key, field) in try top.entries(allowed: ["name", "seed", "start", "until", "config", "nodes", "objects", "steps", "expect"]) {
            switch key {
            case "name": scenario.name = try field.string()
            case "seed":
                guard let seed = UInt64(try field.string()) else { throw field.error("must be a non-negative integer") }
                scenario.seed = seed
            case "start":
                guard let t = Timestamp(rfc3339: try field.string()) else { throw field.error("must be an RFC 3339 time such as 2026-01-01T00:00:00Z") }
                scenario.start = t
            case "until": scenario.until = try field.duration()
            case "config": scenario.config = try parseConfig(field)
            case "nodes": scenario.nodes = try parseNodes(field)
            case "objects": scenario.objects = try field.manifests()
            case "steps":
                for (i, item) in try field.items().enumerated() { scenario.steps.append(try parseStep(item, index: i)) }
            case "expect":
                for (i, item) in try field.items().enumerated() { scenario.expectations.append(try parseExpectation(item, index: i)) }
            default: break
            }
        }
        // Steps run in time order; steps at one instant in file order.
        scenario.steps = scenario.steps.enumerated().sorted { a, b in
            a.element.at != b.element.at ? a.element.at < b.element.at : a.offset < b.offset
        }.map(\.element)
        return scenario
    }

    static let controllerNames = Set(Simulation.controllerOrder)

    /// Other names people use for the same controllers (kube-controller-manager's spellings).
    static let controllerAliases = ["endpoints": "endpoint", "endpoints-controller": "endpoint", "taint-eviction": "taint-eviction-controller",
                                    "node-lifecycle": "nodelifecycle", "node-lifecycle-controller": "nodelifecycle",
                                    "job-controller": "job", "replicaset-controller": "replicaset",
                                    "deployment-controller": "deployment", "deployments": "deployment",
                                    "statefulset-controller": "statefulset", "statefulsets": "statefulset",
                                    "cronjob-controller": "cronjob", "cronjobs": "cronjob",
                                    "endpointslice-controller": "endpointslice", "endpointslices": "endpointslice",
                                    "daemonset-controller": "daemonset", "daemonsets": "daemonset",
                                    "resource-quota": "resourcequota", "resourcequota-controller": "resourcequota",
                                    "namespace-controller": "namespace", "namespaces": "namespace"]

    static func parseConfig(_ field: Field) throws(ScenarioError) -> SimulationConfig {
        var c = SimulationConfig()
        let durations: [String: WritableKeyPath<SimulationConfig, Duration>] = [
            "nodeMonitorPeriod": \.nodeMonitorPeriod, "nodeMonitorGracePeriod": \.nodeMonitorGracePeriod,
            "nodeStartupGracePeriod": \.nodeStartupGracePeriod, "podGCPeriod": \.podGCPeriod, "podGCQuarantine": \.podGCQuarantine,
        ]
        let doubles: [String: WritableKeyPath<SimulationConfig, Double>] = [
            "nodeEvictionRate": \.nodeEvictionRate, "secondaryNodeEvictionRate": \.secondaryNodeEvictionRate,
            "unhealthyZoneThreshold": \.unhealthyZoneThreshold,
        ]
        let ints: [String: WritableKeyPath<SimulationConfig, Int>] = [
            "largeClusterSizeThreshold": \.largeClusterSizeThreshold, "terminatedPodGCThreshold": \.terminatedPodGCThreshold,
        ]
        let seconds: [String: WritableKeyPath<SimulationConfig, Int64>] = [
            "defaultTolerationSeconds": \.defaultTolerationSeconds, "terminationGracePeriodSeconds": \.terminationGracePeriodSeconds,
        ]
        let aliases = ["evictionRate": "nodeEvictionRate", "secondaryEvictionRate": "secondaryNodeEvictionRate",
                       "largeClusterThreshold": "largeClusterSizeThreshold", "terminatedPodThreshold": "terminatedPodGCThreshold",
                       "podGCQuarantineTime": "podGCQuarantine", "terminationGracePeriod": "terminationGracePeriodSeconds",
                       "defaultNotReadyTolerationSeconds": "defaultTolerationSeconds",
                       "defaultUnreachableTolerationSeconds": "defaultTolerationSeconds"]
        let known = Set(durations.keys).union(doubles.keys).union(ints.keys).union(seconds.keys).union(aliases.keys).union(["controllers"])
        for (rawKey, value) in try field.entries(allowed: known) {
            let key = aliases[rawKey] ?? rawKey
            if let path = durations[key] {
                c[keyPath: path] = try value.duration()
            } else if let path = doubles[key] {
                c[keyPath: path] = try value.double()
            } else if let path = ints[key] {
                c[keyPath: path] = try value.int()
            } else if let path = seconds[key] {
                if case .scalar(let s) = value.node, let d = Duration.parseGo(s.string), Int64(s.string) == nil {
                    c[keyPath: path] = d.components.seconds
                } else {
                    c[keyPath: path] = Int64(try value.int())
                }
            } else if key == "controllers" {
                for (k, list) in try value.entries(allowed: ["disable"]) where k == "disable" {
                    for item in try list.items() {
                        let given = try item.string()
                        let name = controllerAliases[given] ?? given
                        guard controllerNames.contains(name) else {
                            throw item.error("unknown controller \"\(name)\" (known: \(controllerNames.sorted().joined(separator: ", ")))")
                        }
                        c.disabled.insert(name)
                    }
                }
            }
        }
        return c
    }

    static func parseNodes(_ field: Field) throws(ScenarioError) -> [NodeDeclaration] {
        if case .mapping = field.node {
            var count = 0
            for (key, value) in try field.entries(allowed: ["count"]) where key == "count" {
                count = try value.int()
                guard count >= 0 else { throw value.error("must not be negative") }
            }
            return (1...max(count, 1)).prefix(count).map { i in
                NodeDeclaration(manifest: ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string("node-\(i)")]],
                                kubelet: true, line: field.line ?? 0)
            }
        }
        var out: [NodeDeclaration] = []
        for item in try field.items() {
            var manifest = try item.json()
            guard manifest.objectValue != nil else { throw item.error("must be a Node manifest") }
            var kubelet = true
            if let k = manifest["kubelet"] {
                switch k.stringValue {
                case "simulated": kubelet = true
                case "none": kubelet = false
                default: throw item.error("kubelet must be simulated or none")
                }
                manifest["kubelet"] = nil
            }
            if manifest["apiVersion"] == nil { manifest["apiVersion"] = "v1" }
            if manifest["kind"] == nil { manifest["kind"] = "Node" }
            guard manifest["kind"]?.stringValue == "Node" else { throw item.error("must be a Node, not \(manifest["kind"]?.stringValue ?? "")") }
            guard let name = manifest[path: ["metadata", "name"]]?.stringValue, !name.isEmpty else {
                throw item.error("metadata.name: Required value")
            }
            out.append(NodeDeclaration(manifest: manifest, kubelet: kubelet, line: item.line ?? 0))
        }
        return out
    }
}

extension ManifestSyntaxError {
    init(yamlErrorForScenario error: YamlError) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            self.init(message: problem, line: mark.line, column: mark.column)
        default:
            self.init(message: "\(error)", line: nil, column: nil)
        }
    }
}
