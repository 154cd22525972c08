public import Orca

/// client-go's `flowcontrol.Backoff` without jitter, as the DaemonSet controller builds it
/// (`NewBackOff(1s, 15m)`): per key, a delay that starts at `initial`, doubles with each step up
/// to `max`, and starts over once the key has been quiet for twice `max`.
public struct FailedPodBackoff: Sendable {
    public static let initial: Duration = .seconds(1)
    public static let max: Duration = .seconds(15 * 60)

    struct Entry: Sendable {
        var delay: Duration
        var lastUpdate: Timestamp
    }

    var entries: [String: Entry] = [:]

    public init() {}

    /// `failedPodsBackoffKey`: `<ds uid>/<status.observedGeneration>/<node>`.
    public static func key(_ ds: DaemonSet, node: String) -> String {
        "\(ds.metadata.uid ?? "")/\(ds.status.observedGeneration ?? 0)/\(node)"
    }

    /// The key's current delay (zero when unknown).
    public func delay(_ key: String) -> Duration { entries[key]?.delay ?? .zero }

    /// `IsInBackOffSinceUpdate`: less than the current delay has passed since the last step.
    public func isInBackoff(_ key: String, now: Timestamp) -> Bool {
        guard let entry = entries[key] else { return false }
        if Self.hasExpired(entry, now: now) { return false }
        return now.since(entry.lastUpdate) < entry.delay
    }

    /// `Next`: one step — the initial delay for a new or expired key, else double (capped).
    public mutating func next(_ key: String, now: Timestamp) {
        if let entry = entries[key], !Self.hasExpired(entry, now: now) {
            entries[key] = Entry(delay: Swift.min(entry.delay * 2, Self.max), lastUpdate: now)
        } else {
            entries[key] = Entry(delay: Self.initial, lastUpdate: now)
        }
    }

    /// `GC`: forgets keys quiet for more than twice `max` (run every minute upstream).
    public mutating func collectGarbage(now: Timestamp) {
        entries = entries.filter { !Self.hasExpired($0.value, now: now) }
    }

    static func hasExpired(_ entry: Entry, now: Timestamp) -> Bool {
        now.since(entry.lastUpdate) > Self.max * 2
    }
}
