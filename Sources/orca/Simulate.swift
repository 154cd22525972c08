import ArgumentParser
import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaRuntime
import OrcaSimulation
import OrcaStore

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario in deterministic simulation, writing the event log to --data.",
        discussion: """
        Runs every built-in controller, the scheduler, the garbage collectors and a simulated kubelet per \
        node on a virtual clock (see Docs/Scenarios.md). The same scenario and seed give a byte-identical log.

        Exit status: 0 when the run finished and every expectation held; 1 when an expectation failed; \
        2 on bad input (the file, line and field are named).
        """)

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @OptionGroup var dataOptions: DataOptions

    @Option(name: .long, help: "Run this long instead of the scenario's `until` (Go duration: 90s, 15m, 1h).")
    var until: String?

    @Option(name: .long, help: "Seed for UIDs and generated names instead of the scenario's `seed`.")
    var seed: String?

    @Option(name: .long, help: ArgumentHelp(
        "Also run the controllers of a plugin library (repeatable; see `orca run --help`).", valueName: "PATH"))
    var plugin: [String] = []

    @Flag(name: .long, help: "Replace the contents of a non-empty data directory.")
    var force = false

    func run() async throws {
        try await reportingErrors { try await simulate() }
    }

    func simulate() async throws {
        let text: String
        do {
            text = try readInput(scenario)
        } catch let error as CLIError {
            throw CLIError(error.message, exitCode: 2)
        }
        var parsed = try Scenario.parse(text, file: scenario)
        if let until {
            guard let d = Duration.parseGo(until), d >= .zero else {
                throw CLIError("error: invalid --until \"\(until)\": use a Go duration such as 90s, 15m or 1h", exitCode: 2)
            }
            parsed.until = d
        }
        if let seed {
            guard let s = UInt64(seed) else { throw CLIError("error: invalid --seed \"\(seed)\": use a non-negative integer", exitCode: 2) }
            parsed.seed = s
        }
        let plugins: [(path: String, plugin: OrcaPlugin)]
        do {
            plugins = try Plugins.load(plugin)
        } catch let error as CLIError {
            throw CLIError(error.message, exitCode: 2)
        }
        try prepareDataDirectory(dataOptions.data, force: force)
        let log: LMDBEventLog
        do {
            log = try LMDBEventLog(path: dataOptions.data, options: .init(create: true, durability: .unsynced, commits: .inline, writeMap: true))
        } catch {
            throw CLIError("error: \(error.message)", exitCode: 2)
        }
        let simulation = Simulation(scenario: parsed, log: log)
        for (path, loaded) in plugins {
            do {
                try loaded.register(from: path) { descriptor throws(RegistryError) in try simulation.install(descriptor) }
            } catch {
                throw CLIError("error: \(error)", exitCode: 2)
            }
        }
        let wallStart = ContinuousClock.now
        let reporter = ProgressReporter(start: wallStart)
        let last = try await simulation.run { progress in reporter.report(progress) }
        // The run commits without fsync (a crash mid-run leaves a log to throw away); the
        // finished log is flushed before the command reports it.
        do { try log.sync() } catch { throw CLIError("error: \(error.message)", exitCode: 1) }
        let wall = ContinuousClock.now - wallStart
        reporter.finish()
        for refusal in simulation.refusedWrites { Output.err("warning: \(refusal)") }
        let failures = try simulation.checkExpectations()
        log.close()
        let seconds = max(Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18, 1e-6)
        let title = parsed.name.isEmpty ? scenario : parsed.name
        print("\(title): simulated \(parsed.until.goString) in \(String(format: "%.2f", seconds))s wall, \(last) events (\(Int(Double(last) / seconds)) events/s), log in \(dataOptions.data)")
        if failures.isEmpty {
            if !parsed.expectations.isEmpty { print("all \(parsed.expectations.count) expectations held") }
            return
        }
        for failure in failures { Output.err("FAILED \(failure)") }
        Output.err("\(failures.count) of \(parsed.expectations.count) expectations failed")
        throw ExitCode(1)
    }
}

/// A non-empty data directory is refused unless `force`, which empties it first (for commands
/// that write a whole new log: `simulate`, `rerun`).
func prepareDataDirectory(_ path: String, force: Bool) throws {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
    guard isDirectory.boolValue else { throw CLIError("error: \(path) exists and is not a directory", exitCode: 2) }
    let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? []
    guard !contents.isEmpty else { return }
    guard force else {
        throw CLIError("error: the data directory \(path) is not empty; choose another with --data, or pass --force to replace its contents", exitCode: 2)
    }
    for item in contents { try fm.removeItem(atPath: path + "/" + item) }
}

/// Prints a progress line to stderr about once a second during long runs.
final class ProgressReporter: @unchecked Sendable {
    let start: ContinuousClock.Instant
    var last: ContinuousClock.Instant
    var printed = false
    let lock = NSLock()

    init(start: ContinuousClock.Instant) {
        self.start = start
        last = start
    }

    func report(_ progress: Simulation.Progress) {
        lock.lock()
        defer { lock.unlock() }
        let now = ContinuousClock.now
        guard now - last >= .seconds(1) else { return }
        last = now
        printed = true
        FileHandle.standardError.write(Data("\rsimulating: t=\(progress.elapsed.goString) \(progress.events) events   ".utf8))
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if printed { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
