#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fast paths for the codecs' two hottest string operations: making a `String` from UTF-8 bytes
/// (with validation) and finding a string in ``BinaryCodec/dictionary``.
enum FastStrings {
    /// A string from UTF-8 bytes, or nil when they are not valid UTF-8.
    ///
    /// ASCII (nearly every byte of a Kubernetes object) is checked eight bytes at a time and
    /// copied without the generic validation path; anything else is fully validated.
    @inline(__always)
    static func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        if isASCII(bytes) {
            return String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
        }
        return String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }

    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        var acc: UInt64 = 0
        while i + 8 <= n {
            acc |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < n {
            acc |= UInt64(bytes[i])
            i += 1
        }
        return acc & 0x8080_8080_8080_8080 == 0
    }

    /// A fixed-cost hash of UTF-8 bytes: length, first and last eight bytes. Good enough for a
    /// fixed table of a few hundred entries; every hit is confirmed by comparing the bytes.
    @inline(__always)
    static func quickHash(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
        var a: UInt64 = 0
        var b: UInt64 = 0
        if n >= 8 {
            a = p.loadUnaligned(as: UInt64.self)
            b = p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else {
            for i in 0..<n { a |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i)) }
            b = a
        }
        var h = (a ^ (b &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(n)) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 29
        return h
    }
}

/// An open-addressing table from string to index in a fixed list of strings.
///
/// Built once and never freed (it backs a `static let`), so lookups touch no reference counts.
///
/// - Complexity: a fixed-cost hash plus, on a hit, one byte comparison; strings longer than the
///   longest entry are rejected at once.
final class StringIndexTable: Sendable {
    // Sendable: all storage is written in init and only read afterwards.
    nonisolated(unsafe) private let slots: UnsafeMutablePointer<Int32>
    nonisolated(unsafe) private let bytes: UnsafeMutablePointer<UInt8>
    nonisolated(unsafe) private let offsets: UnsafeMutablePointer<Int>
    private let mask: Int
    private let maxLength: Int
    let smallStrings: SmallStrings?

    init(_ strings: [String]) {
        var capacity = 16
        while capacity < strings.count * 4 { capacity <<= 1 }
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: -1, count: capacity)
        let total = strings.reduce(0) { $0 + $1.utf8.count }
        bytes = .allocate(capacity: max(total, 1))
        offsets = .allocate(capacity: strings.count + 1)
        var position = 0
        var longest = 0
        for (i, s) in strings.enumerated() {
            offsets[i] = position
            for b in s.utf8 {
                bytes[position] = b
                position += 1
            }
            longest = max(longest, s.utf8.count)
        }
        offsets[strings.count] = position
        maxLength = longest
        smallStrings = SmallStrings(strings)
        for i in strings.indices where lookup(UnsafeRawPointer(bytes + offsets[i]), offsets[i + 1] - offsets[i]) == nil {
            var slot = Int(truncatingIfNeeded: FastStrings.quickHash(bytes + offsets[i], offsets[i + 1] - offsets[i])) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(i)
        }
    }

    @inline(__always)
    private func lookup(_ p: UnsafeRawPointer, _ n: Int) -> Int? {
        var slot = Int(truncatingIfNeeded: FastStrings.quickHash(p, n)) & mask
        while true {
            let i = Int(slots[slot])
            if i < 0 { return nil }
            let start = offsets[i]
            if offsets[i + 1] - start == n && (n == 0 || memcmp(bytes + start, p, n) == 0) { return i }
            slot = (slot + 1) & mask
        }
    }

    /// The index of `s`, or nil.
    ///
    /// A string of up to 15 UTF-8 bytes is stored inside the `String` value itself, so its two
    /// words are its content: such a string is found by comparing words (``SmallStrings``),
    /// without reading its bytes; a small string not in that table is in no entry.
    @inline(__always)
    func index(of s: String) -> Int? { SmallStrings.index(of: s, small: smallStrings, table: self) }

    @inline(__always)
    func indexByBytes(_ s: String) -> Int? {
        let n = s.utf8.count
        guard n <= maxLength else { return nil }
        if n == 0 { return lookup(UnsafeRawPointer(bytes), 0) }
        return s.utf8.withContiguousStorageIfAvailable { buffer -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            return lookup(UnsafeRawPointer(base), n)
        } ?? nil
    }
}

