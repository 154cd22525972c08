import ArgumentParser
import Foundation
import OrcaAPI
import OrcaLog
import OrcaReplay

struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what changed in one object between two moments of the log.",
        discussion: """
            Compares the object as it was at --from-seq/--from-time with how it was at \
            --to-seq/--to-time (default: now), field by field, as `orca why` shows each event's \
            changes (metadata.resourceVersion and managedFields left out; lists whose items carry \
            a type or a name compared item by item). -o json prints {"from", "to", "changes"}.
            """)

    @Argument(help: "The kind.") var kind: String
    @Argument(help: "The object's name.") var name: String
    @Option(name: .shortAndLong, help: "The namespace.") var namespace: String = "default"
    @Option(name: .customLong("from-seq"), help: "The earlier moment, as a seq.") var fromSeq: UInt64?
    @Option(name: .customLong("from-time"), help: "The earlier moment (RFC 3339, or a duration since the log's start such as 45s).")
    var fromTime: String?
    @Option(name: .customLong("to-seq"), help: "The later moment, as a seq (default: the log's end).") var toSeq: UInt64?
    @Option(name: .customLong("to-time"), help: "The later moment (RFC 3339, or a duration since the log's start).") var toTime: String?
    @Option(name: .shortAndLong, help: "text or json.") var output: String = "text"
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        try await reportingErrors {
            try checkTextOrJSON(output)
            guard fromSeq != nil || fromTime != nil else { throw CLIError("error: one of --from-seq or --from-time is required") }
            let resource = try resolveKind(kind)
            let log = try dataOptions.openLog(create: false)
            let latest = try log.latestSeq()
            let from = try resolveMoment(seq: fromSeq, time: fromTime, options: ("--from-seq", "--from-time"), in: log).seq ?? latest
            let to = try resolveMoment(seq: toSeq, time: toTime, options: ("--to-seq", "--to-time"), in: log).seq ?? latest
            guard from <= to else { throw CLIError("error: the --from moment (seq \(from)) is after the --to moment (seq \(to))") }
            let key = ObjectKey(kind: resource.kind, namespace: resource.namespaced ? namespace : "", name: name)
            // The object's version at each moment: its last event by then (none, or a deletion: absent).
            let before = try log.lastRecord(atOrBefore: from) { $0.key == key }
            let after = try log.lastRecord(atOrBefore: to) { $0.key == key }
            func object(_ record: EventRecord?) -> JSONValue? {
                guard let record, record.type != .deleted else { return nil }
                return record.object
            }
            let old = object(before)
            let new = object(after)
            guard old != nil || new != nil else {
                throw CLIError("Error from server (NotFound): \(resource.groupResource) \"\(name)\" not found at either moment")
            }
            let changes = CauseChain.changes(from: old, to: new)
            if output == "json" {
                func side(_ record: EventRecord?, _ object: JSONValue?) -> JSONValue {
                    ["seq": record.map { .int(Int64($0.seq)) } ?? .null, "object": object ?? .null]
                }
                let out: JSONValue = ["from": side(before, old), "to": side(after, new), "changes": changesJSON(changes)]
                print(out.prettyJSONString())
                return
            }
            func describe(_ record: EventRecord?, _ object: JSONValue?, at seq: UInt64) -> String {
                guard let record, object != nil else { return "absent at seq \(seq)" }
                return "seq \(record.seq) (\(record.time.rfc3339), \(record.type.rawValue) by \(record.actor))"
            }
            var lines = ["\(label(key)): \(describe(before, old, at: from)) → \(describe(after, new, at: to))"]
            if old == nil {
                lines.append("  created in between")
            } else if new == nil {
                lines.append("  deleted in between")
            } else if changes.isEmpty {
                lines.append("  no changes")
            } else {
                lines += changes.map { "  \($0)" }
            }
            print(lines.joined(separator: "\n"))
        }
    }
}
