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
}

/// Formats 128 random bits as a version-4 UUID, and picks name suffixes as Kubernetes does.
enum IdentityFormat {
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    static func uuid(_ a: UInt64, _ b: UInt64) -> String {
        let hi = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let lo = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        func hex(_ v: UInt64, _ digits: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, digits - s.count)) + s
        }
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

/// Reproducible UIDs and suffixes from a seed (SplitMix64), in call order.
public final class SeededIdentityGenerator: IdentityGenerator {
    let state: Mutex<UInt64>
    public init(seed: UInt64) { state = Mutex(seed) }

    func next() -> UInt64 {
        state.withLock { s in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    public func uid() -> String { IdentityFormat.uuid(next(), next()) }
    public func nameSuffix() -> String { IdentityFormat.suffix { next() } }
}
