public import OrcaLog

/// A recorded history that can be read from its first entry more than once, a batch at a time:
/// what a re-run reads in passes without holding the whole history in memory.
public protocol HistorySource: Sendable {
    /// A reader positioned before the first entry.
    func makeReader() throws -> any HistoryReader
}

/// Reads a ``HistorySource`` forwards.
public protocol HistoryReader {
    /// The next entries, in order; nil at the end.
    mutating func next() throws -> [History.Entry]?
}

extension History {
    /// Entries already in memory.
    public struct InMemory: HistorySource {
        public let entries: [Entry]
        public init(_ entries: [Entry]) { self.entries = entries }

        public func makeReader() -> any HistoryReader { Reader(entries: entries) }

        struct Reader: HistoryReader {
            let entries: [Entry]
            var offset = 0
            mutating func next() -> [Entry]? {
                guard offset < entries.count else { return nil }
                let end = min(offset + 1024, entries.count)
                defer { offset = end }
                return Array(entries[offset..<end])
            }
        }
    }

    /// The records of an Orca log as entries (``Entry/init(record:)``), 1,024 at a time.
    public struct FromLog: HistorySource {
        public let log: any EventLog
        public init(_ log: any EventLog) { self.log = log }

        public func makeReader() -> any HistoryReader { Reader(log: log) }

        struct Reader: HistoryReader {
            let log: any EventLog
            var position: UInt64 = 1
            mutating func next() throws -> [Entry]? {
                let records = try log.read(from: position, limit: 1024)
                guard let last = records.last else { return nil }
                position = last.seq + 1
                return records.map(Entry.init(record:))
            }
        }
    }
}
