/// An error from the event log, with a message that says what happened and what to do.
public struct LogError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong, coarsely; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }
        /// The path is not an Orca data directory (foreign files, or an LMDB file of another program).
        public static let notAnOrcaLog = Code(raw: "notAnOrcaLog")
        /// The data directory does not exist.
        public static let notFound = Code(raw: "notFound")
        /// The log was written by a newer Orca.
        public static let newerFormat = Code(raw: "newerFormat")
        /// The file is damaged: truncated, or with invalid structure or records.
        public static let corrupt = Code(raw: "corrupt")
        /// An operating-system or LMDB failure (permissions, disk full…).
        public static let io = Code(raw: "io")
        /// The log is closed.
        public static let closed = Code(raw: "closed")
    }

    public var code: Code
    public var message: String
    public var path: String?

    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    public var description: String { message }
}
