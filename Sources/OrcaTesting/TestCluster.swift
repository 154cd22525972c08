public import Orca
import OrcaLMDB
import Foundation

/// A control plane for tests: an event log (LMDB in a temporary directory, or in memory) behind
/// a ``FaultyLog``, a virtual clock, seeded UIDs and a ``ControllerManager`` that runs only when
/// told to. Register the controllers under test, write objects, then ``settle()`` or
/// ``advance(by:)`` and read the results back — the same engine `orca simulate` uses, without
/// simulated nodes.
///
/// ```swift
/// let cluster = try TestCluster()
/// cluster.register(MyController())
/// try await cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}")
/// try await cluster.advance(by: .seconds(30))
/// #expect(try cluster.records().last?.actor == "controller/my-controller")
/// ```
public final class TestCluster: Sendable {
    /// Where the log lives.
    public enum Storage: Sendable {
        /// A real LMDB log in a fresh temporary directory, removed when the cluster is released.
        case lmdb
        /// ``InMemoryEventLog``: fastest, for tests of what sits above the log.
        case memory
    }

    /// 2026-01-01T00:00:00Z, the default start of the virtual clock.
    public static let defaultStart = Timestamp(seconds: 1_767_225_600)

    /// The log every write goes to, with its fault switches.
    public let log: FaultyLog
    public let clock: VirtualClock
    public let manager: ControllerManager
    /// The LMDB data directory (nil in memory).
    public let directory: String?

    public var store: Store { manager.store }

    public init(storage: Storage = .lmdb, start: Timestamp = TestCluster.defaultStart, seed: UInt64 = 1,
                admission: AdmissionConfiguration = AdmissionConfiguration()) throws {
        let base: any EventLog
        switch storage {
        case .lmdb:
            let path = NSTemporaryDirectory() + "orca-testing-" + UUID().uuidString
            base = try LMDBEventLog(path: path, options: LMDBEventLog.Options(create: true, durability: .unsynced, commits: .inline))
            directory = path
        case .memory:
            base = InMemoryEventLog()
            directory = nil
        }
        log = FaultyLog(base)
        clock = VirtualClock(start)
        manager = ControllerManager(log: log, clock: clock, identities: SeededIdentityGenerator(seed: seed),
                                    scheduler: .manual, admission: admission)
    }

    deinit {
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Adds a controller; register every controller before the first ``settle()``.
    @discardableResult
    public func register<R: Reconciler>(_ reconciler: R) -> Controller { manager.register(reconciler) }

    // MARK: Writing

    /// Creates or updates (kubectl's three-way merge) every manifest of a YAML or JSON text, as
    /// `actor`; returns the stored objects.
    @discardableResult
    public func apply(_ manifests: String, actor: String = "user") async throws -> [Unstructured] {
        var out: [Unstructured] = []
        for document in try JSONValue.parseYAMLDocuments(manifests) {
            out.append(try await store.apply(document, context: WriteContext(actor: actor)).object)
        }
        return out
    }

    /// Deletes an object as the API would (graceful for pods, finalizers honoured).
    @discardableResult
    public func delete(_ kind: String, _ name: String, namespace: String = "default",
                       options: DeleteOptions = DeleteOptions(), actor: String = "user") async throws -> DeleteOutcome {
        try await store.delete(kind: kind, namespace: namespace, name: name, options: options, context: WriteContext(actor: actor))
    }

    // MARK: Running

    /// Delivers every event and drains every work queue at the current instant; returns the
    /// number of reconciles.
    @discardableResult
    public func settle() async throws -> Int { try await manager.drain() }

    /// Moves the clock forward by `duration`, stopping at every timer on the way (delayed
    /// requeues, back-offs) to settle there, as a simulation does.
    public func advance(by duration: Duration) async throws {
        let target = clock.now().adding(duration)
        try await manager.drain()
        while let next = manager.nextTimer, next <= target {
            clock.advance(to: max(next, clock.now()))
            try await manager.drain()
        }
        clock.advance(to: target)
        try await manager.drain()
    }

    // MARK: Reading

    /// The current object, typed (nil when absent or not of that shape).
    public func get<T: ResourceView>(_ type: T.Type, _ name: String, namespace: String = "default") throws -> T? {
        try store.get(kind: T.kind, namespace: namespace, name: name).flatMap { T($0.value) }
    }

    /// Current objects of a kind (all namespaces when `namespace` is nil), typed.
    public func list<T: ResourceView>(_ type: T.Type, namespace: String? = "default", selector: LabelSelector = .everything) throws -> [T] {
        try store.list(kind: T.kind, namespace: namespace, selector: selector).compactMap { T($0.value) }
    }

    /// The log's records after `seq`, straight from the log (no fault applies).
    public func records(after seq: UInt64 = 0) throws -> [EventRecord] { try log.base.readAll(from: seq + 1) }
}
