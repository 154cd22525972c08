public import Orca

/// client-go's token-bucket rate limiter with the node controller's burst of 1
/// (`EvictionRateLimiterBurst`): full when created, one token every `1/qps`. A limiter with
/// qps ≤ 0 never accepts (`NewFakeNeverRateLimiter`, which reports a QPS of 1).
public struct EvictionRateLimiter: Sendable, Equatable {
    public let qps: Double
    /// When the bucket holds a token again; nil while it is full.
    var fullAt: Timestamp?

    public init(qps: Double) { self.qps = qps }

    /// The QPS the limiter reports (`QPS()`): a never-accepting limiter says 1, as upstream.
    public var reportedQPS: Double { qps > 0 ? qps : 1 }

    var interval: Duration { .nanoseconds(Int64((1e9 / qps).rounded())) }

    /// Takes a token if one is there (`TryAccept`).
    public mutating func tryAccept(now: Timestamp) -> Bool {
        guard qps > 0 else { return false }
        if let fullAt, now < fullAt { return false }
        fullAt = now.adding(interval)
        return true
    }

    /// When a token is next available (now if one is), nil if never.
    public func nextToken(now: Timestamp) -> Timestamp? {
        guard qps > 0 else { return nil }
        guard let fullAt else { return now }
        return max(fullAt, now)
    }
}

/// One zone's queue of nodes waiting for their NoExecute taint (`RateLimitedTimedQueue`): a set
/// of node names, processed in order of `processAt` (ties in the order added), each try gated by
/// the zone's limiter.
public struct RateLimitedTimedQueue: Sendable {
    public struct Item: Sendable, Equatable {
        public var name: String
        public var uid: String
        public var processAt: Timestamp
        var order: UInt64
    }

    public private(set) var limiter: EvictionRateLimiter
    /// Waiting items, sorted by (processAt, order).
    public private(set) var items: [Item] = []
    /// Every name added and not removed (processed names stay so they are not added twice).
    var members: Set<String> = []
    var counter: UInt64 = 0

    public init(qps: Double) { limiter = EvictionRateLimiter(qps: qps) }

    /// Adds `name` unless it is already in the set; returns whether it was added.
    @discardableResult
    public mutating func add(_ name: String, uid: String, now: Timestamp) -> Bool {
        guard members.insert(name).inserted else { return false }
        counter += 1
        insert(Item(name: name, uid: uid, processAt: now, order: counter))
        return true
    }

    /// Removes `name` from the queue and the set; returns whether it was in the set.
    @discardableResult
    public mutating func remove(_ name: String) -> Bool {
        items.removeAll { $0.name == name }
        return members.remove(name) != nil
    }

    public func contains(_ name: String) -> Bool { members.contains(name) }

    mutating func insert(_ item: Item) {
        let index = items.firstIndex { ($0.processAt, $0.order) > (item.processAt, item.order) } ?? items.endIndex
        items.insert(item, at: index)
    }

    /// `SwapLimiter`: a new limiter for a new rate. When the old one has no token, the new one
    /// starts drained (right for a burst of 1, as upstream notes).
    public mutating func swapLimiter(qps: Double, now: Timestamp) {
        guard limiter.reportedQPS != qps else { return }
        var replacement = EvictionRateLimiter(qps: qps)
        if qps > 0, !limiter.tryAccept(now: now) { _ = replacement.tryAccept(now: now) }
        limiter = replacement
    }

    /// What trying an item decided.
    public enum Outcome: Sendable {
        /// Done: the item leaves the queue (its name stays in the set).
        case done
        /// Try again after this long.
        case retry(after: Duration)
    }

    /// The items `Try` would hand out now, in order, taking a token for each (and one more for
    /// the try that stops, as upstream). Call ``finish(_:outcome:now:)`` for each.
    public mutating func due(now: Timestamp) -> [Item] {
        var out: [Item] = []
        for item in items {
            guard limiter.tryAccept(now: now) else { break }
            guard item.processAt <= now else { break }
            out.append(item)
        }
        return out
    }

    /// Records the outcome of trying `item`.
    public mutating func finish(_ item: Item, outcome: Outcome, now: Timestamp) {
        items.removeAll { $0.name == item.name }
        switch outcome {
        case .done: break
        case .retry(let wait):
            var again = item
            again.processAt = now.adding(wait + .nanoseconds(1))
            insert(again)
        }
    }

    /// When a try could next hand out an item, nil if the queue is empty or stopped.
    public func nextTry(now: Timestamp) -> Timestamp? {
        guard let head = items.first, let token = limiter.nextToken(now: now) else { return nil }
        return max(token, head.processAt)
    }
}
