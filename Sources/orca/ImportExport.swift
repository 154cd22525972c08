import ArgumentParser
import Foundation
import OrcaAPI
import OrcaLog
import OrcaReplay

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append a recorded history (JSON Lines watch events, or a Kubernetes audit log) to the log.",
        discussion: "Every line is validated first; a bad line is reported with its number and nothing is imported.")

    @Argument(help: "The history file, or - for standard input.") var file: String
    @Flag(name: .long, help: "Name the writer of each event without an actor from its object's managedFields (the manager whose entry the write changed) instead of `import`.")
    var attribute = false
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        try await reportingErrors {
            let text = try readInput(file)
            let parsed: [History.Entry]
            do {
                parsed = try History.parse(text)
            } catch let error as History.LineError {
                throw CLIError("error: \(file): \(error.description); nothing was imported")
            }
            let entries = attribute ? History.attributingWriters(parsed) : parsed
            let log = try dataOptions.openLog(create: true)
            let latest = try log.latestSeq()
            let previousTime = latest > 0 ? try log.read(from: latest, limit: 1).first?.time : nil
            let records = try await log.transact { txn in
                try History.drafts(entries, nextSeq: txn.nextSeq, after: previousTime).map { try txn.append($0) }
            }
            print("imported \(records.count) events (seq \(records.first?.seq ?? 0)–\(records.last?.seq ?? 0)) into \(dataOptions.data)")
        }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the log as a history (JSON Lines with time, actor, seq and cause).")

    @Option(help: "Start after this seq.") var since: UInt64 = 0
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        try await reportingErrors {
            let log = try dataOptions.openLog(create: false)
            let out = FileHandle.standardOutput
            try log.scan(from: since + 1, batchSize: 2048) { batch in
                out.write(Data(batch.map { History.line($0) + "\n" }.joined().utf8))
                return true
            }
        }
    }
}
