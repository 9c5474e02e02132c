import CairnTestSupport
import Foundation
import Multiformats
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Crash safety and concurrency of the store, through real `cairn` processes.
@Suite("Store crash safety and concurrency", .serialized)
struct StoreCrashTests {
    /// Starts `cairn ARGS`, SIGKILLs it after `delay`, returns what it printed before dying.
    static func runAndKill(_ arguments: [String], after delay: Double) throws -> String {
        let binary = try #require(CairnProcess.binary)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(UInt32(delay * 1_000_000))
        kill(process.processIdentifier, SIGKILL)
        let printed = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: printed, as: UTF8.self)
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
        // 15 kills of `cairn add` (several files, small chunks → many blocks and batches).
        for round in 0..<15 {
            let delay = Double(rng.next() % 400) / 1000
            let printed = try Self.runAndKill(["add", "--store", box.store, "--chunker", "size-4096",
                                               "--pin-name", "round\(round)"] + paths, after: delay)
            for line in printed.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count == 3, fields[0] == "added" else { continue }
                acknowledged[String(fields[1])] = files[box.root + "/" + fields[2]]
            }
        }
        // Garbage for gc: unpinned blocks, then 15 kills of `cairn gc` forced to compact.
        for round in 0..<15 {
            let junk = try box.write("junk", SplitMix64.bytes(seed: UInt64(900 + round), count: 400_000))
            #expect(try box.cairn(["add", "--pin=false", "-Q", junk]).status == 0)
            let delay = Double(rng.next() % 150) / 1000
            _ = try Self.runAndKill(["gc", "--store", box.store, "--compact-threshold", "1"], after: delay)
        }
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
        for round in 0..<15 {
            // One `block put` process storing 40 files, killed part way.
            var paths: [String] = []
            var contents: [[UInt8]] = []
            for i in 0..<40 {
                let bytes = SplitMix64.bytes(seed: UInt64(round * 100 + i), count: 20_000)
                paths.append(try box.write("b\(i)", bytes))
                contents.append(bytes)
            }
            let delay = Double(rng.next() % 200) / 1000
            let output = try Self.runAndKill(["block", "put", "--store", box.store] + paths, after: delay)
            for (index, line) in output.split(separator: "\n").enumerated() { printed.append((String(line), contents[index])) }
        }
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
