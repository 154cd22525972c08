import ArgumentParser
import Foundation
import OrcaAPI
import OrcaLog
import OrcaReplay

struct Why: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain an object's latest change: the chain of causes behind it, back to what started it.",
        discussion: """
            Follows each event's cause (the seq of the event whose handling produced it) from the \
            object's latest change back to an event with no cause: a user's or a scenario step's \
            write, an import, or a kubelet or controller acting on its own. Each event is shown \
            with what it changed in its object. With --at-seq or --at-time, the latest change as of \
            that moment; with --created, the object's creation instead (why it exists). -o json \
            prints the chain's events in the history format, newest first.
            """)

    @Argument(help: "The kind.") var kind: String
    @Argument(help: "The object's name.") var name: String
    @Option(name: .shortAndLong, help: "The namespace.") var namespace: String = "default"
    @Option(name: .shortAndLong, help: "text or json.") var output: String = "text"
    @Flag(help: "Explain the object's creation (why it exists) instead of its latest change.") var created = false
    @OptionGroup var timeTravel: TimeTravelOptions
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        try await reportingErrors {
            try checkTextOrJSON(output)
            let resource = try resolveKind(kind)
            let log = try dataOptions.openLog(create: false)
            let (atSeq, _) = try timeTravel.resolve(log)
            let key = ObjectKey(kind: resource.kind, namespace: resource.namespaced ? namespace : "", name: name)
            guard let chain = try CauseChain.explain(key, in: log, atSeq: atSeq, creation: created) else {
                throw CLIError("Error from server (NotFound): \(resource.groupResource) \"\(name)\" not found")
            }
            if output == "json" {
                print(chain.links.map { History.line($0.record) }.joined(separator: "\n"))
            } else {
                print(Self.text(chain))
            }
        }
    }

    static func text(_ chain: CauseChain) -> String {
        var lines: [String] = []
        for (i, link) in chain.links.enumerated() {
            if i > 0 { lines.append("  ↑ caused by") }
            lines.append(eventLine(link.record))
            let shown = link.changes.prefix(8)
            for change in shown { lines.append("      \(change)") }
            if link.changes.count > shown.count { lines.append("      … and \(link.changes.count - shown.count) more") }
        }
        let first = chain.links.last?.record
        switch chain.origin {
        case .root:
            lines.append("Started by: \(chain.origin.explanation)" + (first.map { ", seq \($0.seq)" } ?? "") + ".")
        case .missing:
            lines.append("The chain ends here: \(chain.origin.explanation).")
        }
        return lines.joined(separator: "\n")
    }
}
