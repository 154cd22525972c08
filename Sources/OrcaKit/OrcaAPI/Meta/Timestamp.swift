/// A point in time with nanosecond precision, as nanoseconds since the Unix epoch.
///
/// Orca never reads the wall clock inside the model: timestamps come from a clock passed in,
/// so a simulation can give virtual ones. Formatting and parsing are RFC 3339 in UTC, the form
/// Kubernetes uses (`2026-01-01T00:00:00Z`, with fractional seconds when present).
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public init(seconds: Int64) { self.nanoseconds = seconds * 1_000_000_000 }

    public static let zero = Timestamp(nanoseconds: 0)
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }

    public var seconds: Int64 { nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000 }

    /// This moment moved by `duration`.
    public func adding(_ duration: Duration) -> Timestamp {
        let (s, attos) = duration.components
        return Timestamp(nanoseconds: nanoseconds + s * 1_000_000_000 + attos / 1_000_000_000)
    }

    /// The duration from `other` to this moment.
    public func since(_ other: Timestamp) -> Duration { .nanoseconds(nanoseconds - other.nanoseconds) }

    /// RFC 3339 with whole seconds (Kubernetes' `metav1.Time`).
    public var rfc3339: String { format(fractionDigits: 0) }
    /// RFC 3339 with microseconds (Kubernetes' `metav1.MicroTime`).
    public var rfc3339Micro: String { format(fractionDigits: 6) }
    /// RFC 3339 with as many fractional digits as needed (none for whole seconds).
    public var description: String {
        let frac = nanoseconds - seconds * 1_000_000_000
        if frac == 0 { return rfc3339 }
        return format(fractionDigits: frac % 1000 == 0 ? (frac % 1_000_000 == 0 ? 3 : 6) : 9)
    }

    func format(fractionDigits: Int) -> String {
        let secs = seconds
        let frac = nanoseconds - secs * 1_000_000_000
        var days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let secOfDay = secs - days * 86_400
        // Civil-from-days (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        var year = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        // Digits written straight into one buffer (no temporary arrays): this runs for every
        // timestamp of every object written.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        func put(_ v: Int64, _ width: Int) {
            var rest = v < 0 ? -v : v
            var count = 1
            var probe = rest
            while probe >= 10 { probe /= 10; count += 1 }
            bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: Swift.max(width, count)))
            var i = bytes.count - 1
            while rest > 0 {
                bytes[i] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                i -= 1
            }
        }
        if year < 0 { bytes.append(UInt8(ascii: "-")) }
        put(year, 4); bytes.append(UInt8(ascii: "-"))
        put(month, 2); bytes.append(UInt8(ascii: "-"))
        put(day, 2); bytes.append(UInt8(ascii: "T"))
        put(secOfDay / 3600, 2); bytes.append(UInt8(ascii: ":"))
        put(secOfDay / 60 % 60, 2); bytes.append(UInt8(ascii: ":"))
        put(secOfDay % 60, 2)
        if fractionDigits > 0 {
            bytes.append(UInt8(ascii: "."))
            var rest = frac
            for _ in 0..<(9 - fractionDigits) { rest /= 10 }
            put(rest, fractionDigits)
        }
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses RFC 3339 (`2026-01-01T00:00:00Z`, `2026-01-01T00:00:00.5+02:00`); nil when malformed.
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        func num(_ start: Int, _ len: Int) -> Int64? {
            guard start + len <= b.count else { return nil }
            var v: Int64 = 0
            for i in start..<(start + len) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, let year = num(0, 4), b[4] == 45, let month = num(5, 2), b[7] == 45,
              let day = num(8, 2), b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = num(11, 2), b[13] == 58,
              let minute = num(14, 2), b[16] == 58, let second = num(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var nanos: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int64(b[i] - 48); digits += 1 }
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<9 { nanos *= 10 }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45 {
            guard let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = num(i + 4, 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        // Days-from-civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        self.nanoseconds = secs * 1_000_000_000 + nanos
    }
}

extension Duration {
    /// Parses a Go-style duration: `250ms`, `90s`, `5m`, `1h30m`, `1.5s`, `300us`, `10ns`.
    /// Returns nil when the text is not one.
    public static func parseGo(_ text: String) -> Duration? {
        var s = Substring(text)
        guard !s.isEmpty else { return nil }
        var negative = false
        if s.first == "-" || s.first == "+" { negative = s.first == "-"; s = s.dropFirst() }
        if s == "0" { return .zero }
        var total: Double = 0
        while !s.isEmpty {
            let numberPart = s.prefix { $0.isNumber || $0 == "." }
            guard !numberPart.isEmpty, let value = Double(numberPart) else { return nil }
            s = s.dropFirst(numberPart.count)
            let unitPart = s.prefix { !$0.isNumber && $0 != "." }
            s = s.dropFirst(unitPart.count)
            let scale: Double
            switch unitPart {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            total += value * scale
        }
        let nanos = Int64(total.rounded())
        return .nanoseconds(negative ? -nanos : nanos)
    }

    /// Whole nanoseconds in this duration.
    public var totalNanoseconds: Int64 {
        let (s, attos) = components
        return s * 1_000_000_000 + attos / 1_000_000_000
    }

    /// Go-style text (`1h30m0s`, `45s`, `250ms`), as Kubernetes prints durations.
    public var goString: String {
        var n = totalNanoseconds
        if n == 0 { return "0s" }
        var out = n < 0 ? "-" : ""
        n = abs(n)
        if n < 1_000_000_000 {
            if n % 1_000_000 == 0 { return out + "\(n / 1_000_000)ms" }
            if n % 1_000 == 0 { return out + "\(n / 1_000)µs" }
            return out + "\(n)ns"
        }
        let h = n / 3_600_000_000_000
        let m = n / 60_000_000_000 % 60
        let s = Double(n % 60_000_000_000) / 1e9
        if h > 0 { out += "\(h)h" }
        if h > 0 || m > 0 { out += "\(m)m" }
        let sText = s.rounded() == s ? String(Int(s)) : String(s)
        return out + sText + "s"
    }
}
