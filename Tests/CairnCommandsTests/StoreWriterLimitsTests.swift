import CairnTestSupport
import Foundation
import Testing

import CairnSystem

/// Issue 15 items 3 and 9: `car import` is all or nothing across pack boundaries; a writer
/// waiting for the lock says whom it waits for and honours `--lock-timeout`.
@Suite("cairn store writers: atomic import, lock waits", .serialized)
struct StoreWriterLimitsTests {
    /// Small packs, so a modest CAR crosses several pack boundaries.
    static let smallPacks = ["CAIRN_TEST_PACK_SIZE_LIMIT": "65536"]

    static func run(_ box: StoreSandbox, _ arguments: [String], stdin: Data? = nil) throws -> CairnProcess.Result {
        try CairnProcess.run(arguments + ["--store", box.store], stdin: stdin, environment: smallPacks)
    }

    static func packFiles(_ box: StoreSandbox) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: box.store + "/packs").sorted()
    }

    @Test func carImportAcrossPackBoundariesIsAllOrNothing() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let kept = SplitMix64.bytes(seed: 31, count: 150_000)
        let keptRoot = try Self.run(box, ["add", "-Q", "--chunker", "size-8192", try box.write("kept", kept)])
            .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes = SplitMix64.bytes(seed: 32, count: 600_000)
        let car = box.root + "/x.car"
        #expect(try CairnProcess.run(["add", "--car", car, "--chunker", "size-8192", try box.write("x", bytes)]).status == 0)
        var damaged = try Data(contentsOf: URL(fileURLWithPath: car))
        damaged[damaged.count - 1] ^= 0x55   // the last block no longer hashes to its CID
        let bad = box.root + "/bad.car"
        try damaged.write(to: URL(fileURLWithPath: bad))
        let statBefore = try Self.run(box, ["store", "stat"]).stdoutText
        let packsBefore = try Self.packFiles(box)
        let failed = try Self.run(box, ["car", "import", bad])
        #expect(failed.isCleanFailure, "\(failed.stderr)")
        #expect(try Self.run(box, ["store", "stat"]).stdoutText == statBefore)
        #expect(try Self.packFiles(box) == packsBefore)
        #expect(try Self.run(box, ["store", "verify"]).status == 0)
        // The good CAR crosses the same boundaries and lands whole.
        let imported = try Self.run(box, ["car", "import", car])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try Self.packFiles(box).count > packsBefore.count + 3)
        let root = try #require(imported.stdoutText.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect([UInt8](try Self.run(box, ["cat", root]).stdout) == bytes)
        #expect([UInt8](try Self.run(box, ["cat", keptRoot]).stdout) == kept)
        #expect(try Self.run(box, ["store", "verify"]).status == 0)
    }

    /// Starts `cairn add -` reading from a pipe we hold open: it takes the store lock and
    /// keeps it until its input ends.
    static func startHolder(_ box: StoreSandbox) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = try #require(CairnProcess.binary)
        process.arguments = ["add", "-Q", "-", "--store", box.store]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, input)
    }

    @Test func aWriterWaitingForAStoppedWriterSaysSoAndHonoursTheTimeout() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        _ = try box.putBlock(Array("first".utf8))
        let (holder, input) = try Self.startHolder(box)
        let pid = holder.processIdentifier
        defer {
            kill(pid, SIGCONT)
            try? input.fileHandleForWriting.close()
            holder.waitUntilExit()
        }
        // The lock file names the holder once it has the lock.
        var named = false
        for _ in 0..<500 where !named {
            named = (try? String(contentsOfFile: box.store + "/lock", encoding: .utf8)) == "\(pid)\n"
            if !named { usleep(20_000) }
        }
        #expect(named)
        kill(pid, SIGSTOP)
        let timed = try box.cairn(["block", "put", "--lock-timeout", "1500ms"], stdin: Data("second".utf8))
        #expect(timed.status == 1)
        let lines = timed.stderr.split(separator: "\n")
        #expect(lines.count == 2, "\(timed.stderr)")
        #expect(lines.first == "waiting for the store lock held by PID \(pid)")
        #expect(lines.last?.hasPrefix("Error: gave up after") == true)
        #expect(try box.cairn(["block", "put", "--lock-timeout", "soon"], stdin: Data("x".utf8)).status == 64)
        // Without a timeout the writer waits, says so once, and goes on when the holder does.
        let waiter = Process()
        waiter.executableURL = try #require(CairnProcess.binary)
        waiter.arguments = ["block", "put", "--store", box.store]
        let waiterIn = Pipe(), waiterErr = Pipe()
        waiter.standardInput = waiterIn
        waiter.standardOutput = FileHandle.nullDevice
        waiter.standardError = waiterErr
        try waiter.run()
        waiterIn.fileHandleForWriting.write(Data("third".utf8))
        try waiterIn.fileHandleForWriting.close()
        let notice = String(decoding: waiterErr.fileHandleForReading.availableData, as: UTF8.self)
        #expect(notice == "waiting for the store lock held by PID \(pid)\n")
        kill(pid, SIGCONT)
        try input.fileHandleForWriting.close()
        holder.waitUntilExit()
        waiter.waitUntilExit()
        #expect(waiter.terminationStatus == 0)
        #expect(holder.terminationStatus == 0)
    }
}
