import ArgumentParser
import Foundation
import OrcaAPI
import OrcaLog

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show objects, now or at any earlier moment of the log.")

    @Argument(help: "The kind (pods, po, pod, Pod, deploy, rs, ds, ep, no, svc…); several separated by commas, `all`, or KIND/NAME.")
    var kind: String
    @Argument(help: "An object's name (all objects when omitted).") var name: String?
    @Option(name: .shortAndLong, help: "The namespace.") var namespace: String = "default"
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List across all namespaces.") var allNamespaces = false
    @Option(name: [.customShort("l"), .long], help: "A label selector, e.g. app=web,tier!=db.") var selector: String?
    @Option(name: .shortAndLong, help: "table, wide, json, yaml or name.") var output: String = "table"
    @OptionGroup var timeTravel: TimeTravelOptions
    @OptionGroup var dataOptions: DataOptions

    /// kubectl's `all` category, as far as Orca models its kinds.
    static let allCategory = ["pods", "services", "daemonsets", "deployments", "replicasets", "statefulsets", "cronjobs", "jobs"]

    func run() async throws {
        try await reportingErrors {
            var kinds = kind.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var name = self.name
            if kinds.count == 1, let slash = kind.firstIndex(of: "/") {
                // KIND/NAME, as kubectl takes it.
                guard name == nil else { throw CLIError("error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form") }
                kinds = [String(kind[..<slash])]
                name = String(kind[kind.index(after: slash)...])
            }
            if kinds.count > 1 || kinds == ["all"] {
                try await runMany(kinds.flatMap { $0 == "all" ? Self.allCategory : [$0] }, name: name)
                return
            }
            let resource = try resolveKind(kinds[0])
            let labelSelector = try checkedOptions()
            let log = try dataOptions.openLog(create: false)
            let (atSeq, atTime) = try timeTravel.resolve(log)
            let ns: String? = !resource.namespaced || allNamespaces ? nil : namespace
            var records = try objects(in: log, kind: resource.kind, namespace: ns, atSeq: atSeq)
            if let name {
                records = records.filter { $0.name == name }
                if records.isEmpty {
                    throw CLIError("Error from server (NotFound): \(resource.groupResource) \"\(name)\" not found")
                }
            }
            records = records.filter { labelSelector.matches(Unstructured($0.object).labels) }
            let items = records.map(\.object)
            switch output {
            case "json":
                print(name != nil ? items[0].prettyJSONString() : listValue(items).prettyJSONString())
            case "yaml":
                print(name != nil ? items[0].yamlString() : listValue(items).yamlString(), terminator: "")
            case "name":
                for item in items { print(Self.qualifiedName(resource, Unstructured(item).name)) }
            default:
                if items.isEmpty {
                    Output.err(ns.map { "No resources found in \($0) namespace." } ?? "No resources found")
                    return
                }
                let now = try atTime ?? presentMoment(of: log)
                print(Table.render(kind: resource.kind, objects: items.map(Unstructured.init), now: now,
                                   wide: output == "wide", showNamespace: allNamespaces && resource.namespaced))
            }
        }
    }

    /// `kind.group/name`, as kubectl names an object across kinds (`deployment.apps/web`, `pod/web-x`).
    static func qualifiedName(_ resource: ResourceKind, _ name: String) -> String {
        resource.singular + (resource.group.isEmpty ? "" : "." + resource.group) + "/" + name
    }

    /// The output format checked and the label selector parsed, with kubectl's errors.
    func checkedOptions() throws -> LabelSelector {
        guard ["table", "wide", "json", "yaml", "name"].contains(output) else {
            throw CLIError("error: unable to match a printer suitable for the output format \"\(output)\", allowed formats are: json,name,wide,yaml,table")
        }
        do {
            return try selector.map { try LabelSelector(parsing: $0) } ?? .everything
        } catch let error as ManifestSyntaxError {
            throw CLIError("error: \(error.message)")
        }
    }

    /// Several kinds at once: one table per kind that has objects, names as `kind.group/name`,
    /// separated by a blank line (as kubectl prints them); one List for json and yaml.
    func runMany(_ kindNames: [String], name: String?) async throws {
        let resources = try kindNames.map(resolveKind)
        let labelSelector = try checkedOptions()
        let log = try dataOptions.openLog(create: false)
        let (atSeq, atTime) = try timeTravel.resolve(log)
        var tables: [String] = []
        var all: [JSONValue] = []
        var missing: [String] = []
        for resource in resources {
            let ns: String? = !resource.namespaced || allNamespaces ? nil : namespace
            var records = try objects(in: log, kind: resource.kind, namespace: ns, atSeq: atSeq)
            if let name {
                records = records.filter { $0.name == name }
                if records.isEmpty { missing.append("Error from server (NotFound): \(resource.groupResource) \"\(name)\" not found") }
            }
            let items = records.filter { labelSelector.matches(Unstructured($0.object).labels) }.map(\.object)
            all += items
            if output == "name" { tables += items.map { Self.qualifiedName(resource, Unstructured($0).name) } }
            guard !items.isEmpty, output == "table" || output == "wide" else { continue }
            let shown = items.map { item in
                var u = Unstructured(item)
                u.name = Self.qualifiedName(resource, u.name)
                return u
            }
            let now = try atTime ?? presentMoment(of: log)
            tables.append(Table.render(kind: resource.kind, objects: shown, now: now, wide: output == "wide",
                                       showNamespace: allNamespaces && resource.namespaced))
        }
        switch output {
        case "json": print(listValue(all).prettyJSONString())
        case "yaml": print(listValue(all).yamlString(), terminator: "")
        default:
            if tables.isEmpty && missing.isEmpty {
                Output.err(allNamespaces ? "No resources found" : "No resources found in \(namespace) namespace.")
            }
            if !tables.isEmpty { print(tables.joined(separator: output == "name" ? "\n" : "\n\n")) }
        }
        for line in missing { Output.err(line) }
        if !missing.isEmpty { throw ExitCode(1) }
    }

    func listValue(_ items: [JSONValue]) -> JSONValue {
        ["apiVersion": "v1", "items": .array(items), "kind": "List", "metadata": ["resourceVersion": ""]]
    }
}
