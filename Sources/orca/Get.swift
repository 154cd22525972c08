import ArgumentParser
import Foundation
import OrcaAPI
import OrcaLog

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show objects, now or at any earlier moment of the log.")

    @Argument(help: "The kind (pods, po, pod, Pod, rs, ds, ep, no, svc…).") var kind: String
    @Argument(help: "An object's name (all objects when omitted).") var name: String?
    @Option(name: .shortAndLong, help: "The namespace.") var namespace: String = "default"
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List across all namespaces.") var allNamespaces = false
    @Option(name: [.customShort("l"), .long], help: "A label selector, e.g. app=web,tier!=db.") var selector: String?
    @Option(name: .shortAndLong, help: "table, wide, json or yaml.") var output: String = "table"
    @OptionGroup var timeTravel: TimeTravelOptions
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        try await reportingErrors {
            let resource = try resolveKind(kind)
            guard ["table", "wide", "json", "yaml"].contains(output) else {
                throw CLIError("error: unable to match a printer suitable for the output format \"\(output)\", allowed formats are: json,wide,yaml,table")
            }
            let labelSelector: LabelSelector
            do {
                labelSelector = try selector.map { try LabelSelector(parsing: $0) } ?? .everything
            } catch let error as ManifestSyntaxError {
                throw CLIError("error: \(error.message)")
            }
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

    func listValue(_ items: [JSONValue]) -> JSONValue {
        ["apiVersion": "v1", "items": .array(items), "kind": "List", "metadata": ["resourceVersion": ""]]
    }
}
