/// The records of a log after a given seq, as an async sequence that waits for new ones.
///
/// Guarantees: every record with seq > the starting seq is delivered exactly once, in seq
/// order, with nothing skipped — including records appended by other processes to the same
/// on-disk log, and across a restart (start a new watch from the last seq seen). The sequence
/// ends only when the consuming task is cancelled; a read failure is thrown.
public struct LogWatch: AsyncSequence, Sendable {
    public typealias Element = EventRecord
    let log: any EventLog
    let after: UInt64
    /// Records read per batch.
    public var batchSize = 512

    init(log: any EventLog, after: UInt64) {
        self.log = log
        self.after = after
    }

    public func makeAsyncIterator() -> Iterator { Iterator(log: log, last: after, batchSize: batchSize) }

    public struct Iterator: AsyncIteratorProtocol {
        let log: any EventLog
        var last: UInt64
        let batchSize: Int
        var buffer: [EventRecord] = []
        var position = 0

        public mutating func next() async throws -> EventRecord? {
            while true {
                if position < buffer.count {
                    let record = buffer[position]
                    position += 1
                    last = record.seq
                    return record
                }
                if Task.isCancelled { return nil }
                buffer = try log.read(from: last + 1, limit: batchSize)
                position = 0
                if buffer.isEmpty { await log.waitForAppend(after: last) }
            }
        }
    }
}
