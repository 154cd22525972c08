import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaLog
import Testing

@Suite("processes: durability and cross-process watch")
struct DurabilityTests {
    @Test("a writer killed with SIGKILL mid-stream loses no acknowledged write, and the log opens cleanly", arguments: 0..<8)
    func killNine(round: Int) async throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("data")
        // Earlier rounds' data stays: each round kills a writer appending to the same log.
        for attempt in 0..<3 {
            let process = Process()
            process.executableURL = productsDirectory.appendingPathComponent("OrcaLogWriter")
            process.arguments = [data, "100000", "r\(round)a\(attempt)"]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Let it write for a varying while, then kill it without warning.
            try await Task.sleep(for: .milliseconds(150 + 70 * ((round + attempt) % 5)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            let acknowledged = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .split(separator: "\n").filter { $0.hasPrefix("ack ") && $0.split(separator: " ").count == 3 }
            let log = try LMDBEventLog(path: data, options: .init(create: false))
            let records = try log.readAll()
            #expect(records.map(\.seq) == (0..<records.count).map { UInt64($0) + 1 })  // contiguous from 1
            let bySeq = Dictionary(uniqueKeysWithValues: records.map { ($0.seq, $0.name) })
            #expect(!acknowledged.isEmpty)
            for line in acknowledged {
                let parts = line.split(separator: " ")
                let seq = try #require(UInt64(parts[1]))
                #expect(bySeq[seq] == String(parts[2]), "acknowledged \(parts[2]) at seq \(seq) is missing")
            }
        }
    }

    @Test("a watch sees appends made by another process, in order, promptly")
    func crossProcessWatch() async throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("data")
        let log = try LMDBEventLog(path: data)
        let watcher = Task {
            var names: [String] = []
            for try await record in log.watch(from: 0) {
                names.append(record.name)
                if names.count == 40 { break }
            }
            return names
        }
        let result = try run("OrcaLogWriter", [data, "40", "x"])
        #expect(result.status == 0)
        let names = try await watcher.value
        #expect(Set(names) == Set((0..<40).map { "x-\($0)" }))
        #expect(try log.readAll().map(\.name) == names)
    }
}
