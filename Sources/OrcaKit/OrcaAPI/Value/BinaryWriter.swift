internal import COrcaHints

/// The encoder of ``BinaryCodec``: writes a ``JSONValue`` into a growable raw buffer.
///
/// Appending byte by byte to an `[UInt8]` checks capacity and uniqueness on every call; this
/// writer reserves room once per item, reads object keys in place and finds dictionary strings by
/// their words (``SmallStrings``), which made encoding (on the append path of every write) about
/// twice as cheap (Benchmarks.md (a)). The bytes produced are exactly the layout ``BinaryCodec``
/// documents.
struct BinaryWriter: ~Copyable {
    private var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private var capacity: Int
    private let table: StringIndexTable
    /// The table's small-string part, held here as a plain value: looking a string up touches
    /// no reference count.
    private let small: SmallStrings?

    init(capacity: Int = 2048) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: 8)
        table = BinaryCodec.dictionaryIndex
        small = table.smallStrings
    }

    deinit { base.deallocate() }

    /// Appends the bytes written so far to `out`.
    func copy(into out: inout [UInt8]) {
        out.reserveCapacity(out.count + count)
        out.append(contentsOf: UnsafeRawBufferPointer(start: base, count: count))
    }

    @inline(__always)
    private mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(n) }
    }

    @inline(never)
    private mutating func grow(_ n: Int) {
        let newCapacity = max(capacity * 2, count + n)
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        reserve(1)
        base.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        reserve(10)
        var v = value
        while v >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: count, as: UInt8.self)
            count += 1
            v >>= 7
        }
        base.storeBytes(of: UInt8(v), toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    private mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let p = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).copyMemory(from: p, byteCount: bytes.count)
        count += bytes.count
    }

    /// Runs `body` over the UTF-8 bytes of `s` (in place for native strings).
    @inline(__always)
    private static func withUTF8<R>(_ s: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let r = s.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return r }
        return Array(s.utf8).withUnsafeBytes(body)
    }

    /// The dictionary index of `s`, or nil.
    @inline(__always)
    private func index(of s: String) -> Int? { SmallStrings.index(of: s, small: small, table: table) }

    /// An object member's key: a dictionary index (even) or an inline string (odd).
    mutating func key(_ key: String) {
        if let i = index(of: key) {
            varint(UInt64(i) << 1)
        } else {
            inlineKey(key)
        }
    }

    /// A key outside the dictionary: its length (odd) and UTF-8 bytes.
    mutating func inlineKey(_ key: String) {
        Self.withUTF8(key) { bytes in
            varint(UInt64(bytes.count) << 1 | 1)
            raw(bytes)
        }
    }

    mutating func string(_ s: String) {
        if let i = index(of: s) {
            byte(8)
            varint(UInt64(i))
            return
        }
        Self.withUTF8(s) { bytes in
            byte(5)
            varint(UInt64(bytes.count))
            raw(bytes)
        }
    }

    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: byte(0)
        case .bool(let b): byte(b ? 2 : 1)
        case .int(let i):
            byte(3)
            varint(UInt64(bitPattern: (i << 1) ^ (i >> 63)))
        case .double(let d):
            byte(4)
            reserve(8)
            base.storeBytes(of: d.bitPattern.littleEndian, toByteOffset: count, as: UInt64.self)
            count += 8
        case .string(let s):
            string(s)
        case .array(let items):
            byte(6)
            varint(UInt64(items.count))
            items.withUnsafeBufferPointer { buffer in
                if let base = buffer.baseAddress {
                    Prefetch.children(UnsafeRawPointer(base), count: buffer.count, stride: MemoryLayout<JSONValue>.stride, valueOffset: 0)
                }
                for i in buffer.indices { self.value(buffer[i]) }
            }
        case .object(let object):
            members(object)
        }
    }

    mutating func members(_ object: JSONObject) {
        byte(7)
        varint(UInt64(object.count))
        object.entries.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            Prefetch.children(UnsafeRawPointer(base), count: buffer.count, stride: Prefetch.entryStride, valueOffset: Prefetch.entryValueOffset)
            for i in buffer.indices {
                key(of: base + i)
                value(buffer[i].value)
            }
        }
    }

    /// Writes the key of `entry`. A small key is looked up from the entry's words (its first
    /// field) without a copy of the String; only a key outside the small form takes the general path.
    @inline(__always)
    private mutating func key(of entry: UnsafePointer<(key: String, value: JSONValue)>) {
        _ = keyIndex(of: entry)
    }

    /// ``key(of:)``, returning the key's dictionary index (nil for a key written inline).
    @inline(__always)
    private mutating func keyIndex(of entry: UnsafePointer<(key: String, value: JSONValue)>) -> Int? {
        switch small?.lookup(words: UnsafeRawPointer(entry).load(as: (UInt64, UInt64).self)) {
        case .found(let index):
            varint(UInt64(index) << 1)
            return index
        case .absent:
            inlineKey(entry.pointee.key)
            return nil
        case .notSmall, nil:
            if let i = index(of: entry.pointee.key) {
                varint(UInt64(i) << 1)
                return i
            }
            inlineKey(entry.pointee.key)
            return nil
        }
    }

    /// A log record's object: written as ``value(_:)`` writes it (or, with `stamping`, as
    /// ``valueStampingResourceVersion(_:)`` does), returning the ``MemberTable`` the check walk
    /// builds when it reads these bytes (`FastWalker.skipRecording`; nil when the value is not an
    /// object), so that a record stores its table and a read need not walk the object to build it.
    mutating func recordObject(_ value: JSONValue, stamping: Bool) -> MemberTable? {
        guard case .object(let root) = value else {
            self.value(value)
            return nil
        }
        // Stamping applies to `metadata` when it is an object.
        var metadataPosition: Int?
        if stamping, let i = root.index(of: "metadata"), case .object = root.entries[i].value { metadataPosition = i }
        var table = MemberTable()
        let origin = count
        byte(7)
        varint(UInt64(root.count))
        root.entries.withUnsafeBufferPointer { buffer in
            guard let rootBase = buffer.baseAddress else { return }
            Prefetch.children(UnsafeRawPointer(rootBase), count: buffer.count, stride: Prefetch.entryStride, valueOffset: Prefetch.entryValueOffset)
            for i in buffer.indices {
                guard let outer = keyIndex(of: rootBase + i).map({ UInt64($0) }) else {
                    table.complete = false
                    self.value(buffer[i].value)
                    continue
                }
                if table.entries.contains(where: { $0 >> 48 == outer && ($0 >> 32) & 0xFFFF >= MemberTable.object }) {
                    table.ambiguous = true
                }
                guard case .object(let child) = buffer[i].value else {
                    table.add(outer, MemberTable.none, count - origin)
                    self.value(buffer[i].value)
                    continue
                }
                table.add(outer, MemberTable.object, count - origin)
                let stampHere = i == metadataPosition
                let addsVersion = stampHere && child["resourceVersion"] == nil
                byte(7)
                varint(UInt64(child.count + (addsVersion ? 1 : 0)))
                child.entries.withUnsafeBufferPointer { fields in
                    guard let fieldsBase = fields.baseAddress else { return }
                    Prefetch.children(UnsafeRawPointer(fieldsBase), count: fields.count, stride: Prefetch.entryStride,
                                      valueOffset: Prefetch.entryValueOffset)
                    for j in fields.indices {
                        if let inner = keyIndex(of: fieldsBase + j) {
                            table.add(outer, UInt64(inner), count - origin)
                        } else {
                            table.complete = false
                        }
                        if stampHere && fields[j].key == "resourceVersion" { byte(9) } else { self.value(fields[j].value) }
                    }
                }
                if addsVersion {
                    if let inner = index(of: "resourceVersion") {
                        varint(UInt64(inner) << 1)
                        table.add(outer, UInt64(inner), count - origin)
                    } else {
                        inlineKey("resourceVersion")
                        table.complete = false
                    }
                    byte(9)
                }
            }
        }
        return table
    }

    /// ``BinaryCodec/encodeStampingResourceVersion(_:into:)``'s layout: `metadata.resourceVersion`
    /// as tag 9 (appended at the end of `metadata` when absent); the record encoder's walk, its
    /// table unused.
    mutating func valueStampingResourceVersion(_ value: JSONValue) {
        _ = recordObject(value, stamping: true)
    }
}

