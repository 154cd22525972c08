public import OrcaAPI
import Synchronization

/// A clock that moves only when told: the simulation's time, and a test's.
public final class VirtualClock: Clock {
    let current: Mutex<Timestamp>

    public init(_ start: Timestamp = Timestamp(seconds: 0)) { current = Mutex(start) }

    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves time forward to `time`; a time in the past is ignored (time never goes back).
    public func advance(to time: Timestamp) { current.withLock { $0 = max($0, time) } }

    public func advance(by duration: Duration) { current.withLock { $0 = $0.adding(duration) } }
}
