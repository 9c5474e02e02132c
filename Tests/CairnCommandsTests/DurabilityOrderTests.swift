import CairnTestSupport
import Foundation
import Testing

/// Issue 15 item 2: a command prints its acknowledgement only after the pack bytes and the
/// index commit are durable (spec/blockstore.md §5): in an strace of the command, an `fsync` or
/// `fdatasync` of the index's WAL comes after the pack's sync and before the `write(1, …)` of
/// the line.
@Suite("Store durability order (strace)", .serialized)
struct DurabilityOrderTests {
    static let strace = "/usr/bin/strace"

    /// The syscalls of `cairn ARGS` (fd paths resolved by `-y`), one per line.
    static func trace(_ box: StoreSandbox, _ arguments: [String], stdin: Data? = nil) throws -> [String] {
        let binary = try #require(CairnProcess.binary)
        let output = box.root + "/trace-\(UUID().uuidString)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: strace)
        process.arguments = ["-f", "-y", "-e", "trace=fdatasync,fsync,write,pwrite64,pwritev,ftruncate", "-o", output, binary.path]
            + arguments + ["--store", box.store]
        let input = Pipe(), out = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        // LeakSanitizer cannot run under a ptrace tracer and fails the process at exit
        // (`make sanitize`): the traced command runs without leak checking.
        var environment = ProcessInfo.processInfo.environment
        environment["ASAN_OPTIONS"] = [environment["ASAN_OPTIONS"], "detect_leaks=0"].compactMap { $0 }.joined(separator: ":")
        process.environment = environment
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        _ = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(arguments)")
        return try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Checks the order before the first line written to standard output.
    static func expectDurableBeforePrinting(_ lines: [String], packWritten: Bool) {
        guard let printed = lines.firstIndex(where: { $0.contains(" write(1<") }) else {
            Issue.record("nothing was printed")
            return
        }
        let before = lines[..<printed]
        let isSync = { (line: String) in line.contains(" fsync(") || line.contains(" fdatasync(") }
        let walSync = before.lastIndex { isSync($0) && $0.contains("index.sqlite-wal>") }
        #expect(walSync != nil, "no WAL sync before the output line:\n\(lines.joined(separator: "\n"))")
        if packWritten, let walSync {
            let packSync = before.lastIndex { isSync($0) && $0.contains(".pack>") }
            #expect(packSync != nil && packSync! < walSync, "the pack was not synced before the index commit")
            // Every write of the pack (direct or not) and its truncation after a padded direct
            // write come before that sync.
            let isPackChange = { (line: String) in
                (line.contains(" pwrite64(") || line.contains(" pwritev(") || line.contains(" ftruncate(")) && line.contains(".pack>")
            }
            let lastChange = before.lastIndex(where: isPackChange)
            #expect(lastChange != nil, "no write of the pack was traced")
            if let lastChange, let packSync {
                #expect(lastChange < packSync, "the pack was written after its sync:\n\(lines.joined(separator: "\n"))")
            }
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: strace)))
    func addCarImportBlockPutAndPinAddSyncTheIndexBeforePrinting() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.write("f", SplitMix64.bytes(seed: 21, count: 300_000))
        Self.expectDurableBeforePrinting(try Self.trace(box, ["add", "--pin=false", file]), packWritten: true)
        let root = try box.cairn(["add", "-Q", "-n", file]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        Self.expectDurableBeforePrinting(try Self.trace(box, ["pin", "add", root]), packWritten: false)
        Self.expectDurableBeforePrinting(try Self.trace(box, ["block", "put"], stdin: Data("a block of its own".utf8)),
                                         packWritten: true)
        let car = box.root + "/g.car"
        let other = try box.write("g", SplitMix64.bytes(seed: 22, count: 200_000))
        #expect(try CairnProcess.run(["add", "--car", car, other]).status == 0)
        Self.expectDurableBeforePrinting(try Self.trace(box, ["car", "import", car]), packWritten: true)
    }
}
