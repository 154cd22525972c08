import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaLog
import OrcaStore
import Synchronization
import Testing

final class ManualClock: OrcaAPI.Clock {
    let current = Mutex(Timestamp(seconds: 1_767_225_600))  // 2026-01-01T00:00:00Z
    func now() -> Timestamp { current.withLock { $0 } }
    func advance(_ d: Duration) { current.withLock { $0 = $0.adding(d) } }
}

final class Fixture: @unchecked Sendable {
    // @unchecked: all fields are immutable references to Sendable values.
    let path: String
    let log: LMDBEventLog
    let clock = ManualClock()
    let store: Store

    init() throws {
        path = NSTemporaryDirectory() + "orca-store-" + UUID().uuidString
        log = try LMDBEventLog(path: path)
        store = Store(log: log, clock: clock, identities: SeededIdentityGenerator(seed: 1))
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func yaml(_ text: String) throws -> JSONValue { try #require(try JSONValue.parseYAMLDocuments(text).first) }

/// A batch/v1 Job manifest: `spec` (and `labels`, if any) as flow-style YAML.
func jobManifest(_ name: String, labels: String? = nil, spec: String) throws -> JSONValue {
    try yaml("{apiVersion: batch/v1, kind: Job, metadata: {name: \(name)\(labels.map { ", labels: \($0)" } ?? "")}, spec: \(spec)}")
}

func podManifest(_ name: String, node: String? = nil, grace: Int? = nil, finalizers: [String] = []) throws -> JSONValue {
    var pod = try yaml("""
    apiVersion: v1
    kind: Pod
    metadata: {name: \(name), labels: {app: web}}
    spec: {containers: [{name: app, image: nginx}]}
    """)
    if let node { pod[path: ["spec", "nodeName"]] = .string(node) }
    if let grace { pod[path: ["spec", "terminationGracePeriodSeconds"]] = .int(Int64(grace)) }
    if !finalizers.isEmpty { pod[path: ["metadata", "finalizers"]] = .array(finalizers.map { .string($0) }) }
    return pod
}

func storeError(_ body: () async throws -> Void) async -> StoreError? {
    do { try await body(); return nil } catch let e as StoreError { return e } catch { return nil }
}
