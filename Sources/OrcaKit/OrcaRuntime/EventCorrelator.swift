public import OrcaAPI
import Synchronization

/// client-go's `EventCorrelator` (`tools/record/events_cache.go`), one per controller as each
/// Kubernetes controller has its own broadcaster. Before an Event is written it is:
///
/// 1. **aggregated** — once 10 distinct messages with the same source, object, type and reason
///    are seen within 10 minutes, further ones become one event whose message is
///    `(combined from similar events): <message>`;
/// 2. **de-duplicated** — an event identical to one already written (same source, object, type,
///    reason and message; or the same aggregate) updates that Event instead: `count` + 1,
///    `lastTimestamp` and `message` patched;
/// 3. **rate-limited** — a source may write 25 events about one object at once, then one more
///    every 5 minutes (a token bucket); the rest are dropped.
///
/// Caches hold 4,096 keys each, least recently used first out (evicted in batches).
public final class EventCorrelator: Sendable {
    public static let aggregateMaxEvents = 10
    public static let aggregateInterval: Duration = .seconds(600)
    public static let spamBurst = 25.0
    public static let spamQPS = 1.0 / 300.0
    public static let cacheSize = 4_096

    struct Aggregate {
        var messages: Set<String> = []
        var last: Timestamp
    }
    struct Observation {
        var count: Int
        var first: Timestamp
        var name: String
    }
    struct Bucket {
        var tokens: Double
        var last: Timestamp
    }

    /// A bounded map evicting the least recently used half when full.
    struct LRU<Value> {
        var entries: [String: (value: Value, used: UInt64)] = [:]
        var tick: UInt64 = 0
        mutating func get(_ key: String) -> Value? {
            guard let entry = entries[key] else { return nil }
            tick += 1
            entries[key] = (entry.value, tick)
            return entry.value
        }
        mutating func set(_ key: String, _ value: Value) {
            tick += 1
            entries[key] = (value, tick)
            if entries.count > EventCorrelator.cacheSize {
                let cutoff = entries.values.map(\.used).sorted()[entries.count / 2]
                entries = entries.filter { $0.value.used >= cutoff }
            }
        }
    }

    struct State {
        var aggregates = LRU<Aggregate>()
        var observations = LRU<Observation>()
        var buckets = LRU<Bucket>()
    }
    let state = Mutex(State())

    public init() {}

    /// What to write for an event.
    public enum Decision: Sendable, Equatable {
        /// Create a new Event with this message (count 1).
        case create(message: String, key: String)
        /// Patch the existing Event `name`: count, lastTimestamp, message.
        case update(name: String, count: Int, firstTimestamp: Timestamp, message: String, key: String)
        /// Dropped by the spam filter.
        case skip
    }

    /// Correlates an event about `object` (identified by kind, namespace, name, uid, apiVersion)
    /// from `component`, at `now`.
    public func correlate(component: String, object: ObjectReference, type: String, reason: String,
                          message: String, now: Timestamp) -> Decision {
        let objectKey = [component, "", object.kind ?? "", object.namespace ?? "", object.name ?? "",
                         object.uid ?? "", object.apiVersion ?? ""].joined(separator: "\u{1f}")
        let aggregateKey = [objectKey, type, reason, "", ""].joined(separator: "\u{1f}")
        let eventKey = Self.eventKey(component: component, object: object, type: type, reason: reason, message: message)
        return state.withLock { s in
            // 1. Aggregation.
            var aggregate = s.aggregates.get(aggregateKey) ?? Aggregate(last: now)
            if now.since(aggregate.last) > Self.aggregateInterval { aggregate = Aggregate(last: now) }
            aggregate.messages.insert(message)
            aggregate.last = now
            var key = eventKey
            var text = message
            if aggregate.messages.count >= Self.aggregateMaxEvents {
                if let any = aggregate.messages.first { aggregate.messages.remove(any) }
                key = aggregateKey
                text = "(combined from similar events): " + message
            }
            s.aggregates.set(aggregateKey, aggregate)

            // 2. De-duplication.
            let previous = s.observations.get(key)

            // 3. Spam filter (after observing, as client-go does: a dropped event still counts).
            var bucket = s.buckets.get(objectKey) ?? Bucket(tokens: Self.spamBurst, last: now)
            let elapsed = Double(now.since(bucket.last).components.seconds) + Double(now.since(bucket.last).components.attoseconds) / 1e18
            bucket.tokens = min(Self.spamBurst, bucket.tokens + max(0, elapsed) * Self.spamQPS)
            bucket.last = max(bucket.last, now)
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            s.buckets.set(objectKey, bucket)

            if let previous {
                s.observations.set(key, Observation(count: previous.count + 1, first: previous.first, name: previous.name))
                guard allowed else { return .skip }
                return .update(name: previous.name, count: previous.count + 1, firstTimestamp: previous.first, message: text, key: key)
            }
            // Observed even when dropped, under the name client-go would have given it.
            let hex = String(UInt64(bitPattern: now.nanoseconds), radix: 16)
            s.observations.set(key, Observation(count: 1, first: now, name: "\(object.name ?? "").\(hex)"))
            guard allowed else { return .skip }
            return .create(message: text, key: key)
        }
    }