/// Prefetching the heap nodes of a value's children before the value is encoded, so that the
/// cache misses of a tree that is cold in memory overlap instead of being taken one at a time
/// (each child's retain as the encoder steps into it is an atomic operation, which waits for its
/// line). It reads the enum's words in place, by the layout `JSONValue` has in this build, checked
/// once at start-up: a prefetch never faults and changes no result, so a different layout only
/// turns the hints off.
enum Prefetch {
    static let entryStride = MemoryLayout<(key: String, value: JSONValue)>.stride
    static let entryValueOffset = MemoryLayout<String>.stride

    /// Whether `JSONValue` is laid out as two payload words and a tag byte (3 string, 4 array,
    /// 5 object), with an array's or object's storage in the first word and a large string's in
    /// the second.
    static let enabled: Bool = {
        guard MemoryLayout<JSONValue>.size == 17, MemoryLayout<(key: String, value: JSONValue)>.stride == 40 else { return false }
        func words(_ v: JSONValue) -> (UInt64, UInt64, UInt8) {
            var v = v
            return withUnsafeBytes(of: &v) { ($0.load(as: UInt64.self), $0.load(fromByteOffset: 8, as: UInt64.self), $0[16]) }
        }
        let items: [JSONValue] = [.null, .int(1)]
        let array = words(.array(items))
        let arrayStorage = items.withUnsafeBufferPointer { UInt64(UInt(bitPattern: $0.baseAddress)) }
        let large = String(repeating: "x", count: 40)
        let string = words(.string(large))
        return array.2 == 4 && array.0 != 0 && arrayStorage - array.0 == 32
            && words(.object(["a": .null])).2 == 5 && string.2 == 3 && string.1 & 0x0FFF_FFFF_FFFF_FFFF != 0
    }()

    @inline(__always)
    static func children(_ base: UnsafeRawPointer, count: Int, stride: Int, valueOffset: Int) {
        guard enabled, count > 1 else { return }
        var p = base + valueOffset
        for _ in 0..<count {
            switch p.load(fromByteOffset: 16, as: UInt8.self) {
            case 4, 5:
                let storage = UnsafeRawPointer(bitPattern: UInt(p.load(as: UInt64.self)))
                orca_prefetch(storage)
                orca_prefetch(storage.map { $0 + 64 })
            case 3:
                let word = p.load(fromByteOffset: 8, as: UInt64.self)
                if word >> 60 == 0 { orca_prefetch(UnsafeRawPointer(bitPattern: UInt(word & 0x0FFF_FFFF_FFFF_FFFF))) }
            default:
                break
            }
            p += stride
        }
    }
}
