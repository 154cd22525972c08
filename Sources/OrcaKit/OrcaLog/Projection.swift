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
        guard seq > 0 else { return state }
        try log.scan { batch in
            for record in batch {
                if record.seq > seq { return false }
                if record.type == .deleted { state[record.key] = nil } else { state[record.key] = record }
            }
            return true
        }
        return state
    }
}
