import Synchronization

/// Where new UIDs and generated name suffixes come from.
///
/// Live mode uses random ones; simulations use seeded ones so that two runs are identical.
/// Implementations must be safe to call from any task.
public protocol IdentityGenerator: Sendable {
    /// A new UID in UUID form.
    func uid() -> String
    /// A 5-character suffix for `generateName`, from Kubernetes' alphabet (no vowels, no 0/1/3).
    func nameSuffix() -> String
    /// The UID of a new object of `kind`; the store asks this one. The default is ``uid()``.
    func uid(kind: String) -> String
    /// A suffix for an object of `kind` in `namespace` generated from `prefix`; the store asks
    /// this one. The default is ``nameSuffix()``.
    func nameSuffix(kind: String, namespace: String, prefix: String) -> String
}

extension IdentityGenerator {
    public func uid(kind: String) -> String { uid() }
    public func nameSuffix(kind: String, namespace: String, prefix: String) -> String { nameSuffix() }
}

/// Formats 128 random bits as a version-4 UUID, and picks name suffixes as Kubernetes does.
enum IdentityFormat {
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    /// `v` in lower-case hex, zero-padded to `digits`.
    static func hex(_ v: UInt64, _ digits: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }

    static func uuid(_ a: UInt64, _ b: UInt64) -> String {
        let hi = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let lo = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return "\(hex(hi >> 32, 8))-\(hex((hi >> 16) & 0xFFFF, 4))-\(hex(hi & 0xFFFF, 4))-\(hex(lo >> 48, 4))-\(hex(lo & 0xFFFF_FFFF_FFFF, 12))"
    }

    static func suffix(_ next: () -> UInt64) -> String {
        String((0..<5).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
    }
}

/// Random UIDs and suffixes from the system's generator.
public struct RandomIdentityGenerator: IdentityGenerator {
    public init() {}
    public func uid() -> String {
        var rng = SystemRandomNumberGenerator()
        return IdentityFormat.uuid(rng.next(), rng.next())
    }
    public func nameSuffix() -> String {
        var rng = SystemRandomNumberGenerator()
        return IdentityFormat.suffix { rng.next() }
    }
}

/// Reproducible UIDs and suffixes from a seed that increase in creation order, as a scenario
/// requires: UIDs share a seed-derived first group and carry a counter in fixed-width hex, so
/// comparing two UIDs as strings compares their creation order; suffixes count upwards in
/// Kubernetes' alphabet (sorted) from a seed-derived start.
public final class SeededIdentityGenerator: IdentityGenerator {
    struct State {
        var uids: UInt64 = 0
        var suffixes: UInt64
    }
    let prefix: UInt64
    let state: Mutex<State>
    static let sortedAlphabet = Array("2456789bcdfghjklmnpqrstvwxz")

    public init(seed: UInt64) {
        let mixed = Self.mix(seed)
        prefix = mixed >> 32
        // Start low enough in the 27^5 suffix space that a run never wraps around.
        state = Mutex(State(suffixes: (mixed & 0xFFFF_FFFF) % 4_000_000))
    }

    /// SplitMix64's finaliser.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public func uid() -> String {
        let n = state.withLock { s -> UInt64 in
            s.uids += 1
            return s.uids
        }
        let hex = IdentityFormat.hex
        // xxxxxxxx-0000-4ccc-8ccc-cccccccccccc: version 4 and variant nibbles fixed, counter below.
        return "\(hex(prefix, 8))-0000-4\(hex((n >> 60) & 0xFFF, 3))-8\(hex((n >> 48) & 0xFFF, 3))-\(hex(n & 0xFFFF_FFFF_FFFF, 12))"
    }

    public func nameSuffix() -> String {
        var n = state.withLock { s -> UInt64 in
            s.suffixes += 1
            return s.suffixes
        }
        var characters = [Character](repeating: "2", count: 5)
        for i in stride(from: 4, through: 0, by: -1) {
            characters[i] = Self.sortedAlphabet[Int(n % 27)]
            n /= 27
        }
        return String(characters)
    }
}
