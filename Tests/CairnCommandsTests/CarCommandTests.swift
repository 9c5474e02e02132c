import CairnTestSupport
import Foundation
import Testing

/// `cairn car create | verify | ls` end to end through the built binary.
@Suite struct CarCommandTests {
    func temporaryDirectory() throws -> URL { try makeTemporaryDirectory("carcli") }

    @Test(arguments: [false, true])
    func createVerifyList(v2: Bool) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("input.bin")
        try Data(SplitMix64.bytes(seed: 17, count: 800_000)).write(to: input)
        let car = dir.appendingPathComponent("out.car").path
        let create = try CairnProcess.run(["car", "create", input.path, "-o", car] + (v2 ? ["--v2"] : []))
        #expect(create.status == 0, "\(create.stderr)")
        let root = create.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        // The same root `cairn add` prints.
        let add = try CairnProcess.run(["add", "-Q", "-n", input.path])
        #expect(add.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == root)

        let verify = try CairnProcess.run(["car", "verify", car, "--complete"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdoutText.contains("roots: \(root)\n"))
        #expect(verify.stdoutText.hasSuffix("complete: yes\nok\n"))
        #expect(verify.stdoutText.contains("version: \(v2 ? 2 : 1)\n"))

        let ls = try CairnProcess.run(["car", "ls", car])
        #expect(ls.status == 0)
        let lines = ls.stdoutText.split(separator: "\n")
        #expect(lines.last?.hasPrefix(root + " ") == true, "the root comes last")
        #expect(verify.stdoutText.contains("blocks: \(lines.count) "))
        let json = try CairnProcess.run(["car", "ls", "--json", car])
        let objects = try json.stdoutText.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == lines.count)
        #expect(objects.last??["cid"] as? String == root)
    }

    @Test func corruptCARFailsWithOneLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("input.bin")
        try Data(SplitMix64.bytes(seed: 18, count: 300_000)).write(to: input)
        let car = dir.appendingPathComponent("out.car")
        #expect(try CairnProcess.run(["car", "create", input.path, "-o", car.path]).status == 0)
        var bytes = try [UInt8](Data(contentsOf: car))
        bytes[bytes.count - 400] ^= 1
        try Data(bytes).write(to: car)
        let verify = try CairnProcess.run(["car", "verify", car.path])
        #expect(verify.status != 0)
        let message = verify.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(message.contains("hash mismatch"), "\(message)")
        #expect(!message.contains("\n"))
        let truncated = dir.appendingPathComponent("cut.car")
        try Data(bytes[..<(bytes.count / 2)]).write(to: truncated)
        let cut = try CairnProcess.run(["car", "verify", truncated.path])
        #expect(cut.status != 0)
        #expect(cut.stderr.contains("truncated"))
        let missing = try CairnProcess.run(["car", "verify", dir.appendingPathComponent("nope.car").path])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot open"))
    }
}
