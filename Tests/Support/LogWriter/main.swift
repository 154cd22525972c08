// A writer process for durability tests: appends pods through the store and prints
// "ack <seq> <name>" after each write is acknowledged, until killed or done.
import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaLog
import OrcaStore

let arguments = CommandLine.arguments
guard arguments.count >= 4, let count = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: OrcaLogWriter DATA_DIR COUNT PREFIX\n".utf8))
    exit(2)
}
let log = try LMDBEventLog(path: arguments[1])
let store = Store(log: log)
let prefix = arguments[3]
try await withThrowingTaskGroup(of: Void.self) { group in
    for worker in 0..<4 {
        group.addTask {
            var i = worker
            while i < count {
                let name = "\(prefix)-\(i)"
                let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)],
                                      "spec": ["containers": [["name": "app", "image": "nginx"]]]]
                let created = try await store.create(pod, context: WriteContext(actor: "writer"))
                let line = "ack \(created.resourceVersion ?? "?") \(name)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
                i += 4
            }
        }
    }
    try await group.waitForAll()
}