    /// An events.k8s.io/v1 event seen before (`tools/events`' isomorphic-event cache): the
    /// Event's name, when it was first recorded and, once repeated, the series count.
    struct Isomorphic {
        var name: String
        var eventTime: Timestamp
        var seriesCount: Int?
        var lastObserved: Timestamp
    }
    struct SeriesCache {
        var entries: [String: Isomorphic] = [:]
        var lastSweep: Timestamp?
    }
    let isomorphic = Mutex(SeriesCache())

    /// How long `tools/events` keeps an event it has not seen again (`finishTime`).
    public static let seriesFinishTime: Duration = .seconds(360)

    /// What the events.k8s.io/v1 recorder writes for an event.
    public enum SeriesDecision: Sendable, Equatable {
        /// Create a new Event.
        case create
        /// The event repeats one written as `name` at `eventTime`: write its `series` (count 2).
        case startSeries(name: String, eventTime: Timestamp)
        /// The series goes on: counted, written when it is refreshed (every 30 minutes) or ends.
        case counted
    }

    /// `tools/events`' `recordToSink`: an event with the same type, action, reason, reporting
    /// controller and instance, regarding object (resourceVersion included) and related object
    /// as one seen in the last 6 minutes is isomorphic to it — the first repeat turns the Event
    /// into a series of count 2, later repeats only count.
    public func observeSeries(key: String, objectName: String, now: Timestamp) -> SeriesDecision {
        isomorphic.withLock { cache in
            // finishSeries, every 6 minutes: what was not seen again for 6 minutes is forgotten.
            if let last = cache.lastSweep, now.since(last) >= Self.seriesFinishTime {
                cache.entries = cache.entries.filter { now.since($0.value.lastObserved) <= Self.seriesFinishTime }
                cache.lastSweep = now
            } else if cache.lastSweep == nil {
                cache.lastSweep = now
            }
            if var seen = cache.entries[key], now.since(seen.lastObserved) <= Self.seriesFinishTime {
                seen.lastObserved = now
                defer { cache.entries[key] = seen }
                if let count = seen.seriesCount {
                    seen.seriesCount = count + 1
                    return .counted
                }
                seen.seriesCount = 2
                return .startSeries(name: seen.name, eventTime: seen.eventTime)
            }
            let hex = String(UInt64(bitPattern: now.nanoseconds), radix: 16)
            cache.entries[key] = Isomorphic(name: "\(objectName).\(hex)", eventTime: now, seriesCount: nil, lastObserved: now)
            return .create
        }
    }

    /// Remembers the name the events.k8s.io/v1 Event for `key` was created under.
    public func writtenSeriesEvent(key: String, name: String) {
        isomorphic.withLock { $0.entries[key]?.name = name }
    }

    /// The isomorphism key of an events.k8s.io/v1 event (`tools/events`' `getKey`).
    public static func seriesKey(component: String, instance: String, object: ObjectReference, type: String,
                                 action: String, reason: String) -> String {
        [type, action, reason, component, instance, object.name ?? "", object.kind ?? "", object.namespace ?? "",
         object.uid ?? "", object.apiVersion ?? "", object.resourceVersion ?? "", object.fieldPath ?? ""].joined(separator: "\u{1f}")
    }

    /// Remembers the Event written for `key` (its name as stored, its count).
    public func written(key: String, name: String, count: Int, firstTimestamp: Timestamp) {
        state.withLock { $0.observations.set(key, Observation(count: count, first: firstTimestamp, name: name)) }
    }

    /// client-go's `getEventKey`: the de-duplication key of a plain (not combined) event —
    /// source, involved object, type, reason and message.
    public static func eventKey(component: String, object: ObjectReference, type: String, reason: String, message: String) -> String {
        [component, "", object.kind ?? "", object.namespace ?? "", object.name ?? "", object.fieldPath ?? "",
         object.uid ?? "", object.apiVersion ?? "", type, reason, message].joined(separator: "\u{1f}")
    }
}
