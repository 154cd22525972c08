import Synchronization

/// Memory a reconciler keeps between reconciles — scheduled evictions, health timestamps. A
/// reconciler is a value type, so its state lives in this reference, shared by its copies and
/// guarded by a lock. Keep it to what the log cannot tell: anything derivable from the caches
/// belongs in the caches.
public final class ReconcilerState<Value: Sendable>: Sendable {
    let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    public func withLock<R: Sendable>(_ body: (inout sending Value) throws -> sending R) rethrows -> sending R {
        try mutex.withLock(body)
    }

    /// A copy of the current value.
    public var value: Value { mutex.withLock { $0 } }
}
