import Dispatch
import Synchronization

extension EventLog {
    /// Reads the records from `from` on, batch by batch, calling `body` with each batch until it
    /// returns false or the log ends. While `body` works on one batch, the next is read (and
    /// checked) on another thread: a replay, an export or a fold over a long log keeps two cores
    /// busy. The batches are exactly those that reading one after the other would give (see
    /// ``ReadAhead``), and no read outlives the call.
    public func scan(from: UInt64 = 1, batchSize: Int = 4096,
                     _ body: ([EventRecord]) -> Bool) throws(LogError) {
        var ahead: ReadAhead?
        defer { _ = try? ahead?.wait() }
        var next = max(from, 1)
        while true {
            let records = try ReadAhead.read(self, from: next, limit: batchSize, ahead: &ahead)
            guard let last = records.last, body(records) else { return }
            next = last.seq + 1
        }
    }
}

/// A read of a log's next batch, running on a global dispatch queue while the caller works on the
/// current one (``EventLog/scan(from:batchSize:_:)``, `SharedInformers.deliverAll()`).
///
/// Its records are used only when the read began at the seq the caller now needs, with the same
/// limit, and came back full: the log's committed records never change, so that is exactly what
/// reading then would return. A short read (the end of the log, records a test log dropped) may
/// not be, and a failed one is not: both are read again by the caller.
package final class ReadAhead: Sendable {
    package let from: UInt64
    package let limit: Int
    let result = Mutex<Result<[EventRecord], LogError>?>(nil)
    let done = DispatchSemaphore(value: 0)

    package init(log: any EventLog, from: UInt64, limit: Int) {
        self.from = from
        self.limit = limit
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            let records = Result { () throws(LogError) in try log.read(from: from, limit: limit) }
            result.withLock { $0 = records }
            done.signal()
        }
    }

    /// Reads `limit` records from `from`: the records of `ahead` when they are exactly that
    /// (``fullBatch(from:limit:)``), else from `log`. `ahead` is waited for and cleared either
    /// way; with `readingAhead`, a full batch starts the read of the next one in it.
    package static func read(_ log: any EventLog, from: UInt64, limit: Int, ahead: inout ReadAhead?,
                             readingAhead: Bool = true) throws(LogError) -> [EventRecord] {
        let early = ahead?.fullBatch(from: from, limit: limit)
        ahead = nil
        let records: [EventRecord]
        if let early { records = early } else { records = try log.read(from: from, limit: limit) }
        if readingAhead, records.count == limit, let last = records.last {
            ahead = ReadAhead(log: log, from: last.seq + 1, limit: limit)
        }
        return records
    }

    /// Waits for the read; its records, or its error.
    package func wait() throws(LogError) -> [EventRecord]? {
        done.wait()
        done.signal()  // a second wait returns at once
        return try result.withLock { $0 }?.get()
    }

    /// Waits for the read, and returns its records if they are what reading `limit` records from
    /// `from` now would return (see the type's description); nil when they must be read again.
    func fullBatch(from: UInt64, limit: Int) -> [EventRecord]? {
        let records = try? wait()
        guard self.from == from, self.limit == limit, let records, records.count == limit else { return nil }
        return records
    }
}
