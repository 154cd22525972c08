import OrcaLog
import Synchronization

/// The records this process most recently committed, by seq.
///
/// A seq names one record forever once committed (the log is append-only), so a record can be
/// handed out again instead of being read and checked anew: the informers read back every
/// record the controllers just wrote, and the store reads an object's current record on its
/// next update. Records enter only after their commit succeeded (an aborted transaction's seqs
/// are reused by the next one). Bounded: the oldest entries are dropped first.
final class RecentRecords: Sendable {
    struct State {
        var records: [UInt64: EventRecord] = [:]
        var ring: [UInt64] = []
        var next = 0
    }

    let capacity: Int
    let state = Mutex(State())
    /// The oldest seq entered and still held (UInt64.max while empty): a read of older records —
    /// a replay, an informer catching up — skips the lock. Records enter in seq order; one that
    /// entered out of order may be missed, which costs a decode, never a wrong answer.
    let floor = Atomic<UInt64>(.max)

    init(capacity: Int) { self.capacity = capacity }

    func get(_ seq: UInt64) -> EventRecord? {
        guard seq >= floor.load(ordering: .relaxed) else { return nil }
        return state.withLock { $0.records[seq] }
    }

    func insert(_ records: [EventRecord]) {
        guard capacity > 0, !records.isEmpty else { return }
        state.withLock { s in
            for record in records where s.records.updateValue(record, forKey: record.seq) == nil {
                if s.ring.count < capacity {
                    s.ring.append(record.seq)
                } else {
                    s.records[s.ring[s.next]] = nil
                    s.ring[s.next] = record.seq
                    s.next = (s.next + 1) % capacity
                }
            }
            // The oldest entry is the next to be replaced (or the first, until the ring is full).
            let oldest = s.ring.count < capacity ? (s.ring.first ?? .max) : s.ring[s.next]
            floor.store(oldest, ordering: .relaxed)
        }
    }
}
