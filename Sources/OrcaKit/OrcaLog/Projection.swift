public import OrcaAPI

/// The state a sequence of records leads to: the latest record of every live object.
public enum EventLogProjection {
    /// Folds records in order: ADDED/MODIFIED set the object's latest record, DELETED removes it.
    public static func fold(_ records: some Sequence<EventRecord>) -> [ObjectKey: EventRecord] {
        var state: [ObjectKey: EventRecord] = [:]
        for record in records {
            if record.type == .deleted { state[record.key] = nil } else { state[record.key] = record }
        }
        return state
    }

    /// The state of `log` as of `seq` (inclusive), from the records alone.
    public static func state(of log: any EventLog, atSeq seq: UInt64) throws(LogError) -> [ObjectKey: EventRecord] {
        var state: [ObjectKey: EventRecord] = [:]
        var next: UInt64 = 1
        while next <= seq {
            let batch = try log.read(from: next, limit: 4096)
            guard let lastRecord = batch.last else { break }
            for record in batch where record.seq <= seq {
                if record.type == .deleted { state[record.key] = nil } else { state[record.key] = record }
            }
            next = lastRecord.seq + 1
        }
        return state
    }
}
