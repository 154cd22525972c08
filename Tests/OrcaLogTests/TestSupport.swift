import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaLog

/// A fresh temporary directory, removed when the value is deinitialised.
final class TemporaryDirectory: @unchecked Sendable {
    // @unchecked: `path` is immutable.
    let path: String
    init() {
        path = NSTemporaryDirectory() + "orca-test-" + UUID().uuidString
    }
    /// A not-yet-existing data directory inside this one.
    func sub(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func podDraft(_ name: String, namespace: String = "default", type: EventType = .added, actor: String = "user",
              cause: UInt64? = nil, time: Int64 = 1_767_225_600, extra: JSONValue = .null) -> EventDraft {
    var object: JSONValue = [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": ["name": .string(name), "namespace": .string(namespace), "uid": .string("uid-\(name)")],
        "spec": ["containers": [["name": "app", "image": "nginx"]]],
    ]
    if !extra.isNull { object["status"] = extra }
    return EventDraft(time: Timestamp(seconds: time), type: type, actor: actor, cause: cause, object: object)
}
