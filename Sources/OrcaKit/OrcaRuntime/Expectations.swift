public import OrcaAPI
import Synchronization

/// Kubernetes' controller expectations (`ControllerExpectations` with
/// `UIDTrackingControllerExpectations`): what a controller has asked the store to create or
/// delete and not yet seen in its cache.
///
/// Before issuing N creates for a controller key, call ``expectCreations(_:_:)``; before deleting
/// pods, ``expectDeletions(_:keys:)`` with their keys. The informer handlers (a reconciler's
/// `observe`) call ``creationObserved(_:)`` and ``deletionObserved(_:key:)``; a create or delete
/// that failed, or was skipped, is lowered the same way. While ``satisfied(_:)`` is false a sync
/// recomputes status but must not create or delete — that is what stops double creation from a
/// stale cache. An expectation older than ``timeout`` (5 minutes) counts as satisfied.
public final class Expectations: Sendable {
    /// `ExpectationsTimeout`.
    public static let timeout: Duration = .seconds(300)

    struct Record {
        var add: Int
        var del: Int
        var timestamp: Timestamp
        /// Keys of objects whose deletion is expected; each counts once.
        var deleting: Set<String>
    }

    let clock: any Clock
    let records = Mutex<[String: Record]>([:])

    public init(clock: any Clock) { self.clock = clock }

    /// Expects `count` creations for `key`, replacing any previous expectation.
    public func expectCreations(_ key: String, _ count: Int) {
        let now = clock.now()
        records.withLock { $0[key] = Record(add: count, del: 0, timestamp: now, deleting: []) }
    }

    /// Expects the deletion of the objects with `keys`, replacing any previous expectation.
    public func expectDeletions(_ key: String, keys: [String]) {
        let now = clock.now()
        records.withLock { $0[key] = Record(add: 0, del: keys.count, timestamp: now, deleting: Set(keys)) }
    }

    /// Expects `creations` creations and the deletion of the objects with `keys` at once
    /// (`SetExpectations(add, del)`), replacing any previous expectation.
    public func expect(_ key: String, creations: Int, deletions keys: [String]) {
        let now = clock.now()
        records.withLock { $0[key] = Record(add: creations, del: keys.count, timestamp: now, deleting: Set(keys)) }
    }

    /// One expected creation was seen (or will never happen: a failed or skipped create).
    public func creationObserved(_ key: String) {
        records.withLock { $0[key]?.add -= 1 }
    }

    /// The object `objectKey` was seen deleted or terminating (or its delete failed). Counted
    /// once per object, however many events report it.
    public func deletionObserved(_ key: String, key objectKey: String) {
        records.withLock { r in
            guard r[key]?.deleting.remove(objectKey) != nil else { return }
            r[key]?.del -= 1
        }
    }

    /// True when nothing is expected for `key`, everything expected was observed, or the
    /// expectation has expired.
    public func satisfied(_ key: String) -> Bool {
        let now = clock.now()
        return records.withLock { r in
            guard let record = r[key] else { return true }
            if record.add <= 0 && record.del <= 0 { return true }
            return now.since(record.timestamp) > Self.timeout
        }
    }

    /// The outstanding counts for `key`, if an expectation exists.
    public func pending(_ key: String) -> (add: Int, del: Int)? {
        records.withLock { r in r[key].map { ($0.add, $0.del) } }
    }

    /// Forgets `key` (its controller object was deleted; a same-name recreate starts clean).
    public func delete(_ key: String) { records.withLock { $0[key] = nil } }
}
