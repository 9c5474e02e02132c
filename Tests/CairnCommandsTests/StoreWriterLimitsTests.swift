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

    /// …and index rows spilled to disk every 7 rows (issue 15 item 14: the import's pending
    /// rows are bounded in memory).
    static let smallPacksAndSpills = smallPacks.merging(["CAIRN_TEST_SPILL_ROWS": "7"]) { $1 }

    static func run(_ box: StoreSandbox, _ arguments: [String], stdin: Data? = nil,
                    environment: [String: String] = smallPacks) throws -> CairnProcess.Result {
        try CairnProcess.run(arguments + ["--store", box.store], stdin: stdin, environment: environment)
    }

    static func packFiles(_ box: StoreSandbox) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: box.store + "/packs").sorted()
    }

    @Test(arguments: [smallPacks, smallPacksAndSpills])
    func carImportAcrossPackBoundariesIsAllOrNothing(environment: [String: String]) throws {
        func run(_ box: StoreSandbox, _ arguments: [String]) throws -> CairnProcess.Result {
            try Self.run(box, arguments, environment: environment)
        }
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let kept = SplitMix64.bytes(seed: 31, count: 150_000)
        let keptRoot = try run(box, ["add", "-Q", "--chunker", "size-8192", try box.write("kept", kept)])
            .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes = SplitMix64.bytes(seed: 32, count: 600_000)
        let car = box.root + "/x.car"
        #expect(try CairnProcess.run(["add", "--car", car, "--chunker", "size-8192", try box.write("x", bytes)]).status == 0)
        var damaged = try Data(contentsOf: URL(fileURLWithPath: car))
        damaged[damaged.count - 1] ^= 0x55   // the last block no longer hashes to its CID
        let bad = box.root + "/bad.car"
        try damaged.write(to: URL(fileURLWithPath: bad))
        let statBefore = try run(box, ["store", "stat"]).stdoutText
        let packsBefore = try Self.packFiles(box)
        let failed = try run(box, ["car", "import", bad])
        #expect(failed.isCleanFailure, "\(failed.stderr)")
        #expect(try run(box, ["store", "stat"]).stdoutText == statBefore)
        #expect(try Self.packFiles(box) == packsBefore)
        #expect(try run(box, ["store", "verify"]).status == 0)
        // The good CAR crosses the same boundaries and lands whole.
        let imported = try run(box, ["car", "import", car])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try Self.packFiles(box).count > packsBefore.count + 3)
        let root = try #require(imported.stdoutText.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect([UInt8](try run(box, ["cat", root]).stdout) == bytes)
        #expect([UInt8](try run(box, ["cat", keptRoot]).stdout) == kept)
        #expect(try run(box, ["store", "verify"]).status == 0)
    }

    /// A CAR holding every block twice (two CARs of the same file, the second's header cut):
    /// with rows spilled every 7, the second copy of each block meets its first in the spill
    /// table, so the store ends exactly as after importing the file's CAR once.
    @Test func duplicateBlocksAcrossSpilledRowsAreStoredOnce() throws {
        let bytes = SplitMix64.bytes(seed: 33, count: 200_000)
        let once = try StoreSandbox(), twice = try StoreSandbox()
        defer { once.cleanup(); twice.cleanup() }
        let car = once.root + "/x.car"
        #expect(try CairnProcess.run(["add", "--car", car, "--chunker", "size-4096", try once.write("x", bytes)]).status == 0)
        let single = try Data(contentsOf: URL(fileURLWithPath: car))
        var headerLength = 0, shift = 0, index = 0
        while true {
            let byte = single[index]
            headerLength |= Int(byte & 0x7F) << shift
            shift += 7
            index += 1
            if byte < 0x80 { break }
        }
        let doubled = twice.root + "/double.car"
        try (single + single[(index + headerLength)...]).write(to: URL(fileURLWithPath: doubled))
        let a = try Self.run(once, ["car", "import", car], environment: Self.smallPacksAndSpills)
        let b = try Self.run(twice, ["car", "import", doubled], environment: Self.smallPacksAndSpills)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        #expect(a.stdoutText.hasPrefix("imported 50 blocks") && b.stdoutText.hasPrefix("imported 50 blocks"))
        // Everything but the path line: blocks, bytes, packs, pack bytes (no record twice), pins.
        let statOnce = try Self.run(once, ["store", "stat"]).stdoutText.split(separator: "\n").dropFirst()
        #expect(statOnce.contains("blocks: 50"), "\(statOnce)")
        let statTwice = try Self.run(twice, ["store", "stat"]).stdoutText.split(separator: "\n").dropFirst()
        #expect(statTwice == statOnce, "\(statTwice)")
        #expect(try Self.run(twice, ["store", "verify"]).status == 0)
        let root = try #require(b.stdoutText.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect([UInt8](try Self.run(twice, ["cat", root]).stdout) == bytes)
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
