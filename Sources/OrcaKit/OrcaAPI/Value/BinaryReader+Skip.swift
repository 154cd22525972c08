/// Checking an encoded value without building it, and reading one field of it: what a log read
/// does for every record (``BinaryReader/skipJSONValue(table:)``) and what a field read of a
/// record still encoded does (``BinaryReader/readJSONValue(at:table:)``).
extension BinaryReader {
    /// Steps over one value, checking it exactly as ``readJSONValue()`` would (tags, lengths,
    /// dictionary entries, UTF-8, nesting, tag 9 only inside a record) without building it: no
    /// allocation for ASCII strings. After it succeeds, decoding the same bytes cannot fail.
    public mutating func skipJSONValue() throws(BinaryDecodingError) {
        var unused: MemberTable?
        try skipJSONValue(table: &unused)
    }

    /// ``skipJSONValue()``, also filling `table` with where the members of the value (an
    /// object) and of its object members start, so that ``readJSONValue(at:table:)`` can jump.
    public mutating func skipJSONValue(table: inout MemberTable?) throws(BinaryDecodingError) {
        if let base = bytes.baseAddress {
            var walker = FastWalker(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count, offset: offset,
                                    allowsRecordSeq: recordSeq != nil)
            let start = offset
            let isObject = walker.offset < walker.count && walker.base[walker.offset] == 7
            let ok: Bool
            if isObject {
                // The entries are gathered on the stack and kept at their exact count: a cached
                // record holds its table as long as it holds its bytes.
                ok = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 96) { scratch -> Bool in
                    var entries = EntryBuffer(scratch: scratch)
                    guard walker.skipRecording(into: &entries, origin: start) else { return false }
                    table = entries.table()
                    return true
                }
            } else {
                ok = walker.skipValue(depth: 0)
            }
            if ok {
                offset = walker.offset
                return
            }
        }
        // The walk found a fault; decoding checks the same things and names it.
        let start = offset
        _ = try readValue(depth: 0)
        throw BinaryDecodingError(message: "internal error: the value at byte \(start) was refused by the check but decodes", offset: start)
    }

    /// Decodes only the value at `path` (object keys from the value at the cursor), stepping
    /// over every member that is not on the path; nil when a step is missing or not an object.
    /// The bytes are expected to have been checked with ``skipJSONValue()``.
    public mutating func readJSONValue(at path: [String]) throws(BinaryDecodingError) -> JSONValue? {
        try readJSONValue(at: path[...], table: nil)
    }

    /// ``readJSONValue(at:)`` for the value whose ``skipJSONValue(table:)`` filled `table`
    /// (the cursor at its start): the first one or two steps of the path are looked up there.
    public mutating func readJSONValue(at path: [String], table: MemberTable?) throws(BinaryDecodingError) -> JSONValue? {
        try readJSONValue(at: path[...], table: table)
    }

    mutating func readJSONValue(at path: ArraySlice<String>, table: MemberTable?) throws(BinaryDecodingError) -> JSONValue? {
        guard try seek(path, table: table) else { return nil }
        return try readValue(depth: 0)
    }

    /// For the array at `path`, calls `body(element, field, value)` for each of `fields` that
    /// an element (an object) holds, element by element (`field` indexes `fields`; a repeated key
    /// counts once, the first, as in ``JSONObject``), after telling `elements` how many there
    /// are. Returns false when the path is missing or not an array. Nothing but those values is
    /// decoded and nothing is allocated for the walk: how the owner indexes read the controller
    /// flag and UID of every owner reference of every object they file.
    public mutating func forEachElement(at path: ArraySlice<String>, fields: ElementFields, table: MemberTable?,
                                        _ body: (_ element: Int, _ field: Int, _ value: JSONValue) -> Void,
                                        elements: (Int) -> Void = { _ in }) throws(BinaryDecodingError) -> Bool {
        guard try seek(path, table: table) else { return false }
        guard let base = bytes.baseAddress else { throw error("unexpected end of data") }
        guard offset < bytes.count, base.load(fromByteOffset: offset, as: UInt8.self) == 6 else { return false }
        offset += 1
        let n = try readLength()
        elements(n)
        for element in 0..<n {
            guard offset < bytes.count else { throw error("unexpected end of data") }
            guard base.load(fromByteOffset: offset, as: UInt8.self) == 7 else {
                try skip(depth: 1)
                continue
            }
            offset += 1
            let m = try readLength()
            var seen: UInt64 = 0  // the fields met in this element (beyond 64 fields: in `seenMore`)
            var seenMore = fields.names.count > 64 ? [Bool](repeating: false, count: fields.names.count) : []
            for _ in 0..<m {
                let k = try readVarint()
                var slot: Int?
                if k & 1 == 0 {
                    slot = fields.indexes.firstIndex { $0 == k >> 1 }
                } else {
                    let len = Int(k >> 1)
                    guard len <= bytes.count - offset else { throw error("key exceeds the remaining data") }
                    let key = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + len)])
                    slot = fields.names.firstIndex { $0.utf8.elementsEqual(key) }
                    offset += len
                }
                let first: Bool
                if let slot {
                    first = slot < 64 ? seen & (1 << slot) == 0 : !seenMore[slot]
                    if slot < 64 { seen |= 1 << slot } else { seenMore[slot] = true }
                } else {
                    first = false
                }
                if let slot, first {
                    body(element, slot, try readValue(depth: 2))
                } else {
                    try skip(depth: 2)
                }
            }
        }
        return true
    }

    /// Steps over one value with the check walk; a value it refuses is an error here.
    mutating func skip(depth: Int) throws(BinaryDecodingError) {
        guard let base = bytes.baseAddress else { throw error("unexpected end of data") }
        var walker = FastWalker(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count, offset: offset,
                                allowsRecordSeq: recordSeq != nil)
        guard walker.skipValue(depth: depth) else { throw error("malformed value") }
        offset = walker.offset
    }

    /// Moves the cursor to the value at `path` (object keys from the value at the cursor); false
    /// when a step is missing or not an object.
    mutating func seek(_ path: ArraySlice<String>, table: MemberTable?) throws(BinaryDecodingError) -> Bool {
        var path = path
        if let table, let first = path.first {
            switch table.lookup(first, path.dropFirst().first) {
            case .absent:
                return false
            case .at(let relative, let steps):
                offset += relative
                path = path.dropFirst(steps)
            case .unknown:
                break
            }
        }
        guard let base = bytes.baseAddress else { throw error("unexpected end of data") }
        var walker = FastWalker(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count, offset: offset,
                                allowsRecordSeq: recordSeq != nil)
        for component in path {
            guard walker.offset < walker.count else { throw error("unexpected end of data") }
            guard walker.base[walker.offset] == 7 else { return false }
            walker.offset += 1
            guard let n = walker.varint() else { throw error("malformed object") }
            let wanted = BinaryCodec.dictionaryIndex.index(of: component).map { UInt64($0) }
            let wantedCount = component.utf8.count
            var found = false
            for _ in 0..<n {
                guard let k = walker.varint() else { throw error("malformed key") }
                if k & 1 == 0 {
                    if k >> 1 == wanted { found = true; break }
                } else {
                    let len = Int(k >> 1)
                    guard len <= walker.count - walker.offset else { throw error("key exceeds the remaining data") }
                    let match = len == wantedCount
                        && component.utf8.elementsEqual(UnsafeBufferPointer(start: walker.base + walker.offset, count: len))
                    walker.offset += len
                    if match { found = true; break }
                }
                guard walker.skipValue(depth: 1) else { throw error("malformed value") }
            }
            guard found else { return false }
        }
        offset = walker.offset
        return true
    }
}

