import Foundation

/// The directory holding the built executables (next to the test bundle).
let productsDirectory: URL = {
    var url = Bundle.main.bundleURL
    while !FileManager.default.fileExists(atPath: url.appendingPathComponent("orca").path), url.path != "/" {
        url.deleteLastPathComponent()
    }
    return url
}()

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a built executable to completion.
func run(_ tool: String, _ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = productsDirectory.appendingPathComponent(tool)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// A running `orca run` (or other long-lived tool) process: stops it on `stop()` or when released.
final class Server {
    let process = Process()
    let stderr = Pipe()

    /// Starts `tool arguments…` with its output captured.
    init(_ arguments: [String], tool: String = "orca") throws {
        process.executableURL = productsDirectory.appendingPathComponent(tool)
        process.arguments = arguments
        process.standardOutput = Pipe()
        process.standardError = stderr
        try process.run()
    }

    /// SIGINT, then waits: returns the exit status and everything the process wrote to stderr.
    func stop() -> (status: Int32, stderr: String) {
        process.interrupt()
        let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    deinit { if process.isRunning { process.terminate() } }
}

/// Calls `probe` every `interval` until it returns a value, at most `attempts` times.
func poll<T>(attempts: Int, every interval: Duration = .milliseconds(100), _ probe: () throws -> T?) async throws -> T? {
    for attempt in 0..<attempts {
        if let value = try probe() { return value }
        if attempt < attempts - 1 { try await Task.sleep(for: interval) }
    }
    return nil
}

/// `orca apply -f -` of `manifest`, retried while a starting `orca run` has not yet created the
/// data directory (up to 10 s). Returns whether it was applied.
func applyWhenReady(_ manifest: String, data: String) async throws -> Bool {
    try await poll(attempts: 200, every: .milliseconds(50)) {
        try run("orca", ["apply", "-f", "-", "--data", data], stdin: manifest).status == 0 ? true : nil
    } ?? false
}

final class TemporaryDirectory: @unchecked Sendable {
    // @unchecked: `path` is immutable.
    let path = NSTemporaryDirectory() + "orca-cli-" + UUID().uuidString
    init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    func sub(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The shared folder beside the repository (holds recorded histories), if present.
let sharedDirectory: URL? = {
    // CI and developers keep shared/ beside the repository; look in each parent of the package.
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    while url.path != "/" {
        url.deleteLastPathComponent()
        let shared = url.appendingPathComponent("shared")
        if FileManager.default.fileExists(atPath: shared.appendingPathComponent("histories").path) { return shared }
    }
    return nil
}()
