public import OrcaAPI

/// Decides how long a key waits before its next retry, as client-go's `workqueue.RateLimiter`.
///
/// Limiters are values held inside a ``WorkQueue`` (which serialises access); time comes from the
/// caller, so a limiter behaves the same under a virtual clock.
public protocol RateLimiter<Key>: Sendable {
    associatedtype Key: Hashable & Sendable
    /// The delay before `key` may be processed again; records one more failure of it.
    mutating func when(_ key: Key, now: Timestamp) -> Duration
    /// Clears `key`'s failure history (after a successful reconcile).
    mutating func forget(_ key: Key)
    /// How many times `key` has been rate-limited since it was last forgotten.
    func numRequeues(_ key: Key) -> Int
}

/// `ItemExponentialFailureRateLimiter`: `base × 2^failures(key)` (failures counted before this one),
/// capped at `max`.
public struct ExponentialFailureRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    public var base: Duration
    public var max: Duration
    var failures: [Key: Int] = [:]

    public init(base: Duration, max: Duration) {
        self.base = base
        self.max = max
    }

    public mutating func when(_ key: Key, now: Timestamp) -> Duration {
        let exponent = failures[key, default: 0]
        failures[key] = exponent + 1
        let baseNanos = base.totalNanoseconds
        guard exponent < 62, baseNanos > 0 else { return baseNanos > 0 ? max : .zero }
        let (delay, overflow) = baseNanos.multipliedReportingOverflow(by: Int64(1) << exponent)
        if overflow || delay > max.totalNanoseconds { return max }
        return .nanoseconds(delay)
    }

    public mutating func forget(_ key: Key) { failures[key] = nil }
    public func numRequeues(_ key: Key) -> Int { failures[key, default: 0] }
}

/// `BucketRateLimiter`: one token bucket shared by every key (`rate.Limiter.Reserve`): `qps` tokens
/// per second, up to `burst` saved; a request that finds the bucket empty waits for its token.
public struct BucketRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    public var qps: Double
    public var burst: Int
    var tokens: Double
    var last: Timestamp?

    public init(qps: Double, burst: Int) {
        self.qps = qps
        self.burst = burst
        tokens = Double(burst)
    }

    public mutating func when(_ key: Key, now: Timestamp) -> Duration {
        if let previous = last {
            if now > previous {
                tokens = Swift.min(Double(burst), tokens + Double(now.nanoseconds - previous.nanoseconds) / 1e9 * qps)
                last = now
            }
        } else {
            last = now
        }
        tokens -= 1
        guard tokens < 0 else { return .zero }
        return .nanoseconds(Int64((-tokens / qps * 1e9).rounded(.up)))
    }

    public mutating func forget(_ key: Key) {}
    public func numRequeues(_ key: Key) -> Int { 0 }
}

/// `MaxOfRateLimiter` of two limiters: the longer delay wins; failures are counted by both.
public struct MaxOfRateLimiter<First: RateLimiter, Second: RateLimiter>: RateLimiter where First.Key == Second.Key {
    public var first: First
    public var second: Second

    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    public mutating func when(_ key: First.Key, now: Timestamp) -> Duration {
        Swift.max(first.when(key, now: now), second.when(key, now: now))
    }

    public mutating func forget(_ key: First.Key) {
        first.forget(key)
        second.forget(key)
    }

    public func numRequeues(_ key: First.Key) -> Int { Swift.max(first.numRequeues(key), second.numRequeues(key)) }
}

extension MaxOfRateLimiter {
    /// client-go's `DefaultControllerRateLimiter`: per key 5 ms doubling to 1000 s, and overall
    /// 10 qps with a burst of 100.
    public static func defaultController<K>() -> MaxOfRateLimiter<ExponentialFailureRateLimiter<K>, BucketRateLimiter<K>>
    where First == ExponentialFailureRateLimiter<K>, Second == BucketRateLimiter<K> {
        MaxOfRateLimiter(ExponentialFailureRateLimiter(base: .milliseconds(5), max: .seconds(1000)),
                         BucketRateLimiter(qps: 10, burst: 100))
    }
}