/// The walk behind ``BinaryReader/skipJSONValue(table:)``: the checks of decoding, answered as a
/// Bool with the cursor in a register (a log read walks every object once, so this is hot).
struct FastWalker {
    let base: UnsafePointer<UInt8>
    let count: Int
    var offset: Int
    let allowsRecordSeq: Bool

    @inline(__always)
    mutating func varint() -> UInt64? {
        guard offset < count else { return nil }
        let first = base[offset]
        offset += 1
        if first < 0x80 { return UInt64(first) }
        var result = UInt64(first & 0x7F)
        var shift: UInt64 = 7
        while offset < count {
            let b = base[offset]
            offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift >= 64 { return nil }
        }
        return nil
    }

    /// Steps over `n` bytes that must be valid UTF-8.
    @inline(__always)
    mutating func text(_ n: UInt64) -> Bool {
        guard n <= UInt64(count - offset) else { return false }
        let n = Int(n)
        var i = 0
        var acc: UInt64 = 0
        let raw = UnsafeRawPointer(base + offset)
        while i + 8 <= n {
            acc |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        if i < n {
            if n >= 8 {
                // The last 8 bytes, overlapping what was read.
                acc |= raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            } else if count - offset >= 8 {
                // Fewer than 8 bytes, with 8 in the buffer: one load, the bytes past the string masked off.
                acc |= raw.loadUnaligned(as: UInt64.self) & (UInt64.max >> (64 - 8 * UInt64(n)))
            } else {
                while i < n {
                    acc |= UInt64(base[offset + i])
                    i += 1
                }
            }
        }
        if acc & 0x8080_8080_8080_8080 != 0,
           String(validating: UnsafeBufferPointer(start: base + offset, count: n), as: UTF8.self) == nil {
            return false
        }
        offset += n
        return true
    }

    /// Steps over one value nested `depth` levels deep. Iterative: the containers being walked
    /// are counted down on a small stack rather than by recursion (a Pod has some 150 values; a
    /// call per value cost about a fifth of the walk, `orca-bench walk`). What nests deeper than
    /// the stack holds is walked by ``skipNested(depth:)``.
    mutating func skipValue(depth: Int) -> Bool {
        let start = self
        // Per open container: items still to walk << 1 | 1 for an object (whose items are members).
        let (ok, end) = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Self.stackDepth) { stack -> (Bool, Int) in
            var walker = start  // a local the closure does not capture: the cursor stays in a register
            let ok = walker.skipValue(depth: depth, stack: stack)
            return (ok, walker.offset)
        }
        offset = end
        return ok
    }

