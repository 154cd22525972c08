import Foundation
import OrcaAPI
@testable import OrcaLMDB
import OrcaLog
import Testing

@Suite("opening bad data directories")
struct LogOpenErrorTests {
    func openError(_ path: String, options: LMDBEventLog.Options = .init()) -> LogError? {
        do {
            _ = try LMDBEventLog(path: path, options: options)
            return nil
        } catch {
            return error
        }
    }

    func listing(_ path: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

    @Test("a directory with foreign files is not an Orca log, and nothing is written to it")
    func foreignDirectory() throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("foreign")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try "hello".write(toFile: path + "/notes.txt", atomically: true, encoding: .utf8)
        let error = try #require(openError(path))
        #expect(error.code == .notAnOrcaLog)
        #expect(error.message.contains(path))
        #expect(listing(path) == ["notes.txt"])
    }

    @Test("a data.mdb that is not LMDB is rejected without change")
    func foreignFile() throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("data")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let junk = Data(repeating: 0x41, count: 16384)
        try junk.write(to: URL(fileURLWithPath: path + "/data.mdb"))
        let error = try #require(openError(path))
        #expect(error.code == .notAnOrcaLog)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == junk)
        #expect(listing(path) == ["data.mdb"])
    }

    @Test("a truncated log is reported as truncated, not a crash")
    func truncated() async throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("data")
        do {
            let log = try LMDBEventLog(path: path)
            let blob = JSONValue.string(String(repeating: "y", count: 2000))
            try await log.append((0..<200).map { podDraft("p\($0)", extra: ["blob": blob]) })
        }
        let file = path + "/data.mdb"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        let error = try #require(openError(path))
        #expect(error.code == .corrupt)
        #expect(error.message.contains("truncated"))
        // A file cut inside its header is caught too.
        let handle2 = try #require(FileHandle(forWritingAtPath: file))
        try handle2.truncate(atOffset: 10)
        try handle2.close()
        #expect(openError(path)?.code == .corrupt)
    }

    @Test("a corrupt record is a clear error naming its seq")
    func corruptRecord() async throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("data")
        do {
            let log = try LMDBEventLog(path: path)
            try await log.append([podDraft("marker-pod-aaaaaaaaaaaaaaaaaaaaaaaa")])
        }
        // Change one byte of the record (inside the pod's name): its checksum no longer matches.
        let file = URL(fileURLWithPath: path + "/data.mdb")
        var bytes = try Data(contentsOf: file)
        let needle = Data("marker-pod-aaaaaaaaaaaaaaaaaaaaaaaa".utf8)
        let range = try #require(bytes.range(of: needle))
        bytes[range.lowerBound + 20] = UInt8(ascii: "b")
        try bytes.write(to: file)
        let log = try LMDBEventLog(path: path)
        #expect(throws: LogError.self) { try log.readAll() }
        do {
            _ = try log.readAll()
        } catch {
            #expect(error.code == .corrupt)
            #expect(error.message.contains("seq 1"))
            #expect(error.message.contains("checksum mismatch"))
        }
    }

    @Test("a log of an older format is read as it is and marked with this format by its first write; a newer one is refused")
    func formatVersions() async throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("data")
        do {
            let log = try LMDBEventLog(path: path)
            #expect(try log.environment.storedFormatVersion() == 2)
            try await log.append([podDraft("before")])
            // What an Orca of format 1 (records of versions 1 and 2 only) would have left.
            try log.environment.setFormatVersion(1)
        }
        do {
            let log = try LMDBEventLog(path: path)
            #expect(try log.readAll().map(\.name) == ["before"])
            #expect(try log.environment.storedFormatVersion() == 1, "reading changes nothing")
            try await log.append([podDraft("after")])
            #expect(try log.environment.storedFormatVersion() == 2)
            #expect(try log.readAll().map(\.name) == ["before", "after"])
            try log.environment.setFormatVersion(3)
        }
        let error = try #require(openError(path))
        #expect(error.code == .newerFormat)
        #expect(error.message.contains("has format version 3, newer than this Orca reads (2); upgrade Orca"))
    }

    @Test("a read-only open of a missing directory creates nothing")
    func missing() {
        let dir = TemporaryDirectory()
        let path = dir.sub("nothing-here")
        #expect(openError(path, options: .init(create: false))?.code == .notFound)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("an LMDB environment of another program is not an Orca log")
    func otherLMDB() throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("other")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mdb_load")
        process.arguments = ["-T", path]
        let input = Pipe()
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data("hello\nworld\n".utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        #expect(openError(path)?.code == .notAnOrcaLog)
    }
}
