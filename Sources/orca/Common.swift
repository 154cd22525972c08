import ArgumentParser
import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaLog
import OrcaReplay
import OrcaSimulation
import OrcaStore

/// Options every command shares.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory holding the event log.")
    var data: String = "./.orca"

    /// Opens the log; `create` only for commands that write.
    func openLog(create: Bool) throws -> LMDBEventLog { try Self.openLog(at: data, create: create) }

    /// Opens the log in `path` (``openLog(create:)`` for a directory named otherwise).
    static func openLog(at path: String, create: Bool) throws -> LMDBEventLog {
        do {
            return try LMDBEventLog(path: path, options: .init(create: create))
        } catch {
            throw CLIError("error: \(error.message)")
        }
    }
}

/// A message for stderr and a non-zero exit status.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32
    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }
    var description: String { message }
}

enum Output {
    static func err(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// kubectl's rendering of a server error (`cmdutil.CheckErr`): an Invalid one with field
    /// causes as `The Kind "name" is invalid: cause`, or one cause per `* ` line when there are
    /// several; any other as `Error from server (Reason): message`.
    static func describe(_ error: any Error) -> String {
        if let e = error as? StoreError {
            if e.reason == .invalid, let kind = e.detailsKind, !e.causes.isEmpty {
                let head = "The \(kind) \"\(e.detailsName ?? "")\" is invalid: "
                return e.causes.count == 1 ? head + e.causes[0].description
                    : head + "\n" + e.causes.map { "* \($0.description)" }.joined(separator: "\n")
            }
            return "Error from server (\(e.reason)): \(e.message)"
        }
        if let e = error as? LogError { return "error: \(e.message)" }
        if let e = error as? CLIError { return e.message }
        return "error: \(error)"
    }
}

extension AsyncParsableCommand {
    /// Runs `body`, printing errors kubectl-style and exiting non-zero on failure.
    func reportingErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ScenarioError {
            Output.err("error: \(error)")
            throw ExitCode(2)
        } catch let error as CLIError {
            Output.err(error.message)
            throw ExitCode(error.exitCode)
        } catch let error as ExitCode {
            throw error
        } catch {
            Output.err(Output.describe(error))
            throw ExitCode(1)
        }
    }
}

/// Resolves KIND as kubectl does (plural, singular, short name or Kind, any case).
func resolveKind(_ name: String) throws -> ResourceKind {
    guard let kind = ResourceKind.lookup(name) else {
        throw CLIError("error: the server doesn't have a resource type \"\(name)\"")
    }
    return kind
}

/// The moment ages count from when no `--at-seq`/`--at-time` is given: now, as for kubectl —
/// except in a log `orca simulate` wrote (its first event a scenario's), whose clock is
/// virtual: there it is the time of the log's last event.
func presentMoment(of log: any EventLog) throws -> Timestamp {
    if let first = try log.read(from: 1, limit: 1).first, first.actor.hasPrefix("scenario/"),
       let last = try log.read(from: try log.latestSeq(), limit: 1).first {
        return last.time
    }
    return SystemClock().now()
}

/// `--at-seq N` / `--at-time T` (RFC 3339, or a duration since the log's first event).
struct TimeTravelOptions: ParsableArguments {
    @Option(name: .customLong("at-seq"), help: "Show the state as of this seq.")
    var atSeq: UInt64?
    @Option(name: .customLong("at-time"), help: "Show the state as of this time (RFC 3339, or a duration since the log's start such as 45s).")
    var atTime: String?

    /// The seq to read at (nil = latest), and the moment it stands for.
    func resolve(_ log: any EventLog) throws -> (seq: UInt64?, time: Timestamp?) {
        try resolveMoment(seq: atSeq, time: atTime, options: ("--at-seq", "--at-time"), in: log)
    }
}

/// The seq a `--…-seq N` / `--…-time T` pair names (nil = latest), and the moment it stands for;
/// `options` names the pair in errors.
func resolveMoment(seq: UInt64?, time: String?, options: (seq: String, time: String), in log: any EventLog) throws -> (seq: UInt64?, time: Timestamp?) {
    if seq != nil, time != nil { throw CLIError("error: \(options.seq) and \(options.time) cannot be used together") }
    if let seq {
        let record = try log.read(from: seq, limit: 1).first
        let latest = try log.latestSeq()
        let at = record?.seq == seq ? record?.time : try log.read(from: latest, limit: 1).first?.time
        return (seq, at)
    }
    guard let time else { return (nil, nil) }
    let target: Timestamp
    if let t = Timestamp(rfc3339: time) {
        target = t
    } else if let d = Duration.parseGo(time) {
        guard let first = try log.read(from: 1, limit: 1).first else { return (0, nil) }
        target = first.time.adding(d)
    } else {
        throw CLIError("error: invalid \(options.time) \"\(time)\": use RFC 3339 (2026-01-01T00:00:00Z) or a duration such as 45s")
    }
    // The last event at or before the target time.
    return (try log.lastSeq(atOrBefore: target), target)
}

/// The objects of one kind at a moment: the projection (latest) or a fold of the log (time travel).
func objects(in log: any EventLog, kind: String, namespace: String?, atSeq: UInt64?) throws -> [EventRecord] {
    guard let atSeq else { return try log.list(kind: kind, namespace: namespace).records }
    return try EventLogProjection.state(of: log, atSeq: atSeq).values
        .filter { $0.kind == kind && (namespace == nil || $0.namespace == namespace) }
        .sorted { $0.key < $1.key }
}

/// An object as the reading commands name it: `Pod default/web-1`, `Node node-2`.
func label(_ key: ObjectKey) -> String {
    key.namespace.isEmpty ? "\(key.kind) \(key.name)" : "\(key.kind) \(key.namespace)/\(key.name)"
}

/// `-o text|json` of the reading commands.
func checkTextOrJSON(_ output: String) throws {
    guard output == "text" || output == "json" else { throw CLIError("error: --output must be text or json") }
}

/// Field changes as `-o json` prints them: `[{"path", "old", "new"}]`, null for an absent side.
func changesJSON(_ changes: [CauseChain.Change]) -> JSONValue {
    .array(changes.map { ["path": .string($0.path), "old": $0.old ?? .null, "new": $0.new ?? .null] })
}

/// One event as the reading commands print it: `seq 12  2026-01-01T00:00:05Z  MODIFIED  Pod default/web-1  by kubelet/node-1`.
func eventLine(_ record: EventRecord) -> String {
    "seq \(record.seq)  \(record.time.rfc3339)  \(record.type.rawValue)  \(label(record.key))  by \(record.actor)"
}

/// Reads a file, or standard input for `-`.
func readInput(_ path: String) throws -> String {
    if path == "-" {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIError("error: the path \"\(path)\" does not exist")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw CLIError("error: \(path) is not UTF-8 text")
    }
    return text
}
