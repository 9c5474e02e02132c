import CairnTestSupport
import Foundation
import Multiformats
import Testing

import CairnSystem

/// Crash safety and concurrency of the store, through real `cairn` processes.
@Suite("Store crash safety and concurrency", .serialized)
struct StoreCrashTests {
    /// Starts `cairn ARGS`, SIGKILLs it after `delay`, returns what it printed before dying and
    /// whether the kill found it still running.
    static func runAndKill(_ arguments: [String], after delay: Double) throws -> (printed: String, killedRunning: Bool) {
        try runAndKill(arguments) { _ in
            usleep(UInt32(delay * 1_000_000))
            return Data()
        }
    }

    /// Starts `cairn ARGS`, reads its output until it has printed `lines` lines (each one a
    /// write it acknowledged), then SIGKILLs it: the kill point follows the write progress, not a
    /// clock. Returns everything it printed and whether the kill found it still running.
    static func runAndKill(_ arguments: [String], afterLines lines: Int) throws -> (printed: String, killedRunning: Bool) {
        try runAndKill(arguments) { output in
            var read = Data()
            while read.count(where: { $0 == UInt8(ascii: "\n") }) < lines {
                let data = output.availableData
                if data.isEmpty { break }  // it ended first
                read += data
            }
            return read
        }
    }

    /// Starts `cairn ARGS`, calls `wait` with its stdout (which returns what it read), SIGKILLs
    /// it, and collects the rest of the output.
    static func runAndKill(_ arguments: [String], wait: (FileHandle) throws -> Data) throws -> (printed: String, killedRunning: Bool) {
        let binary = try #require(CairnProcess.binary)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var printed = try wait(out.fileHandleForReading)
        kill(process.processIdentifier, SIGKILL)
        printed += out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let killed = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
        return (String(decoding: printed, as: UTF8.self), killed)
    }

