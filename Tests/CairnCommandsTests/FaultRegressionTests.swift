import CairnTestSupport
import Foundation
import Testing

/// The failures the fault matrix (`FaultMatrixTests`) found, each kept as the case that showed
/// it: a failed call (`CAIRN_FAULT`, spec/system.md §5) must end in one clear error and leave
/// nothing behind.
@Suite("fault matrix findings")
struct FaultRegressionTests {
    static func run(_ arguments: [String], fault: String, stdin: Data? = nil) throws -> CairnProcess.Result {
        try CairnProcess.run(arguments, stdin: stdin, environment: ["CAIRN_FAULT": fault])
    }

    static func errorLine(_ result: CairnProcess.Result) -> String? {
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.count == 2 && lines[1].isEmpty ? String(lines[0]) : nil
    }

    /// The CAR's sync, its rename into place and the directory sync go through the syscall
    /// helper (they did not: a failed rename or directory sync could not be injected, and a
    /// failed directory sync was ignored with the CAR left under its final name).
    @Test(arguments: ["rename:1:EIO", "fsync:1:ENOSPC", "fsync:2:EIO", "open:2:EIO"])
    func carCreateLeavesNoOutputWhenPlacingItFails(fault: String) throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let input = try box.write("in", SplitMix64.bytes(seed: 1601, count: 50_000))
        try FileManager.default.createDirectory(atPath: box.root + "/out", withIntermediateDirectories: true)
        let failed = try Self.run(["car", "create", input, "-o", box.root + "/out/c.car"], fault: fault)
        #expect(failed.status == 1)
        let line = try #require(Self.errorLine(failed), "\(failed.stderr)")
        #expect(line.hasPrefix("Error: ") && (line.contains("Input/output error") || line.contains("No space left on device")), "\(line)")
        #expect(failed.stdout.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: box.root + "/out").isEmpty)
    }

    /// `get` creates and renames its output through the syscall helper (a failed rename
    /// could not be injected).
    @Test func getLeavesNoOutputWhenTheRenameFails() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let bytes = SplitMix64.bytes(seed: 1602, count: 30_000)
        let root = try box.cairn(["add", "-Q", try box.write("in", bytes)]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.createDirectory(atPath: box.root + "/out", withIntermediateDirectories: true)
        let failed = try Self.run(["get", root, "-o", box.root + "/out/g", "--store", box.store], fault: "rename:1:EIO")
        #expect(failed.status == 1)
        #expect(Self.errorLine(failed) == "Error: cannot rename to \(box.root)/out/g: Input/output error", "\(failed.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: box.root + "/out").isEmpty)
        let created = try Self.run(["get", root, "-o", box.root + "/out/g", "--store", box.store], fault: "open:1:ENOSPC")
        #expect(created.status == 1)
        #expect(Self.errorLine(created)?.hasSuffix(": No space left on device") == true, "\(created.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: box.root + "/out").isEmpty)
    }

    /// A store with one corrupt block (for `store verify`).
    static func storeWithCorruptBlock(_ box: StoreSandbox) throws -> String {
        let kept = try box.cairn(["add", "-Q", try box.write("kept", SplitMix64.bytes(seed: 1603, count: 20_000))])
        let victim = SplitMix64.bytes(seed: 1604, count: 4096)
        _ = try box.putBlock(victim)
        try FaultSetup(root: box.root).flipByte(of: victim)
        return kept.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A pack that cannot be opened (EIO) is reported as such, not as missing.
    @Test func verifyNamesAPackItCannotOpen() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        _ = try Self.storeWithCorruptBlock(box)
        let failed = try Self.run(["store", "verify", "--store", box.store], fault: "open:1:EIO")
        #expect(failed.status == 1)
        #expect(failed.stdoutText.contains("problem: cannot open \(box.store)/packs/00000001.pack: Input/output error\n"), "\(failed.stdoutText)")
        #expect(!failed.stdoutText.contains("is missing"))
    }

    /// A verification report that could not be written fails with that error, not with the
    /// count of problems it could not show.
    @Test func verifyReportsTheLostReport() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let kept = try Self.storeWithCorruptBlock(box)
        let failed = try Self.run(["store", "verify", "--drop-corrupt", "--store", box.store], fault: "write:1:EIO")
        #expect(failed.status == 1)
        #expect(Self.errorLine(failed) == "Error: cannot write standard output: Input/output error", "\(failed.stderr)")
        #expect(try box.cairn(["store", "verify"]).status == 0)
        #expect(try box.cairn(["cat", kept]).status == 0)
    }

    /// A repair that fails leaves no `index.sqlite.rebuild`, and one that fails while moving
    /// the indexes puts the old index back, pins and all (the renames could not be injected).
    @Test func failedRepairLeavesTheStoreAsItWas() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let kept = try box.cairn(["add", "-Q", try box.write("kept", SplitMix64.bytes(seed: 1605, count: 20_000))])
            .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let pins = try box.cairn(["pin", "ls"]).stdoutText
        #expect(pins.contains(kept))
        for fault in ["fsync:1:EIO", "rename:1:ENOSPC", "rename:2:EIO", "rename:3:EIO", "rename:4:ENOSPC"] {
            let failed = try Self.run(["store", "repair", "--store", box.store], fault: fault)
            #expect(failed.status == 1, "\(fault): \(failed.stdoutText)")
            #expect(Self.errorLine(failed)?.hasPrefix("Error: cannot") == true, "\(fault): \(failed.stderr)")
            let names = try FileManager.default.contentsOfDirectory(atPath: box.store)
            #expect(!names.contains { $0.contains("rebuild") || $0.contains("replaced") }, "\(fault): \(names)")
            #expect(try box.cairn(["pin", "ls"]).stdoutText == pins, "\(fault)")
            #expect(try box.cairn(["store", "verify"]).status == 0, "\(fault)")
        }
        let repaired = try box.cairn(["store", "repair"])
        #expect(repaired.status == 0, "\(repaired.stderr)")
        #expect(try box.cairn(["pin", "ls"]).stdoutText == pins)
    }
}
