import CairnTestSupport
import Foundation
import Testing

/// Issue 15, item 10: an output appears under its final name only when complete and synced; a
/// failed command leaves neither it nor its temporary file, and prints nothing on stdout.
/// Write failures come from a file-size limit (`ulimit -f`: EFBIG, as a full disk gives ENOSPC).
@Suite struct OutputPlacementTests {
    /// Runs `cairn ARGUMENTS` with `ulimit -f BLOCKS` (512-byte blocks) if given.
    static func cairn(_ arguments: [String], fileLimit: Int? = nil) throws -> ProgramRun {
        try ProgramRun.cairnViaShell((fileLimit.map { "ulimit -f \($0); " } ?? "") + "exec \"$@\"", arguments)
    }

    static func entries(_ directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    @Test func failedCAROutputsLeaveNothing() throws {
        let directory = try makeTemporaryDirectory("cli-placement")
        defer { try? FileManager.default.removeItem(at: directory) }
        var bytes = [UInt8](repeating: 0, count: 1 << 20)
        var rng = SplitMix64(seed: 15)
        bytes.withUnsafeMutableBytes { rng.fill($0) }
        let input = directory.appendingPathComponent("input").path
        try Data(bytes).write(to: URL(fileURLWithPath: input))
        let folder = directory.appendingPathComponent("folder")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        let car = directory.appendingPathComponent("c.car").path
        let before = try Self.entries(directory)

        for (arguments, limit, phrase) in [
            (["car", "create", input, "-o", folder.path], nil, "is a directory"),
            (["add", "--car", folder.path, input], nil, "is a directory"),
            (["car", "create", input, "-o", car], 100, "File too large"),
            (["add", "--car", car, input], 100, "File too large"),
            (["add", "--car", car, "--car-v2", input], 100, "File too large"),
        ] as [([String], Int?, String)] {
            // ThreadSanitizer's runtime dies of SIGBUS in its own shadow memory under a file-size
            // limit (gdb: MemoryAccessRangeT in the strlen interceptor, as Dispatch starts a
            // worker), before Cairn's code runs: those cases are left to the other builds.
            if limit != nil && Sanitizer.active == "thread" { continue }
            let run = try Self.cairn(arguments, fileLimit: limit)
            #expect(run.status == 1, "\(arguments): status \(run.status) \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(arguments) printed \(String(decoding: run.stdout, as: UTF8.self))")
            #expect(run.stderr.contains(phrase) && run.stderr.split(separator: "\n").count == 1, "\(arguments): \(run.stderr)")
            let after = try Self.entries(directory)
            #expect(after == before, "\(arguments) left \(after)")
            #expect(try Self.entries(folder).isEmpty)
        }
        // Without the limit the same commands succeed and the CAR is in place.
        let created = try Self.cairn(["car", "create", input, "-o", car])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try Self.entries(directory) == (before + ["c.car"]).sorted())
    }
}
