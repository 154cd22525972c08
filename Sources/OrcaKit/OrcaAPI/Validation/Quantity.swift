/// A Kubernetes resource quantity (`500m`, `2`, `16Gi`, `1e3`), held in thousandths ("milli-units").
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The value × 1000, rounded up as Kubernetes rounds (`MilliValue`).
    public var milliValue: Int64
    /// The text it was parsed from (how it prints).
    public var text: String

    public static func < (a: Quantity, b: Quantity) -> Bool { a.milliValue < b.milliValue }
    public static func == (a: Quantity, b: Quantity) -> Bool { a.milliValue == b.milliValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(milliValue) }
    public var description: String { text }
    /// The value rounded up to a whole unit (`Value()`).
    public var value: Int64 { (milliValue + 999) / 1000 }

    public init(milliValue: Int64) {
        self.milliValue = milliValue
        self.text = milliValue % 1000 == 0 ? String(milliValue / 1000) : "\(milliValue)m"
    }

    /// Parses a quantity; nil when malformed.
    public init?(_ text: String) {
        let suffixes: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776),
            ("Pi", 1_125_899_906_842_624), ("Ei", 1_152_921_504_606_846_976),
            ("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15),
            ("E", 1e18),
        ]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in suffixes where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !number.isEmpty,
              number.allSatisfy({ $0.isNumber || $0 == "." || $0 == "+" || $0 == "-" || $0 == "e" || $0 == "E" }),
              let value = Double(number), value.isFinite
        else { return nil }
        let milli = (value * scale * 1000).rounded(.up)
        guard abs(milli) < 9.2e18 else { return nil }
        self.milliValue = Int64(milli)
        self.text = text
    }
}
