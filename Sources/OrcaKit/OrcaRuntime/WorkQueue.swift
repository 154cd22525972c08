public import OrcaAPI
import DequeModule
import HeapModule
import Synchronization

/// A rate-limited, delaying work queue with client-go's observable semantics.
///
/// - A key waiting in the queue is there once, however often it is added (dedup).
/// - A key is never handed to two workers at once: a key added while it is being processed is
///   marked dirty and queued again when ``done(_:)`` is called — any number of such adds collapse
///   into exactly one more round.
/// - Otherwise keys come out in the order they were added (FIFO).
/// - ``addAfter(_:_:)`` keeps the earlier ready time when a key is already waiting.
/// - ``addRateLimited(_:)`` waits as long as the queue's ``RateLimiter`` says; ``forget(_:)``
///   resets the key's failure count.
///
/// Time comes from the queue's clock. With `scheduler: .live` a delayed key becomes ready on its
/// own; with `.manual` (the deterministic simulation) nothing happens until
/// ``promoteReady()`` is called, and ``nextReadyTime`` tells the simulation when to call it.
public final class WorkQueue<Key: Hashable & Sendable>: Sendable {
    public enum Scheduler: Sendable {
        /// Delayed keys are promoted by a task sleeping on the wall clock.
        case live
        /// Delayed keys are promoted only by ``promoteReady()``.
        case manual
    }

    struct Waiting: Comparable {
        var readyAt: Timestamp
        var order: UInt64
        var key: Key
        static func < (a: Waiting, b: Waiting) -> Bool { (a.readyAt, a.order) < (b.readyAt, b.order) }
        static func == (a: Waiting, b: Waiting) -> Bool { a.readyAt == b.readyAt && a.order == b.order }
    }

    struct State {
        var queue = Deque<Key>()
        var dirty = Set<Key>()
        var processing = Set<Key>()
        var waiting: [Key: Timestamp] = [:]
        var heap = Heap<Waiting>()
        var order: UInt64 = 0
        var limiter: any RateLimiter<Key>
        var shuttingDown = false
        var getters: [CheckedContinuation<Key?, Never>] = []
        var drainers: [CheckedContinuation<Void, Never>] = []
    }

    let state: Mutex<State>
    let clock: any Clock
    let scheduler: Scheduler

    /// A queue with client-go's default controller rate limiter (5 ms doubling to 1000 s per key,
    /// 10 qps with burst 100 overall) unless another is given.
    public init(clock: any Clock, scheduler: Scheduler = .live, rateLimiter: (any RateLimiter<Key>)? = nil) {
        self.clock = clock
        self.scheduler = scheduler
        let limiter: any RateLimiter<Key> = rateLimiter ?? MaxOfRateLimiter<ExponentialFailureRateLimiter<Key>, BucketRateLimiter<Key>>.defaultController()
        state = Mutex(State(limiter: limiter))
    }

    // MARK: Adding

    /// Queues `key` unless it is already queued; a key being processed is queued again when done.
    public func add(_ key: Key) {
        let handOff = state.withLock { s in Self.add(key, &s) }
        handOff?.resume()
    }

    /// Queues `key` after `delay`; a zero or negative delay adds it now. A key already waiting
    /// keeps the earlier of its two ready times.
    public func addAfter(_ key: Key, _ delay: Duration) {
        guard delay > .zero else { return add(key) }
        let readyAt = clock.now().adding(delay)
        let scheduled = state.withLock { s -> Bool in
            guard !s.shuttingDown else { return false }
            if let existing = s.waiting[key], existing <= readyAt { return false }
            s.waiting[key] = readyAt
            s.order += 1
            s.heap.insert(Waiting(readyAt: readyAt, order: s.order, key: key))
            return true
        }
        if scheduled && scheduler == .live {
            Task { [self] in
                try? await Task.sleep(for: delay)
                promoteReady()
            }
        }
    }

    /// Queues `key` after the rate limiter's delay for it, counting one more failure.
    public func addRateLimited(_ key: Key) {
        let now = clock.now()
        let delay = state.withLock { s in s.limiter.when(key, now: now) }
        addAfter(key, delay)
    }

    /// Clears `key`'s failure history.
    public func forget(_ key: Key) { state.withLock { $0.limiter.forget(key) } }

    /// Times `key` has been rate-limited since it was last forgotten.
    public func numRequeues(_ key: Key) -> Int { state.withLock { $0.limiter.numRequeues(key) } }

    // MARK: Delays

