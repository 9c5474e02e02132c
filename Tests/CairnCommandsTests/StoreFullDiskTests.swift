import CairnTestSupport
import Foundation
import Testing

/// Mounts a tmpfs of `size` on a new directory for the duration of `body` (needs root and
/// `mount`; the tests below are skipped where that is not possible).
func withTmpfs(size: String, _ body: (String) throws -> Void) throws {
    let directory = try makeTemporaryDirectory("tmpfs").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    #expect(try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", directory]) == 0)
    defer { _ = try? runTool("/bin/umount", [directory]) }
    try body(directory)
}

@discardableResult
func runTool(_ path: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// Runs a command as user and group 65534 (`setpriv`), collecting its output.
func runAsNobody(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
    process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups"] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, stdout, String(decoding: stderr, as: UTF8.self))
}

/// Whether this machine lets the tests mount a small tmpfs (root, a `mount` that works).
let canMountTmpfs: Bool = {
    guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return false }
    guard let directory = try? makeTemporaryDirectory("tmpfs-probe").path else { return false }
    defer { try? FileManager.default.removeItem(atPath: directory) }
    guard (try? runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", directory])) == 0 else { return false }
    _ = try? runTool("/bin/umount", [directory])
    return true
}()

/// Fills the file system of `directory` with a file until writing fails, then frees `leave` bytes.
func fillDisk(_ directory: String, leave: Int) throws {
    let path = directory + "/filler"
    FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    let chunk = Data(repeating: 0xAB, count: 4096)
    var written = 0
    while (try? handle.write(contentsOf: chunk)) != nil { written += chunk.count }
    try handle.truncate(atOffset: UInt64(max(0, written - leave)))
    try handle.close()
}

/// Issue 15 items 5 and 11: readers never write (a store the user cannot write reads fine);
/// writers on a full disk fail with "No space left on device", never SIGBUS; GC on a full disk
/// still frees what it can.
@Suite("cairn store on a read-only or full file system", .serialized)
struct StoreFullDiskTests {
    /// Adds a file of `count` SplitMix64 bytes to the sandbox's store (as the test's user):
    /// its bytes, its root and the `cairn` binary to run as another user.
    static func addFile(_ box: StoreSandbox, seed: UInt64, count: Int) throws -> (bytes: [UInt8], root: String, binary: String) {
        let bytes = SplitMix64.bytes(seed: seed, count: count)
        let root = try box.cairn(["add", "-Q", try box.write("f", bytes)]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        return (bytes, root, try #require(CairnProcess.binary).path)
    }

    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func readOnlyCommandsWorkOnAStoreTheUserCannotWrite() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let (bytes, root, binary) = try Self.addFile(box, seed: 81, count: 400_000)
        // The store belongs to root (0755/0644): user nobody can read it, not write it.
        for command in [["cat", root], ["store", "verify"], ["pin", "ls"], ["store", "stat"], ["block", "stat", root]] {
            let result = try runAsNobody([binary] + command + ["--store", box.store])
            #expect(result.status == 0, "\(command): \(result.stderr)")
            if command[0] == "cat" { #expect([UInt8](result.stdout) == bytes) }
        }
    }

    /// A store the user cannot write is reported as read-only, never as damaged (no
    /// `store repair` advice): a writer whose index is not writable, and a reader that cannot
    /// open a WAL index whose -wal/-shm files are gone from a directory it cannot write.
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func readOnlyStoreIsSaidToBeReadOnly() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let (bytes, root, binary) = try Self.addFile(box, seed: 85, count: 300_000)
        let other = try box.write("g", SplitMix64.bytes(seed: 86, count: 1000))
        // Everything nobody's but the index (root's, 0644): the lock and the packs are writable.
        for path in [box.root, box.store, box.store + "/lock", box.store + "/packs", box.store + "/packs/00000001.pack"] {
            try FileManager.default.setAttributes([.ownerAccountID: 65534], ofItemAtPath: path)
        }
        for command in [["add", "-Q", other], ["pin", "rm", root]] {
            let result = try runAsNobody([binary] + command + ["--store", box.store])
            #expect(result.status == 1 && result.stderr.hasPrefix("Error: the store at \(box.store) is read-only"), "\(command): \(result.stderr)")
            #expect(!result.stderr.contains("repair") && result.stderr.split(separator: "\n").count == 1, "\(command): \(result.stderr)")
        }
        // The index without its -wal/-shm (checkpointed first: nothing is lost), in a directory
        // nobody cannot write.
        try sqlite(box.store + "/index.sqlite", "PRAGMA wal_checkpoint(TRUNCATE)")
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: box.store + "/index.sqlite" + suffix) }
        #expect(!FileManager.default.fileExists(atPath: box.store + "/index.sqlite-shm"))
        try FileManager.default.setAttributes([.ownerAccountID: 0], ofItemAtPath: box.store)
        for command in [["cat", root], ["store", "verify"], ["add", "-Q", other]] {
            let result = try runAsNobody([binary] + command + ["--store", box.store])
            #expect(result.status == 1 && result.stderr.contains("is read-only"), "\(command): \(result.stderr)")
            #expect(!result.stderr.contains("repair") && result.stderr.split(separator: "\n").count == 1, "\(command): \(result.stderr)")
        }
        // With write access the store is whole.
        #expect([UInt8](try box.cairn(["cat", root]).stdout) == bytes)
        #expect(try box.cairn(["store", "verify"]).status == 0)
    }

    @Test(.enabled(if: canMountTmpfs))
    func writersOnAFullDiskFailCleanlyAndReadersStillRead() throws {
        try withTmpfs(size: "3m") { mount in
            let store = mount + "/store"
            let box = try StoreSandbox()
            defer { box.cleanup() }
            let bytes = SplitMix64.bytes(seed: 82, count: 500_000)
            let add = try CairnProcess.run(["add", "-Q", "--store", store, try box.write("f", bytes)])
            #expect(add.status == 0, "\(add.stderr)")
            let root = add.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            for leave in [0, 30_000] {
                try fillDisk(mount, leave: leave)
                let more = try CairnProcess.run(["add", "-Q", "--store", store, try box.write("g", SplitMix64.bytes(seed: 83, count: 300_000))])
                #expect(more.isCleanFailure && more.stderr.contains("No space left on device"), "\(leave): \(more.status) \(more.stderr)")
                let put = try CairnProcess.run(["block", "put", "--store", store], stdin: Data(SplitMix64.bytes(seed: 84, count: 200_000)))
                #expect(put.isCleanFailure, "\(leave): \(put.status) \(put.stderr)")
                let cat = try CairnProcess.run(["cat", root, "--store", store])
                #expect(cat.status == 0 && [UInt8](cat.stdout) == bytes, "\(leave): \(cat.status) \(cat.stderr)")
                #expect(try CairnProcess.run(["store", "verify", "--store", store]).status == 0)
                try FileManager.default.removeItem(atPath: mount + "/filler")
            }
            #expect(try CairnProcess.run(["store", "verify", "--store", store]).status == 0)
        }
    }

    @Test(.enabled(if: canMountTmpfs))
    func gcOnAFullDiskDropsDeadPacksFirstAndReportsWhatItCouldNotReclaim() throws {
        try withTmpfs(size: "8m") { mount in
            let store = mount + "/store"
            let box = try StoreSandbox()
            defer { box.cleanup() }
            let environment = ["CAIRN_TEST_PACK_SIZE_LIMIT": "1000000"]
            func add(_ seed: UInt64, _ count: Int, _ extra: [String]) throws -> String {
                let result = try CairnProcess.run(["add", "-Q", "--store", store] + extra + [try box.write("f\(seed)", SplitMix64.bytes(seed: seed, count: count))],
                                                  environment: environment)
                #expect(result.status == 0, "\(result.stderr)")
                return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let kept = try add(91, 1_500_000, [])
            _ = try add(92, 3_000_000, ["--pin=false"])   // whole packs of garbage
            try fillDisk(mount, leave: 300_000)
            let gc = try CairnProcess.run(["gc", "--store", store, "--compact-threshold", "1"], environment: environment)
            #expect(gc.status == 0, "\(gc.stderr)")
            #expect(!gc.stdoutText.contains("deleted packs: 0 "), "\(gc.stdoutText)")
            #expect(gc.stdoutText.contains("not reclaimed: "), "\(gc.stdoutText)")
            #expect(try CairnProcess.run(["cat", kept, "--store", store]).status == 0)
            #expect(try CairnProcess.run(["store", "verify", "--store", store]).status == 0)
        }
    }
}
