import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaLog
import OrcaRuntime
import OrcaStore
import Synchronization

/// A fresh temporary directory, removed when the value is deinitialised.
final class TemporaryDirectory: Sendable {
    let path: String
    init() { path = NSTemporaryDirectory() + "orca-runtime-test-" + UUID().uuidString }
    func sub(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func manifest(_ yaml: String) throws -> JSONValue {
    guard let value = try JSONValue.parseYAMLDocuments(yaml).first else { throw StoreError(.badRequest, "empty manifest") }
    return value
}

func pod(_ name: String, namespace: String = "default", node: String? = nil, owner: (name: String, uid: String)? = nil) throws -> JSONValue {
    var value = try manifest("""
    apiVersion: v1
    kind: Pod
    metadata: {name: \(name), namespace: \(namespace), labels: {app: web}}
    spec: {containers: [{name: app, image: nginx}]}
    """)
    if let node { value[path: ["spec", "nodeName"]] = .string(node) }
    if let owner {
        value[path: ["metadata", "ownerReferences"]] = [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": .string(owner.name),
                                                         "uid": .string(owner.uid), "controller": true]]
    }
    return value
}

/// Records what a handler was told, as short strings (`+ns/name`, `~ns/name`, `-ns/name`, `?ns/name`).
final class EventRecorder: Sendable {
    let events = Mutex<[String]>([])
    func handle(_ event: InformerEvent) {
        let text: String
        switch event {
        case .added(let r, let initial): text = (initial ? "=" : "+") + "\(r.namespace)/\(r.name)"
        case .updated(_, let r): text = "~\(r.namespace)/\(r.name)"
        case .deleted(let r, let unknown): text = (unknown ? "?" : "-") + "\(r.namespace)/\(r.name)"
        }
        events.withLock { $0.append(text) }
    }
    func take() -> [String] { events.withLock { e in defer { e = [] }; return e } }
}
