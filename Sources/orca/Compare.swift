import ArgumentParser
import Foundation
import OrcaAPI
import OrcaLog
import OrcaReplay

struct Compare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two logs: where they first diverge, who wrote what, and how their end states differ.",
        discussion: """
            Walks both logs seq by seq and reports the first event that differs (type, time, \
            object, uid, actor, cause or object content), with what differs when both events are \
            about the same object; then the events each actor wrote in each log, and the objects \
            whose final state differs. Two runs of one scenario with one seed and the same code \
            are identical, so comparing runs of two builds finds the first decision the new code \
            made differently. Exit status: 0 identical, 1 diverged, 2 on bad input.
            """)

    @Argument(help: "The other data directory.") var other: String
    @Option(name: .shortAndLong, help: "text or json.") var output: String = "text"
    @Option(help: "How many differing end states to list (text output).") var limit: Int = 20
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        var comparison: LogComparison?
        try await reportingErrors {
            do {
                try checkTextOrJSON(output)
                guard limit >= 0 else { throw CLIError("error: --limit must be 0 or more") }
                let first = try dataOptions.openLog(create: false)
                let second = try DataOptions.openLog(at: other, create: false)
                let result = try LogComparison.compare(first, second)
                print(output == "json" ? Self.json(result).prettyJSONString() : Self.text(result, dataOptions.data, other, limit: limit))
                comparison = result
            } catch let error as CLIError {
                throw CLIError(error.message, exitCode: 2)
            } catch {
                throw CLIError(Output.describe(error), exitCode: 2)  // 1 means "diverged"
            }
        }
        if comparison?.identical == false { throw ExitCode(1) }
    }

    static func line(_ record: EventRecord) -> String {
        eventLine(record) + (record.cause.map { "  (cause \($0))" } ?? "")
    }

    static func text(_ c: LogComparison, _ a: String, _ b: String, limit: Int) -> String {
        var lines = ["\(a): \(c.counts.first) events; \(b): \(c.counts.second) events"]
        guard let d = c.divergence else {
            lines.append("identical")
            return lines.joined(separator: "\n")
        }
        lines.append("the same for the first \(d.seq - 1) events; first divergence at seq \(d.seq):")
        let width = max(a.count, b.count)
        func side(_ name: String, _ record: EventRecord?) -> String {
            name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + (record.map(line) ?? "(no event: the log ends here)")
        }
        lines.append("  " + side(a, d.first))
        lines.append("  " + side(b, d.second))
        for change in d.changes { lines.append("      \(change)") }
        lines.append("events by actor (\(a), \(b)):")
        var rows: [[String]] = []
        for entry in c.actors where entry.first != entry.second { rows.append([entry.actor, String(entry.first), String(entry.second)]) }
        let same = c.actors.count - rows.count
        lines += Table.format(rows).split(separator: "\n").map { "  " + $0 }
        if same > 0 { lines.append("  (\(same) other actor\(same == 1 ? "" : "s") wrote as many events in both)") }
        lines.append("end states that differ: \(c.endStates.count)")
        for state in c.endStates.prefix(limit) {
            let key = label(state.key)
            if state.first == nil {
                lines.append("  \(key): only in \(b)")
            } else if state.second == nil {
                lines.append("  \(key): only in \(a)")
            } else {
                lines.append("  \(key):")
                for change in state.changes.prefix(8) { lines.append("      \(change)") }
                if state.changes.count > 8 { lines.append("      … and \(state.changes.count - 8) more") }
            }
        }
        if c.endStates.count > limit { lines.append("  … and \(c.endStates.count - limit) more (--limit)") }
        return lines.joined(separator: "\n")
    }

    static func json(_ c: LogComparison) -> JSONValue {
        func event(_ record: EventRecord?) -> JSONValue { record.map(History.entry) ?? .null }
        var out: JSONObject = [
            "counts": ["first": .int(Int64(c.counts.first)), "second": .int(Int64(c.counts.second))],
            "identical": .bool(c.identical),
            "actors": .array(c.actors.map { ["actor": .string($0.actor), "first": .int(Int64($0.first)), "second": .int(Int64($0.second))] }),
            "endStates": .array(c.endStates.map { state in
                ["kind": .string(state.key.kind), "namespace": .string(state.key.namespace), "name": .string(state.key.name),
                 "inFirst": .bool(state.first != nil), "inSecond": .bool(state.second != nil), "changes": changesJSON(state.changes)]
            }),
        ]
        if let d = c.divergence {
            out["divergence"] = ["seq": .int(Int64(d.seq)), "first": event(d.first), "second": event(d.second), "changes": changesJSON(d.changes)]
        }
        return .object(out)
    }
}
