public import Orca

/// Builds a small history — objects created, changed and deleted at chosen moments by chosen
/// actors — and writes it to a log through the store, so every record is exactly what the API
/// would have written (defaults, validation, resourceVersions, graceful deletion). For tests of
/// replay, informers and controllers started on a recorded past.
///
/// ```swift
/// var history = HistoryBuilder()
/// history.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: x}]}")
/// history.patch("Pod", "a", ["metadata": ["labels": ["app": "web"]]], at: .seconds(5), actor: "kubectl")
/// history.delete("Pod", "a", at: .seconds(9), options: DeleteOptions(gracePeriodSeconds: 0))
/// let last = try await history.write(to: InMemoryEventLog())
/// ```
public struct HistoryBuilder: Sendable {
    enum Step: Sendable {
        case apply(String)
        case patch(kind: String, namespace: String, name: String, patch: JSONValue, status: Bool)
        case delete(kind: String, namespace: String, name: String, options: DeleteOptions)
    }

    struct Entry: Sendable {
        var at: Duration
        var actor: String
        var step: Step
    }

    public let start: Timestamp
    public let seed: UInt64
    var entries: [Entry] = []

    public init(start: Timestamp = TestCluster.defaultStart, seed: UInt64 = 1) {
        self.start = start
        self.seed = seed
    }

    /// Creates or updates the manifests (YAML or JSON, several documents) at `at`.
    public mutating func apply(_ manifests: String, at: Duration = .zero, actor: String = "user") {
        entries.append(Entry(at: at, actor: actor, step: .apply(manifests)))
    }

    /// A JSON merge patch of one object (of its status with `status: true`).
    public mutating func patch(_ kind: String, _ name: String, namespace: String = "default", _ patch: JSONValue,
                               status: Bool = false, at: Duration = .zero, actor: String = "user") {
        entries.append(Entry(at: at, actor: actor, step: .patch(kind: kind, namespace: namespace, name: name, patch: patch, status: status)))
    }

    /// Deletes an object as the API would.
    public mutating func delete(_ kind: String, _ name: String, namespace: String = "default",
                                at: Duration = .zero, options: DeleteOptions = DeleteOptions(), actor: String = "user") {
        entries.append(Entry(at: at, actor: actor, step: .delete(kind: kind, namespace: namespace, name: name, options: options)))
    }

    /// Writes the history, in time order (steps at one moment in the order they were added),
    /// and returns the last seq written. Throws the store's error (a ``StoreError``) of the first
    /// step the API would reject, or a ``ManifestSyntaxError``/``JSONSyntaxError`` for a
    /// manifest that does not parse.
    @discardableResult
    public func write(to log: any EventLog) async throws -> UInt64 {
        let clock = VirtualClock(start)
        let store = Store(log: log, clock: clock, identities: SeededIdentityGenerator(seed: seed))
        let ordered = entries.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        for entry in ordered {
            clock.advance(to: max(clock.now(), start.adding(entry.at)))
            let context = WriteContext(actor: entry.actor)
            switch entry.step {
            case .apply(let text):
                for document in try JSONValue.parseYAMLDocuments(text) { _ = try await store.apply(document, context: context) }
            case .patch(let kind, let namespace, let name, let patch, let status):
                _ = try await store.patch(kind: kind, namespace: namespace, name: name, mergePatch: patch,
                                          subresource: status ? .status : .main, context: context)
            case .delete(let kind, let namespace, let name, let options):
                _ = try await store.delete(kind: kind, namespace: namespace, name: name, options: options, context: context)
            }
        }
        return try log.latestSeq()
    }
}
