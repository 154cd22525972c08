import ArgumentParser
import OrcaAPI
import OrcaStore

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update objects from YAML or JSON manifests (several documents, or a List).")

    @Option(name: .shortAndLong, help: "The manifest file, or - for standard input.")
    var filename: String
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        try await reportingErrors {
            let text = try readInput(filename)
            let manifests: [JSONValue]
            do {
                manifests = try Manifests.parse(text)
            } catch let error as ManifestSyntaxError {
                throw CLIError("error: error parsing \(filename): \(error)")
            }
            if manifests.isEmpty { throw CLIError("error: no objects passed to apply") }
            // Check every document before writing any, so a bad file changes nothing.
            for (i, manifest) in manifests.enumerated() {
                do {
                    _ = try Store.resourceKind(of: manifest)
                } catch let error as StoreError {
                    throw CLIError("error: error validating \"\(filename)\" (document \(i + 1)): \(error.message)")
                }
            }
            let log = try dataOptions.openLog(create: true)
            let store = Store(log: log)
            var failed = false
            for manifest in manifests {
                do {
                    let (object, created, changed) = try await store.apply(manifest)
                    let kind = ResourceKind.forKind(object.kind)
                    let verb = created ? "created" : (changed ? "configured" : "unchanged")
                    print("\(kind?.singular ?? object.kind.lowercased())\(kind.map { $0.group.isEmpty ? "" : "." + $0.group } ?? "")/\(object.name) \(verb)")
                } catch {
                    failed = true
                    let u = Unstructured(manifest)
                    if let e = error as? StoreError, e.reason == .invalid, e.detailsKind != nil {
                        // kubectl reports an invalid object by its details alone.
                        Output.err(Output.describe(error))
                    } else if let e = error as? StoreError, !u.name.isEmpty,
                              (try? store.get(kind: u.kind, namespace: u.namespace, name: u.name)) == nil {
                        // A refused creation, as kubectl words it.
                        Output.err("Error from server (\(e.reason)): error when creating \"\(filename == "-" ? "STDIN" : filename)\": \(e.message)")
                    } else {
                        let action = "applying \(u.kind.lowercased())/\(u.name)"
                        Output.err(Output.describe(error) + " (when \(action) from \"\(filename)\")")
                    }
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}

enum Manifests {
    /// Every object in a manifest text: YAML/JSON documents, with `List` kinds expanded.
    static func parse(_ text: String) throws -> [JSONValue] {
        var out: [JSONValue] = []
        for document in try JSONValue.parseYAMLDocuments(text) {
            if let kind = document["kind"]?.stringValue, kind == "List" || kind.hasSuffix("List"),
               let items = document["items"]?.arrayValue {
                out.append(contentsOf: items)
            } else {
                out.append(document)
            }
        }
        return out
    }
}
