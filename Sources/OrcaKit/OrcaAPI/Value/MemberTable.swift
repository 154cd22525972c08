/// The member table of an encoded object: where its members, and its object members' members,
/// start — built by the check walk of records of versions 1 and 2, stored in records of version 3
/// (``MemberTable/write(_:into:)``), used by path reads to jump instead of stepping over values.

/// A ``MemberTable``'s entries while the object is walked: in a stack buffer, then in `overflow`.
struct EntryBuffer {
    let scratch: UnsafeMutableBufferPointer<UInt64>
    var count = 0
    var overflow: [UInt64] = []
    var complete = true
    var ambiguous = false

    init(scratch: UnsafeMutableBufferPointer<UInt64>) { self.scratch = scratch }

    @inline(__always)
    mutating func add(_ outer: UInt64, _ inner: UInt64, _ offset: Int) {
        let entry = outer << 48 | inner << 32 | UInt64(truncatingIfNeeded: offset)
        if count < scratch.count {
            scratch[count] = entry
            count += 1
        } else {
            overflow.append(entry)
        }
    }

    func contains(where predicate: (UInt64) -> Bool) -> Bool {
        for i in 0..<count where predicate(scratch[i]) { return true }
        return overflow.contains(where: predicate)
    }

    /// The table, its entries in one array of their exact count.
    func table() -> MemberTable {
        var table = MemberTable()
        table.entries.reserveCapacity(count + overflow.count)
        table.entries.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<count]))
        table.entries.append(contentsOf: overflow)
        table.complete = complete
        table.ambiguous = ambiguous
        return table
    }
}

/// Where the members of an encoded object start (two levels deep, dictionary keys only), found
/// while the object is checked: a path read jumps to `metadata.labels` or `spec.nodeName`
/// instead of stepping over everything before it.
public struct MemberTable: Sendable, Equatable {
    /// The inner key of an outer member's own entry: `none` for a value that is not an object,
    /// `object` for an object, whose members have entries of their own.
    static let none: UInt64 = 0xFFFF
    static let object: UInt64 = 0xFFFE
    /// `outer key << 48 | inner key (or none / object) << 32 | offset`, keys as dictionary
    /// indexes, offsets from the object's tag, in encoding order.
    var entries: [UInt64] = []
    /// Every key at both levels is a dictionary key, so a key missing here is missing.
    var complete = true
    /// A key repeated at the top level: the table is not used.
    var ambiguous = false

    @inline(__always)
    mutating func add(_ outer: UInt64, _ inner: UInt64, _ offset: Int) {
        entries.append(outer << 48 | inner << 32 | UInt64(truncatingIfNeeded: offset))
    }

    /// Writes the table as a log record (version 3) stores it: `u8 flags` (1 present, 2 complete,
    /// 4 ambiguous), `varint count`, then per entry `varint outer · varint inner · varint offset
    /// delta`, where inner is 0 for ``none``, 1 for ``object`` and a key's index + 2 otherwise,
    /// and each offset is stored as its distance from the entry before's (they only grow).
    /// nil (the value is not an object) is written as flags 0 and count 0.
    package static func write(_ table: MemberTable?, into out: inout [UInt8]) {
        guard let table else {
            out.append(0)
            out.append(0)
            return
        }
        out.append(1 | (table.complete ? 2 : 0) | (table.ambiguous ? 4 : 0))
        BinaryCodec.writeVarint(UInt64(table.entries.count), into: &out)
        var previous: UInt64 = 0
        for entry in table.entries {
            let inner = (entry >> 32) & 0xFFFF
            let offset = entry & 0xFFFF_FFFF
            BinaryCodec.writeVarint(entry >> 48, into: &out)
            BinaryCodec.writeVarint(inner == none ? 0 : inner == object ? 1 : inner + 2, into: &out)
            BinaryCodec.writeVarint(offset &- previous, into: &out)
            previous = offset
        }
    }

    /// Reads a table written by ``write(_:into:)``; its offsets are checked against
    /// `objectLength` by ``fits(objectLength:)`` once the object's extent is known.
    package static func read(from reader: inout BinaryReader) throws(BinaryDecodingError) -> MemberTable? {
        let flags = try reader.readByte()
        let n = try reader.readVarint()
        guard flags & ~7 == 0, n <= UInt64(reader.bytes.count - reader.offset) else {
            throw BinaryDecodingError(message: "malformed member table", offset: reader.offset)
        }
        guard flags & 1 == 1 else {
            guard n == 0 else { throw BinaryDecodingError(message: "malformed member table", offset: reader.offset) }
            return nil
        }
        var table = MemberTable()
        table.complete = flags & 2 != 0
        table.ambiguous = flags & 4 != 0
        guard let base = reader.bytes.baseAddress else { throw BinaryDecodingError(message: "unexpected end of data", offset: reader.offset) }
        // Three varints per entry, read in place (most are one byte): a read of every record
        // does this, so it stays out of the general reader's calls.
        var walker = FastWalker(base: base.assumingMemoryBound(to: UInt8.self), count: reader.bytes.count, offset: reader.offset,
                                allowsRecordSeq: false)
        var offset: UInt64 = 0
        var failed = false
        table.entries = [UInt64](unsafeUninitializedCapacity: Int(n)) { buffer, initialized in
            for i in 0..<Int(n) {
                guard let outer = walker.smallVarint(), let code = walker.smallVarint(), let delta = walker.smallVarint(),
                      outer < object, code < object, delta <= 0xFFFF_FFFF - offset else {
                    failed = true
                    return
                }
                let inner = code == 0 ? none : code == 1 ? object : code &- 2
                offset += delta
                buffer[i] = outer << 48 | inner << 32 | offset
                initialized = i + 1
            }
        }
        guard !failed else { throw BinaryDecodingError(message: "malformed member table entry", offset: walker.offset) }
        reader.offset = walker.offset
        return table
    }

    /// Whether every offset lies inside an object of `objectLength` bytes.
    package func fits(objectLength: Int) -> Bool {
        entries.allSatisfy { Int($0 & 0xFFFF_FFFF) < objectLength }
    }

    enum Lookup {
        case absent
        /// The value of the first `steps` path components starts `offset` bytes after the object's.
        case at(offset: Int, steps: Int)
        case unknown
    }

    func lookup(_ first: String, _ second: String?) -> Lookup {
        if ambiguous { return .unknown }
        guard let a = BinaryCodec.dictionaryIndex.index(of: first).map({ UInt64($0) }) else {
            return complete ? .absent : .unknown
        }
        guard let position = entries.firstIndex(where: { $0 >> 48 == a && ($0 >> 32) & 0xFFFF >= Self.object }) else {
            return complete ? .absent : .unknown
        }
        let outer = entries[position]
        let outerOffset = Int(outer & 0xFFFF_FFFF)
        guard let second, (outer >> 32) & 0xFFFF == Self.object else { return .at(offset: outerOffset, steps: 1) }
        guard let b = BinaryCodec.dictionaryIndex.index(of: second).map({ UInt64($0) }) else {
            return complete ? .absent : .at(offset: outerOffset, steps: 1)
        }
        // The member's own members follow its entry, in encoding order, up to the next member.
        var i = position + 1
        while i < entries.count, entries[i] >> 48 == a, (entries[i] >> 32) & 0xFFFF < Self.object {
            if (entries[i] >> 32) & 0xFFFF == b { return .at(offset: Int(entries[i] & 0xFFFF_FFFF), steps: 2) }
            i += 1
        }
        return complete ? .absent : .at(offset: outerOffset, steps: 1)
    }
}