    /// Moves every waiting key whose time has come into the queue, earliest first. Returns how
    /// many were moved.
    @discardableResult
    public func promoteReady() -> Int {
        let now = clock.now()
        let (moved, handOffs) = state.withLock { s -> (Int, [HandOff]) in
            var out: [HandOff] = []
            var moved = 0
            while let head = s.heap.min, head.readyAt <= now {
                _ = s.heap.removeMin()
                guard s.waiting[head.key] == head.readyAt else { continue }  // superseded by an earlier time
                s.waiting[head.key] = nil
                moved += 1
                if let h = Self.add(head.key, &s) { out.append(h) }
            }
            return (moved, out)
        }
        for h in handOffs { h.resume() }
        return moved
    }

    /// Whether `key` waits for a delayed add (`addAfter`, a requeue or a retry).
    public func isWaiting(_ key: Key) -> Bool { state.withLock { $0.waiting[key] != nil } }

    /// When the earliest waiting key becomes ready; nil when none waits.
    public var nextReadyTime: Timestamp? {
        state.withLock { s in
            var heap = s.heap
            while let head = heap.min {
                if s.waiting[head.key] == head.readyAt { return head.readyAt }
                _ = heap.removeMin()
            }
            return nil
        }
    }

    // MARK: Taking

    /// The next key, moved to processing, or nil when the queue is empty. Does not wait.
    public func tryGet() -> Key? {
        state.withLock { s in
            guard let key = s.queue.popFirst() else { return nil }
            s.processing.insert(key)
            s.dirty.remove(key)
            return key
        }
    }

    /// The next key, waiting for one; nil once the queue is shut down and empty.
    public func get() async -> Key? {
        if let key = tryGet() { return key }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Key?, Never>) in
            let immediate: Key?? = state.withLock { s in
                if let key = s.queue.popFirst() {
                    s.processing.insert(key)
                    s.dirty.remove(key)
                    return .some(key)
                }
                if s.shuttingDown { return .some(nil) }
                s.getters.append(continuation)
                return .none
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// Marks `key` processed; if it was added meanwhile, it is queued again now.
    public func done(_ key: Key) {
        let (handOff, drained) = state.withLock { s -> (HandOff?, [CheckedContinuation<Void, Never>]) in
            s.processing.remove(key)
            var handOff: HandOff?
            if s.dirty.contains(key) {
                s.queue.append(key)
                handOff = Self.handOff(&s)
            }
            var drained: [CheckedContinuation<Void, Never>] = []
            if s.shuttingDown && s.processing.isEmpty {
                drained = s.drainers
                s.drainers = []
            }
            return (handOff, drained)
        }
        handOff?.resume()
        for d in drained { d.resume() }
    }

    // MARK: State

    /// Keys queued (not counting ones being processed or waiting for a delay).
    public var count: Int { state.withLock { $0.queue.count } }

    /// No key queued and none being processed (keys may still wait for a delay).
    public var isIdle: Bool { state.withLock { $0.queue.isEmpty && $0.processing.isEmpty } }

    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Stops accepting keys; waiting `get()` calls return nil once the queue is empty.
    public func shutDown() {
        let getters = state.withLock { s -> [CheckedContinuation<Key?, Never>] in
            s.shuttingDown = true
            s.heap = Heap()
            s.waiting = [:]
            guard s.queue.isEmpty else { return [] }
            defer { s.getters = [] }
            return s.getters
        }
        for g in getters { g.resume(returning: nil) }
    }

    /// Shuts down, then waits until every key being processed is done.
    public func shutDownWithDrain() async {
        shutDown()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.processing.isEmpty && s.queue.isEmpty { return true }
                s.drainers.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: Internals

    /// A key handed straight to a waiting `get()`.
    struct HandOff {
        let continuation: CheckedContinuation<Key?, Never>
        let key: Key
        func resume() { continuation.resume(returning: key) }
    }

    static func add(_ key: Key, _ s: inout State) -> HandOff? {
        guard !s.shuttingDown, !s.dirty.contains(key) else { return nil }
        s.dirty.insert(key)
        guard !s.processing.contains(key) else { return nil }
        s.queue.append(key)
        return handOff(&s)
    }

    static func handOff(_ s: inout State) -> HandOff? {
        guard !s.getters.isEmpty, let key = s.queue.popFirst() else { return nil }
        s.processing.insert(key)
        s.dirty.remove(key)
        return HandOff(continuation: s.getters.removeFirst(), key: key)
    }
}
