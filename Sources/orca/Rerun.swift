import ArgumentParser
import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaLog
import OrcaReplay
import OrcaRuntime
import OrcaSimulation

struct Rerun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run controllers against a recorded history in place of the writers that recorded it, and show where they diverge.",
        discussion: """
            HISTORY is a history file (JSON Lines, or a Kubernetes audit log; - for standard input) \
            or the data directory of an Orca log. Each recorded event is either replaced (its writer \
            is one the controllers stand in for: by default their own actors and \
            kube-controller-manager, or its users in an audit log; a history without actors is \
            attributed by its objects' managedFields) or the world's, applied at its recorded time while the controllers react \
            on a virtual clock. Objects a replaced writer created are matched to the ones the \
            controllers create (kind, namespace, owner; same name, else the earliest), and the \
            world's later changes to them land on their counterparts. The run's log goes to --data; \
            read it with get, log, why, diff. Exit status: 0 no divergence, 1 diverged (an object \
            unmatched or an end state that differs), 2 on bad input.
            """)

    @Argument(help: "The recorded history: a file, - for standard input, or an Orca data directory.") var history: String
    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "A built-in controller to run (repeatable or comma-separated), e.g. job; a plugin's run with --plugin.", valueName: "NAME"))
    var controller: [String] = []
    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "A recorded writer whose events the controllers replace (repeatable; default: the controllers' own actors and kube-controller-manager).",
        valueName: "ACTOR"))
    var replace: [String] = []
    @Option(name: .long, help: "Seed for the UIDs and generated names the controllers create past the recorded ones.") var seed: String = "1"
    @Option(name: .long, help: "Keep the clock running this long after the last recorded event (Go duration).") var settle: String = "0s"
    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "Leave a field (and what lies below it) out of the end-state comparison (repeatable), e.g. status.terminating.",
        valueName: "PATH"))
    var ignore: [String] = []
    @Option(name: .long, help: ArgumentHelp("Also run the controllers of a plugin library (repeatable).", valueName: "PATH"))
    var plugin: [String] = []
    @Option(name: .long, help: ArgumentHelp(
        "Take the control plane's settings (config:) from this scenario, e.g. the one a simulated log came from.", valueName: "FILE"))
    var scenario: String?
    @Option(name: .shortAndLong, help: "text or json.") var output: String = "text"
    @Option(help: "How many differing end states to list (text output).") var limit: Int = 20
    @Flag(name: .long, help: "Replace the contents of a non-empty data directory.") var force = false
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        var diverged = false
        try await reportingErrors {
            do {
                diverged = try await rerun()
            } catch let error as CLIError {
                throw CLIError(error.message, exitCode: 2)
            } catch let error as ExitCode {
                throw error
            } catch {
                throw CLIError(Output.describe(error), exitCode: 2)  // 1 means "diverged"
            }
        }
        if diverged { throw ExitCode(1) }
    }

    func rerun() async throws -> Bool {
        try checkTextOrJSON(output)
        guard limit >= 0 else { throw CLIError("error: --limit must be 0 or more") }
        guard let settleTime = Duration.parseGo(settle), settleTime >= .zero else {
            throw CLIError("error: invalid --settle \"\(settle)\": use a Go duration such as 0s, 30s or 5m")
        }
        guard let seed = UInt64(seed) else { throw CLIError("error: invalid --seed \"\(seed)\": use a non-negative integer") }
        let source = try historySource()
        let plugins = try Plugins.load(plugin)
        var options = HistoryRerun.Options(controllers: controller.flatMap { $0.split(separator: ",").map(String.init) })
        if !replace.isEmpty { options.replacing = Set(replace) }
        options.seed = seed
        options.settle = settleTime
        options.ignoring = ignore
        if let scenario { options.config = try Scenario.parse(try readInput(scenario), file: scenario).config }
        if history != "-", URL(fileURLWithPath: history).standardizedFileURL == URL(fileURLWithPath: dataOptions.data).standardizedFileURL {
            throw CLIError("error: --data must name another directory than the history's")
        }
        do {
            try HistoryRerun.validate(options: options)
            // An empty history, or a bad line among the first, is refused before anything is created.
            var reader = try source.makeReader()
            guard try reader.next() != nil else { throw CLIError("error: the history has no events") }
        } catch {
            throw describe(error)
        }
        let existed = FileManager.default.fileExists(atPath: dataOptions.data)
        try prepareDataDirectory(dataOptions.data, force: force)
        let log = try LMDBEventLog(path: dataOptions.data, options: .init(create: true, durability: .unsynced, commits: .inline, writeMap: true))
        defer { log.close() }
        let rerun: HistoryRerun
        do {
            rerun = try HistoryRerun(source: source, options: options, log: log)
        } catch {
            // A bad line further on: the run has not started; leave no log behind.
            log.close()
            try? FileManager.default.removeItem(atPath: dataOptions.data)
            if existed { try? FileManager.default.createDirectory(atPath: dataOptions.data, withIntermediateDirectories: true) }
            throw describe(error)
        }
        for (path, loaded) in plugins {
            try loaded.register(from: path) { descriptor throws(RegistryError) in try rerun.simulation.install(descriptor) }
        }
        let report = try await rerun.run()
        try log.sync()
        print(output == "json" ? Self.json(report).prettyJSONString() : Self.text(report, history: history, data: dataOptions.data, limit: limit))
        return report.diverged
    }

    /// The history: an Orca log read in batches, a file read a block of lines at a time, or
    /// standard input (read whole).
    func historySource() throws -> any HistorySource {
        var isDirectory: ObjCBool = false
        if history != "-", FileManager.default.fileExists(atPath: history, isDirectory: &isDirectory), isDirectory.boolValue {
            return History.FromLog(try DataOptions.openLog(at: history, create: false))
        }
        if history == "-" {
            do {
                return History.InMemory(try History.parse(try readInput(history)))
            } catch {
                throw describe(error)
            }
        }
        guard FileManager.default.isReadableFile(atPath: history) else { throw CLIError("error: the path \"\(history)\" does not exist or cannot be read") }
        return HistoryFile(path: history)
    }

    /// A clear error for what reading the history or setting up the run threw.
    func describe(_ error: any Error) -> CLIError {
        switch error {
        case let error as CLIError: return error
        case let error as History.LineError: return CLIError("error: \(history): \(error.description)")
        case let error as HistoryRerun.OptionError: return CLIError("error: \(error.message)")
        default: return CLIError(Output.describe(error))
        }
    }

    static func text(_ r: HistoryRerun.Report, history: String, data: String, limit: Int) -> String {
        var lines = ["\(history): \(r.events) recorded events; \(r.applied) applied, \(r.replaced) replaced by the run"
            + (r.skipped.isEmpty ? "" : ", \(r.skipped.count) not applied")]
        var rows = [["WRITER", "EVENTS", "ROLE"]]
        for writer in r.writers {
            let role = writer.replaced == writer.events ? "replaced by the run"
                : writer.replaced == 0 ? "the world" : "\(writer.replaced) replaced by the run, the rest the world's"
            rows.append([writer.name, String(writer.events), role])
        }
        lines += Table.format(rows).split(separator: "\n").map { "  " + $0 }
        let writes = r.rerunWrites.map { "\($0.actor) \($0.events)" }.joined(separator: ", ")
        lines.append("the run: \(r.rerunEvents) events in \(data)" + (writes.isEmpty ? "" : "; written by the controllers: \(writes)"))
        if !r.skipped.isEmpty {
            lines.append("recorded events not applied: \(r.skipped.count)")
            for s in r.skipped.prefix(limit) { lines.append("  line \(s.line): \(label(s.key)): \(s.reason)") }
            if r.skipped.count > limit { lines.append("  … and \(r.skipped.count - limit) more (--limit)") }
        }
        lines.append("created by the replaced writers (recorded) and by the controllers (run):")
        for c in r.creations where !c.inHistory {
            lines.append("  \(c.kind): run \(c.rerun) (the history records none: not compared)")
        }
        for c in r.creations where c.inHistory {
            var line = "  \(c.kind): recorded \(c.recorded), run \(c.rerun), matched \(c.matched)"
            if let lag = c.lag { line += "; " + Self.lag(lag) }
            lines.append(line)
            if !c.unmatchedRecorded.isEmpty {
                lines.append("    recorded, never created by the run: " + Self.names(c.unmatchedRecorded, limit: limit))
            }
            if !c.unmatchedRerun.isEmpty { lines.append("    created by the run, never recorded: " + Self.names(c.unmatchedRerun, limit: limit)) }
        }
        if r.creations.isEmpty { lines.append("  none") }
        lines.append("end states: \(r.compared) objects compared, \(r.endStates.count) differ")
        for state in r.endStates.prefix(limit) {
            var title = "  \(label(state.recorded))"
            if let other = state.rerun, other != state.recorded { title += " (in the run: \(other.name))" }
            title += state.since.map { ", different since \($0.rfc3339)" } ?? ", never the same"
            if !state.existsInRerun {
                lines.append(title + (state.rerun == nil ? ": the run has no counterpart" : ": deleted in the run"))
            } else if !state.existsRecorded {
                lines.append(title + ": deleted in the history, not in the run")
            } else {
                lines.append(title + ":")
                for change in state.changes.prefix(8) { lines.append("      \(change)") }
                if state.changes.count > 8 { lines.append("      … and \(state.changes.count - 8) more") }
            }
        }
        if r.endStates.count > limit { lines.append("  … and \(r.endStates.count - limit) more (--limit)") }
        lines.append(r.diverged ? "diverged" : "no divergence")
        return lines.joined(separator: "\n")
    }

    /// When the run created the matched counterparts, relative to the recorded creations.
    static func lag(_ range: ClosedRange<Duration>) -> String {
        func words(_ d: Duration) -> String {
            d < .zero ? "\((Duration.zero - d).goString) earlier" : d == .zero ? "at the recorded time" : "\(d.goString) later"
        }
        if range.lowerBound == range.upperBound {
            return range.lowerBound == .zero ? "all created at their recorded times" : "all created \(words(range.lowerBound))"
        }
        return "created from \(words(range.lowerBound)) to \(words(range.upperBound))"
    }

    static func names(_ keys: [ObjectKey], limit: Int) -> String {
        keys.prefix(limit).map(\.name).joined(separator: ", ") + (keys.count > limit ? ", … (\(keys.count) in all)" : "")
    }

    static func json(_ r: HistoryRerun.Report) -> JSONValue {
        func key(_ k: ObjectKey?) -> JSONValue {
            guard let k else { return .null }
            return ["kind": .string(k.kind), "namespace": .string(k.namespace), "name": .string(k.name)]
        }
        func seconds(_ d: Duration) -> JSONValue { .double(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) }
        return [
            "events": .int(Int64(r.events)), "applied": .int(Int64(r.applied)), "replaced": .int(Int64(r.replaced)),
            "diverged": .bool(r.diverged),
            "writers": .array(r.writers.map { ["name": .string($0.name), "events": .int(Int64($0.events)), "replaced": .int(Int64($0.replaced))] }),
            "skipped": .array(r.skipped.map { ["line": .int(Int64($0.line)), "object": key($0.key), "reason": .string($0.reason)] }),
            "run": ["events": .int(Int64(r.rerunEvents)),
                    "writes": .array(r.rerunWrites.map { ["actor": .string($0.actor), "events": .int(Int64($0.events))] })],
            "creations": .array(r.creations.map { c in
                var o: JSONObject = ["kind": .string(c.kind), "recorded": .int(Int64(c.recorded)), "run": .int(Int64(c.rerun)),
                                     "matched": .int(Int64(c.matched)), "inHistory": .bool(c.inHistory),
                                     "unmatchedRecorded": .array(c.unmatchedRecorded.map { key($0) }),
                                     "unmatchedRun": .array(c.unmatchedRerun.map { key($0) })]
                if let lag = c.lag { o["lagSeconds"] = ["min": seconds(lag.lowerBound), "max": seconds(lag.upperBound)] }
                return .object(o)
            }),
            "compared": .int(Int64(r.compared)),
            "endStates": .array(r.endStates.map { s in
                ["recorded": key(s.recorded), "run": key(s.rerun), "existsRecorded": .bool(s.existsRecorded),
                 "existsInRun": .bool(s.existsInRerun), "changes": changesJSON(s.changes),
                 "since": s.since.map { .string($0.rfc3339) } ?? .null]
            }),
        ]
    }
}

