import ArgumentParser
import Foundation
import OrcaReplay
import OrcaAPI
import OrcaLog

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the event stream: a line per event, or the history format with -o json.")

    @Option(help: "Start after this seq.") var since: UInt64 = 0
    @Flag(name: .shortAndLong, help: "Keep printing new events as they are appended.") var follow = false
    @Option(name: .shortAndLong, help: "text or json.") var output: String = "text"
    @OptionGroup var timeTravel: TimeTravelOptions
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        try await reportingErrors {
            try checkTextOrJSON(output)
            let log = try dataOptions.openLog(create: false)
            let (atSeq, _) = try timeTravel.resolve(log)
            let latest = try log.latestSeq()
            let until = atSeq ?? (follow ? UInt64.max : latest)
            if since >= until { return }
            for try await record in log.watch(from: since) {
                FileHandle.standardOutput.write(Data(((output == "json" ? History.line(record) : History.text(record)) + "\n").utf8))
                if record.seq >= until { break }
            }
        }
    }
}
