import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaLog
import OrcaReplay
import OrcaStore
import Testing

@Suite("projection, time travel, history round trip")
struct ProjectionTests {
    @Test("after a random mix of store writes the projection equals a fold of the log, at every seq")
    func projectionFold() async throws {
        let f = try Fixture()
        var rng = SystemRandomNumberGenerator()
        for step in 0..<120 {
            let name = "p\(Int.random(in: 0..<8, using: &rng))"
            f.clock.advance(.seconds(1))
            if let pod = try f.store.get(kind: "Pod", name: name) {
                if Bool.random(using: &rng) {
                    _ = try await f.store.patch(kind: "Pod", name: name, mergePatch: ["metadata": ["labels": ["step": .string("\(step)")]]])
                } else {
                    _ = try await f.store.delete(kind: "Pod", name: pod.name, options: .force)
                }
            } else {
                try await f.store.create(try podManifest(name, node: "n"))
            }
        }
        let all = try f.log.readAll()
        #expect(EventLogProjection.fold(all) == Dictionary(uniqueKeysWithValues: try f.log.list(kind: "Pod", namespace: nil).records.map { ($0.key, $0) }))
        for seq in stride(from: UInt64(1), through: UInt64(all.count), by: 17) {
            #expect(try EventLogProjection.state(of: f.log, atSeq: seq) == EventLogProjection.fold(all.prefix(Int(seq))))
        }
    }

    @Test("export then import into a fresh log reproduces every record")
    func exportImport() async throws {
        let f = try Fixture()
        try await f.store.create(try podManifest("a", node: "n"))
        _ = try await f.store.delete(kind: "Pod", name: "a", context: WriteContext(actor: "controller/test", cause: 1))
        let exported = try f.log.readAll().map(History.line).joined(separator: "\n")
        let dir = TemporaryDirectory()
        let other = try LMDBEventLog(path: dir.sub("copy"))
        let entries = try History.parse(exported)
        try await other.append(History.drafts(entries, nextSeq: 1, after: nil))
        #expect(try other.readAll() == f.log.readAll())
    }
}

final class TemporaryDirectory: @unchecked Sendable {
    // @unchecked: `path` is immutable.
    let path = NSTemporaryDirectory() + "orca-test-" + UUID().uuidString
    func sub(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