/// A history file read a block of lines at a time, each line parsed as ``History/parseLine(_:number:)``.
struct HistoryFile: HistorySource {
    let path: String

    func makeReader() throws -> any HistoryReader {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError("error: cannot read \(path)") }
        return Reader(path: path, handle: handle)
    }

    final class Reader: HistoryReader {
        let path: String
        let handle: FileHandle
        var buffer: [UInt8] = []
        var start = 0
        var line = 0
        var atEnd = false

        init(path: String, handle: FileHandle) {
            self.path = path
            self.handle = handle
        }
        deinit { try? handle.close() }

        /// Up to 1,024 entries; nil once the file is read. Never an empty batch before the end.
        func next() throws -> [History.Entry]? {
            var out: [History.Entry] = []
            while out.count < 1024 {
                if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    try parse(buffer[start..<newline])
                    start = newline + 1
                } else if atEnd {
                    if start < buffer.count { try parse(buffer[start...]) }
                    start = buffer.count
                    break
                } else {
                    buffer.removeSubrange(0..<start)
                    start = 0
                    if let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { atEnd = true }
                }
            }
            return out.isEmpty ? nil : out

            func parse(_ bytes: ArraySlice<UInt8>) throws {
                line += 1
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw CLIError("error: \(path): line \(line): not UTF-8 text")
                }
                if let entry = try History.parseLine(Substring(text), number: line) { out.append(entry) }
            }
        }
    }
}