    static let stackDepth = 32

    @inline(__always)
    private mutating func skipValue(depth: Int, stack: UnsafeMutableBufferPointer<UInt64>) -> Bool {
        let dictionaryCount = UInt64(BinaryCodec.dictionary.count)
        var top = -1  // the open container on top of the stack; -1: only the value itself
        while true {
            if top >= 0 {
                // The next item of the innermost open container, or close it.
                let frame = stack[top]
                if frame >> 1 == 0 {
                    top -= 1
                    if top < 0 { return true }
                    continue
                }
                stack[top] = frame &- 2
                if frame & 1 == 1 {
                    guard let k = smallVarint(), key(k, dictionaryCount: dictionaryCount) else { return false }
                }
            }
            let level = depth + top + 1
            guard level < 512, offset < count else { return false }
            let tagAt = offset
            let tag = base[offset]
            offset += 1
            switch tag {
            case 8:
                guard let i = smallVarint(), i < dictionaryCount else { return false }
            case 5:
                guard let n = smallVarint(), text(n) else { return false }
            case 6, 7:
                guard let n = smallVarint(), n <= UInt64(count - offset) else { return false }
                if n == 0 { break }
                if top + 1 < stack.count {
                    top += 1
                    stack[top] = n << 1 | UInt64(tag & 1)
                } else {
                    // Out of stack: this container by recursion.
                    offset = tagAt
                    guard skipNested(depth: level) else { return false }
                }
            case 0, 1, 2: break
            case 3: guard varint() != nil else { return false }
            case 4:
                guard count - offset >= 8 else { return false }
                offset += 8
            case 9: guard allowsRecordSeq else { return false }
            default: return false
            }
            if top < 0 { return true }
        }
    }

