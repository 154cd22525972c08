internal import Foundation


/// A CronJob schedule, as `robfig/cron`'s standard parser (the one Kubernetes uses) reads it:
/// five fields — minute, hour, day of month, month, day of week — each `*`, `?`, a number, a
/// name (`jan`…`dec`, `sun`…`sat`), a range `a-b`, any of these with a step `/n`, or a list of
/// them; or a descriptor (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
/// `@hourly`, `@every <duration>`). When both day fields are restricted, a day matching either
/// one matches.
public struct CronSchedule: Sendable, Equatable {
    /// Bit sets of the allowed values, per field; bit 63 marks a field given as `*`/`?`.
    let minutes: UInt64, hours: UInt64, days: UInt64, months: UInt64, weekdays: UInt64
    /// `@every`: a constant delay instead of fields.
    let every: Duration?

    static let star: UInt64 = 1 << 63

    /// An error in a schedule, worded as robfig/cron words it.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    struct Field {
        let min: Int, max: Int
        let names: [String: Int]
    }

    static let minuteField = Field(min: 0, max: 59, names: [:])
    static let hourField = Field(min: 0, max: 23, names: [:])
    static let dayField = Field(min: 1, max: 31, names: [:])
    static let monthField = Field(min: 1, max: 12, names: ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7,
                                                          "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12])
    static let weekdayField = Field(min: 0, max: 6, names: ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6])

    public init(parsing text: String) throws(ParseError) {
        var spec = text.trimmingCharacters(in: .whitespaces)
        guard !spec.isEmpty else { throw ParseError(message: "empty spec string") }
        // A time zone prefix (`TZ=Europe/Berlin 0 9 * * *`) is read and checked, then dropped:
        // Kubernetes refuses it in new CronJobs and uses `spec.timeZone` instead.
        if spec.hasPrefix("TZ=") || spec.hasPrefix("CRON_TZ=") {
            let end = spec.firstIndex(of: " ") ?? spec.endIndex
            let zone = String(spec[spec.index(after: spec.firstIndex(of: "=") ?? spec.startIndex)..<end])
            guard Self.isKnownTimeZone(zone) else { throw ParseError(message: "provided bad location \(zone): unknown time zone \(zone)") }
            spec = String(spec[end...]).trimmingCharacters(in: .whitespaces)
        }
        if spec.hasPrefix("@") {
            let descriptors = ["@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                               "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"]
            if let fields = descriptors[spec] {
                self = try CronSchedule(parsing: fields)
                return
            }
            if spec.hasPrefix("@every ") {
                let text = String(spec.dropFirst("@every ".count))
                guard let delay = Self.goDuration(text) else {
                    throw ParseError(message: "failed to parse duration \(spec): time: invalid duration \"\(text)\"")
                }
                // ConstantDelaySchedule: rounded to whole seconds, at least one.
                let seconds = max(1, (delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000 + 500_000_000) / 1_000_000_000)
                self = CronSchedule(minutes: 0, hours: 0, days: 0, months: 0, weekdays: 0, every: .seconds(seconds))
                return
            }
            throw ParseError(message: "unrecognized descriptor: \(spec)")
        }
        let fields = spec.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(message: "expected exactly 5 fields, found \(fields.count): [\(fields.joined(separator: " "))]")
        }
        self = CronSchedule(minutes: try Self.parse(fields[0], Self.minuteField), hours: try Self.parse(fields[1], Self.hourField),
                            days: try Self.parse(fields[2], Self.dayField), months: try Self.parse(fields[3], Self.monthField),
                            weekdays: try Self.parse(fields[4], Self.weekdayField), every: nil)
    }

    init(minutes: UInt64, hours: UInt64, days: UInt64, months: UInt64, weekdays: UInt64, every: Duration?) {
        self.minutes = minutes
        self.hours = hours
        self.days = days
        self.months = months
        self.weekdays = weekdays
        self.every = every
    }

    /// `getField`: a comma-separated list of ranges.
    static func parse(_ field: String, _ bounds: Field) throws(ParseError) -> UInt64 {
        var bits: UInt64 = 0
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            bits |= try range(String(part), bounds)
        }
        return bits
    }

    /// `getRange`: `*`, `?`, `a`, `a-b`, each optionally `/step`.
    static func range(_ expr: String, _ bounds: Field) throws(ParseError) -> UInt64 {
        let stepParts = expr.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let lowHigh = stepParts[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let singleDigit = lowHigh.count == 1
        var start: Int, end: Int
        var extra: UInt64 = 0
        if lowHigh[0] == "*" || lowHigh[0] == "?" {
            start = bounds.min
            end = bounds.max
            extra = star
        } else {
            start = try value(lowHigh[0], bounds)
            switch lowHigh.count {
            case 1: end = start
            case 2: end = try value(lowHigh[1], bounds)
            default: throw ParseError(message: "too many hyphens: \(expr)")
            }
        }
        var step = 1
        switch stepParts.count {
        case 1: break
        case 2:
            step = try number(stepParts[1])
            // A single number with a step means from it to the maximum.
            if singleDigit { end = bounds.max }
            if step > 1 { extra = 0 }
        default: throw ParseError(message: "too many slashes: \(expr)")
        }
        if start < bounds.min { throw ParseError(message: "beginning of range (\(start)) below minimum (\(bounds.min)): \(expr)") }
        if end > bounds.max { throw ParseError(message: "end of range (\(end)) above maximum (\(bounds.max)): \(expr)") }
        if start > end { throw ParseError(message: "beginning of range (\(start)) beyond end of range (\(end)): \(expr)") }
        if step == 0 { throw ParseError(message: "step of range should be a positive number: \(expr)") }
        var bits = extra
        var i = start
        while i <= end {
            bits |= 1 << UInt64(i)
            i += step
        }
        return bits
    }

    static func value(_ text: String, _ bounds: Field) throws(ParseError) -> Int {
        if let named = bounds.names[text.lowercased()] { return named }
        return try number(text)
    }

    static func number(_ text: String) throws(ParseError) -> Int {
        guard let n = Int(text), !text.hasPrefix("+") else {
            throw ParseError(message: "failed to parse int from \(text): strconv.Atoi: parsing \"\(text)\": invalid syntax")
        }
        guard n >= 0 else { throw ParseError(message: "negative number (\(n)) not allowed: \(text)") }
        return n
    }

    /// Go's `time.ParseDuration` for the forms people write (`90s`, `1h30m`, `500ms`).
    static func goDuration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
                                        ("m", 60_000_000_000), ("h", 3_600_000_000_000)]
        var rest = Substring(text)
        var total: Int64 = 0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard !digits.isEmpty, let value = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.filter({ rest.hasPrefix($0.0) }).max(by: { $0.0.count < $1.0.count }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += Int64(value * Double(unit.1))
        }
        return .nanoseconds(total)
    }

    /// Whether `identifier` names a time zone of the IANA database (as Go's `time.LoadLocation`
    /// accepts them; `UTC` included).
    public static func isKnownTimeZone(_ identifier: String) -> Bool {
        identifier == "UTC" || TimeZone(identifier: identifier) != nil
    }

    /// The named zone's offset from UTC at `time`, in seconds (nil for an unknown zone).
    public static func utcOffset(at time: Timestamp, timeZone identifier: String) -> Int? {
        TimeZone(identifier: identifier)?.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(time.seconds)))
    }

    /// `SpecSchedule.Next`: the first matching time strictly after `time` (to the whole
    /// minute, in the named time zone, UTC when nil); nil when none within five years.
    public func next(after time: Timestamp, timeZone identifier: String? = nil) -> Timestamp? {
        guard let zone = identifier.map({ $0 == "UTC" ? TimeZone(secondsFromGMT: 0) : TimeZone(identifier: $0) }) ?? TimeZone(secondsFromGMT: 0)
        else { return nil }
        if let every {
            // ConstantDelaySchedule.Next: `t + delay`, rounded down to the second.
            let t = time.adding(every)
            return Timestamp(seconds: t.nanoseconds >= 0 ? t.nanoseconds / 1_000_000_000 : (t.nanoseconds - 999_999_999) / 1_000_000_000)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        // Start at the next whole second (robfig adds one second and truncates), then the
        // fields only allow second 0.
        let startSeconds = time.nanoseconds >= 0 ? time.nanoseconds / 1_000_000_000 + 1 : time.nanoseconds / 1_000_000_000
        var date = Date(timeIntervalSince1970: TimeInterval(startSeconds))
        guard let limit = calendar.date(byAdding: .year, value: 5, to: date) else { return nil }
        func has(_ set: UInt64, _ value: Int) -> Bool { set & (1 << UInt64(value)) != 0 }
        func comps(_ d: Date) -> DateComponents { calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: d) }
        func startOf(_ c: DateComponents, keeping fields: [Calendar.Component]) -> Date? {
            var k = DateComponents()
            k.timeZone = zone
            k.year = c.year
            k.month = c.month
            k.day = fields.contains(.day) ? c.day : 1
            k.hour = fields.contains(.hour) ? c.hour : 0
            k.minute = fields.contains(.minute) ? c.minute : 0
            k.second = 0
            return calendar.date(from: k)
        }
        // The second field is 0: move to the start of the next minute unless already there.
        var c = comps(date)
        if (c.second ?? 0) != 0 {
            guard let d = startOf(c, keeping: [.day, .hour, .minute]), let n = calendar.date(byAdding: .minute, value: 1, to: d) else { return nil }
            date = n
        }
        while date < limit {
            c = comps(date)
            guard let month = c.month, let day = c.day, let hour = c.hour, let minute = c.minute, let weekday = c.weekday else { return nil }
            if !has(months, month) {
                guard let d = startOf(c, keeping: []), let n = calendar.date(byAdding: .month, value: 1, to: d) else { return nil }
                date = n
                continue
            }
            if !dayMatches(day: day, weekday: weekday - 1) {
                guard let d = startOf(c, keeping: [.day]), let n = calendar.date(byAdding: .day, value: 1, to: d) else { return nil }
                date = n
                continue
            }
            if !has(hours, hour) {
                guard let d = startOf(c, keeping: [.day, .hour]), let n = calendar.date(byAdding: .hour, value: 1, to: d) else { return nil }
                date = n
                continue
            }
            if !has(minutes, minute) {
                guard let d = startOf(c, keeping: [.day, .hour, .minute]), let n = calendar.date(byAdding: .minute, value: 1, to: d) else { return nil }
                date = n
                continue
            }
            return Timestamp(seconds: Int64(date.timeIntervalSince1970.rounded()))
        }
        return nil
    }

    /// `dayMatches`: both day fields must match when either is `*`; otherwise either may.
    func dayMatches(day: Int, weekday: Int) -> Bool {
        let dom = days & (1 << UInt64(day)) != 0
        let dow = weekdays & (1 << UInt64(weekday)) != 0
        if days & Self.star != 0 || weekdays & Self.star != 0 { return dom && dow }
        return dom || dow
    }
}
