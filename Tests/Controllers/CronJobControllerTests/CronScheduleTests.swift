import Orca
import Testing

/// The cron schedule as robfig/cron's standard parser reads it (`parser_test.go`, `spec_test.go`):
/// fields, names, ranges, steps, descriptors, the day-of-month/day-of-week rule, and the errors.
@Suite("Cron schedules")
struct CronScheduleTests {
    func at(_ text: String) throws -> Timestamp { try #require(Timestamp(rfc3339: text)) }

    func next(_ spec: String, _ from: String, zone: String? = nil) throws -> String? {
        try CronSchedule(parsing: spec).next(after: try at(from), timeZone: zone)?.rfc3339
    }

    @Test("Next: strictly after, to the minute; steps, ranges, lists, names, descriptors")
    func nextTimes() throws {
        #expect(try next("* * * * *", "2026-01-01T10:00:00Z") == "2026-01-01T10:01:00Z")
        #expect(try next("* * * * *", "2026-01-01T10:00:30Z") == "2026-01-01T10:01:00Z")
        #expect(try next("*/15 * * * *", "2026-01-01T10:07:00Z") == "2026-01-01T10:15:00Z")
        #expect(try next("5-10/2 3 * * *", "2026-01-01T03:07:00Z") == "2026-01-01T03:09:00Z")
        #expect(try next("0 9 * * mon-fri", "2026-01-02T09:00:00Z") == "2026-01-05T09:00:00Z")  // Friday → Monday
        #expect(try next("0 0 1 jan *", "2026-03-01T00:00:00Z") == "2027-01-01T00:00:00Z")
        #expect(try next("@hourly", "2026-01-01T10:00:00Z") == "2026-01-01T11:00:00Z")
        #expect(try next("@weekly", "2026-01-01T10:00:00Z") == "2026-01-04T00:00:00Z")  // the next Sunday
        #expect(try next("@every 90s", "2026-01-01T10:00:00Z") == "2026-01-01T10:01:30Z")
        // Both day fields restricted: either matches (the 13th, or a Friday).
        #expect(try next("0 0 13 * 5", "2026-01-01T00:00:00Z") == "2026-01-02T00:00:00Z")
        // One of them `*`: both must match.
        #expect(try next("0 0 13 * *", "2026-01-01T00:00:00Z") == "2026-01-13T00:00:00Z")
        // February 30th never comes.
        #expect(try next("0 0 30 2 *", "2026-01-01T00:00:00Z") == nil)
        // In a time zone: 09:00 in Berlin in winter is 08:00 UTC.
        #expect(try next("0 9 * * *", "2026-01-01T00:00:00Z", zone: "Europe/Berlin") == "2026-01-01T08:00:00Z")
    }

    @Test("errors as robfig/cron words them")
    func errors() {
        func message(_ spec: String) -> String? {
            do { _ = try CronSchedule(parsing: spec); return nil } catch { return error.message }
        }
        #expect(message("") == "empty spec string")
        #expect(message("* * * *") == "expected exactly 5 fields, found 4: [* * * *]")
        #expect(message("60 * * * *") == "end of range (60) above maximum (59): 60")
        #expect(message("0 0 0 * *") == "beginning of range (0) below minimum (1): 0")
        #expect(message("5-3 * * * *") == "beginning of range (5) beyond end of range (3): 5-3")
        #expect(message("*/0 * * * *") == "step of range should be a positive number: */0")
        #expect(message("x * * * *") == "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax")
        #expect(message("@sometimes") == "unrecognized descriptor: @sometimes")
        #expect(CronSchedule.isKnownTimeZone("America/New_York") && !CronSchedule.isKnownTimeZone("Mars/Olympus"))
    }
}