    /// Steps over the rest of an object member's key whose varint `k` was read: a dictionary
    /// index (even) that must exist, or the length (odd) of UTF-8 bytes that follow.
    @inline(__always)
    mutating func key(_ k: UInt64, dictionaryCount: UInt64) -> Bool {
        k & 1 == 0 ? k >> 1 < dictionaryCount : text(k >> 1)
    }

    /// A varint whose first byte usually ends it (lengths, counts, dictionary indexes).
    @inline(__always)
    mutating func smallVarint() -> UInt64? {
        if offset < count, base[offset] < 0x80 {
            offset += 1
            return UInt64(base[offset - 1])
        }
        return varint()
    }

    /// The walk by recursion, one call per value: for what nests deeper than the iterative walk's
    /// stack (the cursor on the value's tag).
    mutating func skipNested(depth: Int) -> Bool {
        guard depth < 512, offset < count else { return false }
        let tag = base[offset]
        offset += 1
        let dictionaryCount = UInt64(BinaryCodec.dictionary.count)
        switch tag {
        case 6:
            guard let n = varint(), n <= UInt64(count - offset) else { return false }
            for _ in 0..<n where !skipValue(depth: depth + 1) { return false }
            return true
        case 7:
            guard let n = varint(), n <= UInt64(count - offset) else { return false }
            for _ in 0..<n {
                guard let k = varint(), key(k, dictionaryCount: dictionaryCount), skipValue(depth: depth + 1) else { return false }
            }
            return true
        default:
            offset -= 1
            return skipValue(depth: depth)
        }
    }
}

extension FastWalker {
    /// Steps over an object (the cursor on its tag 7), noting where each member's value starts
    /// and, for members that are objects, where each of their members' values starts.
    mutating func skipRecording(into table: inout EntryBuffer, origin: Int) -> Bool {
        let dictionaryCount = UInt64(BinaryCodec.dictionary.count)
        offset += 1
        guard let n = varint(), n <= UInt64(count - offset) else { return false }
        for _ in 0..<n {
            guard let k = varint() else { return false }
            var outer: UInt64?
            if k & 1 == 0 {
                guard k >> 1 < dictionaryCount else { return false }
                outer = k >> 1
            } else {
                table.complete = false
                guard text(k >> 1) else { return false }
            }
            if let outer, table.contains(where: { $0 >> 48 == outer && ($0 >> 32) & 0xFFFF >= MemberTable.object }) {
                table.ambiguous = true  // a repeated key: lookups fall back to walking
            }
            guard let outer, offset < count, base[offset] == 7 else {
                if let outer { table.add(outer, MemberTable.none, offset - origin) }
                guard skipValue(depth: 1) else { return false }
                continue
            }
            table.add(outer, MemberTable.object, offset - origin)
            offset += 1
            guard let m = varint(), m <= UInt64(count - offset) else { return false }
            for _ in 0..<m {
                guard let k2 = varint() else { return false }
                if k2 & 1 == 0 {
                    guard k2 >> 1 < dictionaryCount else { return false }
                    table.add(outer, k2 >> 1, offset - origin)
                } else {
                    table.complete = false
                    guard text(k2 >> 1) else { return false }
                }
                guard skipValue(depth: 2) else { return false }
            }
        }
        return true
    }
}

/// Field names for ``BinaryReader/forEachElement(at:fields:table:_:elements:)``, with their
/// dictionary entries looked up once.
public struct ElementFields: Sendable {
    public let names: [String]
    let indexes: [UInt64?]

    public init(_ names: [String]) {
        self.names = names
        indexes = names.map { BinaryCodec.dictionaryIndex.index(of: $0).map { UInt64($0) } }
    }
}