/// Strings of at most 15 UTF-8 bytes found by their two machine words.
///
/// On 64-bit platforms the standard library keeps such a string inside the `String` value (the
/// "small" form): its words are its bytes, its length and flags computed from them, so two small
/// strings are equal exactly when their words are. The layout is an implementation detail, so
/// ``init(_:)`` checks it on sample strings and returns nil (callers then compare bytes) when it
/// does not hold.
struct SmallStrings: @unchecked Sendable {
    // @unchecked: the storage is written in init and only read afterwards; the table lives as
    // long as the process (it backs a `static let`).
    private let words: UnsafeMutablePointer<(UInt64, UInt64, Int)>
    private let mask: Int

    /// Bit 61 of the second word marks the small form.
    private static let smallBit: UInt64 = 1 << 61

    @inline(__always)
    private static func words(_ s: String) -> (UInt64, UInt64) { unsafeBitCast(s, to: (UInt64, UInt64).self) }

    init?(_ strings: [String]) {
        guard MemoryLayout<String>.size == 16 else { return nil }
        // The layout assumption, checked: strings made from bytes at run time are small up to
        // 15 bytes (and equal ones have equal words), and a longer one is not small.
        func made(_ text: String) -> String { String(decoding: Array(text.utf8), as: UTF8.self) }
        for sample in ["", "a", "Running", "exactly15bytes!", "ünïcødé"] {
            let a = Self.words(made(sample))
            let b = Self.words(made(sample))
            guard a.1 & Self.smallBit != 0, a == b else { return nil }
        }
        let long = made(String(repeating: "x", count: 40))
        guard Self.words(long).1 & Self.smallBit == 0, Self.words(made("Pending")) != Self.words(made("Running")) else {
            return nil
        }
        let entries = strings.enumerated().filter { $0.element.utf8.count <= 15 }.map { (Self.words(made($0.element)), $0.offset) }
        guard entries.allSatisfy({ $0.0.1 & Self.smallBit != 0 }) else { return nil }
        var capacity = 16
        while capacity < strings.count * 4 { capacity <<= 1 }
        mask = capacity - 1
        words = .allocate(capacity: capacity)
        words.initialize(repeating: (0, 0, -1), count: capacity)
        for (w, i) in entries {
            var slot = Self.slot(w) & mask
            while words[slot].2 >= 0 && (words[slot].0, words[slot].1) != w { slot = (slot + 1) & mask }
            if words[slot].2 < 0 { words[slot] = (w.0, w.1, i) }
        }
    }

    @inline(__always)
    private static func slot(_ w: (UInt64, UInt64)) -> Int {
        var h = (w.0 ^ (w.1 &* 0x9E37_79B9_7F4A_7C15)) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 29
        return Int(truncatingIfNeeded: h)
    }

    /// The index of `s` in `table`: by its words when it is small, by its bytes otherwise.
    @inline(__always)
    static func index(of s: String, small: SmallStrings?, table: StringIndexTable) -> Int? {
        if let small {
            switch small.lookup(s) {
            case .found(let index): return index
            case .absent: return nil
            case .notSmall: break
            }
        }
        return table.indexByBytes(s)
    }

    enum Lookup {
        case found(Int)
        /// Small and in no entry.
        case absent
        /// Not in the small form: compare bytes.
        case notSmall
    }

    @inline(__always)
    func lookup(_ s: String) -> Lookup { lookup(words: Self.words(s)) }

    /// The lookup of the string whose two words (as stored in memory) are `w`.
    @inline(__always)
    func lookup(words w: (UInt64, UInt64)) -> Lookup {
        guard w.1 & Self.smallBit != 0 else { return .notSmall }
        var slot = Self.slot(w) & mask
        while true {
            let entry = words[slot]
            if entry.2 < 0 { return .absent }
            if entry.0 == w.0 && entry.1 == w.1 { return .found(entry.2) }
            slot = (slot + 1) & mask
        }
    }
}