    @Test func killedWritersAndGCLeaveAConsistentStoreAndLoseNothingAcknowledged() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        var rng = SplitMix64(seed: 2024)
        var files: [String: [UInt8]] = [:]   // path → bytes
        for i in 0..<6 {
            let bytes = SplitMix64.bytes(seed: UInt64(500 + i), count: 1_500_000 + i * 100_000)
            files[try box.write("f\(i)", bytes)] = bytes
        }
        let paths = files.keys.sorted()
        var acknowledged: [String: [UInt8]] = [:]   // pinned root → bytes
        // 15 kills of `cairn add` (several files, small chunks → many blocks and batches), each
        // after 1 … 5 of its 6 files were acknowledged: always part way through the writes.
        var addsKilledMidWrite = 0
        for round in 0..<15 {
            let lines = 1 + Int(rng.next() % UInt64(paths.count - 1))
            let (printed, killed) = try Self.runAndKill(["add", "--store", box.store, "--chunker", "size-4096",
                                                         "--pin-name", "round\(round)"] + paths, afterLines: lines)
            var added = 0
            for line in printed.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count == 3, fields[0] == "added" else { continue }
                acknowledged[String(fields[1])] = files[box.root + "/" + fields[2]]
                added += 1
            }
            if killed && added >= lines && added < paths.count { addsKilledMidWrite += 1 }
        }
        // The stated share: at least 12 of the 15 kills land between acknowledged files.
        #expect(addsKilledMidWrite >= 12, "only \(addsKilledMidWrite) of 15 adds were killed mid-write")
        // Garbage for gc: unpinned blocks, then 15 kills of `cairn gc` forced to compact.
        var gcsKilledRunning = 0
        // The kill points are drawn within the first 5–65 % of one whole gc run on this machine,
        // timed once here (an unkilled run over the same amount of garbage), so a faster or a
        // loaded machine moves them with the command instead of letting it finish first.
        let sample = try box.write("junk", SplitMix64.bytes(seed: 899, count: 400_000))
        #expect(try box.cairn(["add", "--pin=false", "-Q", sample]).status == 0)
        let started = DispatchTime.now().uptimeNanoseconds
        #expect(try box.cairn(["gc", "--compact-threshold", "1"]).status == 0)
        let gcSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        for round in 0..<15 {
            let junk = try box.write("junk", SplitMix64.bytes(seed: UInt64(900 + round), count: 400_000))
            #expect(try box.cairn(["add", "--pin=false", "-Q", junk]).status == 0)
            let delay = gcSeconds * (0.05 + 0.6 * Double(rng.next() % 1000) / 1000)
            if try Self.runAndKill(["gc", "--store", box.store, "--compact-threshold", "1"], after: delay).killedRunning {
                gcsKilledRunning += 1
            }
        }
        print("StoreCrashTests: \(addsKilledMidWrite) of 15 adds killed mid-write, \(gcsKilledRunning) of 15 gc runs killed while running")
        // gc prints nothing while it works, so its kill points stay timed; at least 10 of the 15
        // must still find it running. Under a sanitizer one run's time varies far more (9 of 15
        // seen under ASan with the machine loaded), so a third is asked there.
        let required = Sanitizer.active == nil ? 10 : 5
        #expect(gcsKilledRunning >= required, "only \(gcsKilledRunning) of 15 gc runs were still running when killed")
        #expect(acknowledged.count >= 2, "too few acknowledged files to check")
        let verify = try box.cairn(["store", "verify"])
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderr)")
        for (root, bytes) in acknowledged {
            let cat = try box.cairn(["cat", root])
            #expect(cat.status == 0, "\(root): \(cat.stderr)")
            #expect([UInt8](cat.stdout) == bytes)
        }
        // A final, uninterrupted gc still works and keeps every acknowledged file.
        #expect(try box.cairn(["gc"]).status == 0)
        #expect(try box.cairn(["store", "verify"]).status == 0)
        for (root, bytes) in acknowledged {
            #expect([UInt8](try box.cairn(["cat", root]).stdout) == bytes)
        }
    }

    @Test func killedBlockPutLoopKeepsEveryPrintedBlock() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        var rng = SplitMix64(seed: 77)
        var printed: [(String, [UInt8])] = []
        var killedMidWrite = 0
        for round in 0..<15 {
            // One `block put` process storing 40 files, killed after 1 … 39 printed CIDs.
            var paths: [String] = []
            var contents: [[UInt8]] = []
            for i in 0..<40 {
                let bytes = SplitMix64.bytes(seed: UInt64(round * 100 + i), count: 20_000)
                paths.append(try box.write("b\(i)", bytes))
                contents.append(bytes)
            }
            let lines = 1 + Int(rng.next() % 39)
            let (output, killed) = try Self.runAndKill(["block", "put", "--store", box.store] + paths, afterLines: lines)
            let cids = output.split(separator: "\n")
            if killed && cids.count >= lines && cids.count < paths.count { killedMidWrite += 1 }
            for (index, line) in cids.enumerated() { printed.append((String(line), contents[index])) }
        }
        // The stated share: at least 12 of the 15 kills land part way through the 40 writes.
        #expect(killedMidWrite >= 12, "only \(killedMidWrite) of 15 block puts were killed mid-write")
        let verify = try box.cairn(["store", "verify"])
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderr)")
        for (cid, bytes) in printed {
            #expect([UInt8](try box.cairn(["block", "get", cid]).stdout) == bytes)
        }
    }

    @Test func concurrentWritersAndReadersLoseNothing() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        var seeded: [(String, [UInt8])] = []
        for i in 0..<5 {
            let bytes = SplitMix64.bytes(seed: UInt64(3000 + i), count: 50_000)
            seeded.append((try box.putBlock(bytes).description, bytes))
        }
        let shared = SplitMix64.bytes(seed: 4000, count: 10_000)
        let sharedPath = try box.write("shared", shared)
        final class Outcome: @unchecked Sendable {
            let lock = NSLock()
            var failures: [String] = []
            var stored: [(String, [UInt8])] = []
        }
        let outcome = Outcome()
        let seededCopy = seeded
        let store = box.store, root = box.root
        DispatchQueue.concurrentPerform(iterations: 6) { worker in
            for step in 0..<8 {
                do {
                    if worker < 4 {
                        let bytes = SplitMix64.bytes(seed: UInt64(5000 + worker * 100 + step), count: 30_000)
                        let path = root + "/w\(worker)-\(step)"
                        try Data(bytes).write(to: URL(fileURLWithPath: path))
                        let result = try CairnProcess.run(["block", "put", "--store", store, path, sharedPath])
                        let lines = result.stdoutText.split(separator: "\n").map(String.init)
                        outcome.lock.withLock {
                            if result.status != 0 || lines.count != 2 { outcome.failures.append("put: \(result.stderr)") }
                            else { outcome.stored.append((lines[0], bytes)); outcome.stored.append((lines[1], shared)) }
                        }
                    } else {
                        let (cid, bytes) = seededCopy[(worker + step) % seededCopy.count]
                        let result = try CairnProcess.run(["block", "get", "--store", store, cid])
                        if result.status != 0 || [UInt8](result.stdout) != bytes {
                            outcome.lock.withLock { outcome.failures.append("get \(cid): \(result.stderr)") }
                        }
                    }
                } catch {
                    outcome.lock.withLock { outcome.failures.append("\(error)") }
                }
            }
        }
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
        #expect(outcome.stored.count == 64)
        for (cid, bytes) in outcome.stored + seeded {
            #expect([UInt8](try box.cairn(["block", "get", cid]).stdout) == bytes)
        }
        #expect(try box.cairn(["store", "verify"]).status == 0)
    }
}
