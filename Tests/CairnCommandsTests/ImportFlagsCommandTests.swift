import CairnTestSupport
import Foundation
import Testing

/// One set of import flags with Kubo's syntax for every importing command (`add`, `car create`):
/// each flag set of `shared/vectors/cids.tsv` gives Kubo's root through both commands.
@Suite struct ImportFlagsCommandTests {
    /// One row per flag set, on a 300 000-byte input (several leaves, so layouts differ).
    static func rows() throws -> [(input: String, flags: [String], root: String)] {
        var seen = Set<String>()
        return try Vectors.tsv("cids.tsv").compactMap { row in
            guard let input = row["input"], let flags = row["flags"], let root = row["root_cid"],
                  let bytes = Vectors.input(named: input), bytes.count > 100_000, seen.insert(flags).inserted else { return nil }
            // `--max-links` is the importer's name in the vectors; the command line says --max-file-links.
            let split = flags == "(none)" ? [] : flags.split(separator: " ").map { $0.replacingOccurrences(of: "--max-links", with: "--max-file-links") }
            return (input, split, root)
        }
    }

    @Test func everyVectorFlagSetThroughAddAndCarCreate() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let rows = try Self.rows()
        #expect(rows.count >= 10)
        for (input, flags, root) in rows {
            let file = try box.write(input, Vectors.input(named: input)!)
            let add = try box.cairn(["add", "-n", "-Q"] + flags + [file])
            #expect(add.status == 0 && add.stdoutText == root + "\n", "add \(flags): \(add.stdoutText) \(add.stderr)")
            let car = box.root + "/out.car"
            let create = try CairnProcess.run(["car", "create", file, "-o", car] + flags)
            #expect(create.status == 0 && create.stdoutText == root + "\n", "car create \(flags): \(create.stdoutText) \(create.stderr)")
            try? FileManager.default.removeItem(atPath: car)
        }
    }

    /// `--NAME[=true|false]` for every Kubo boolean, in both commands; the old
    /// `--no-raw-leaves` spelling is gone (one syntax), and a bad value is a usage error.
    @Test func kuboBooleanSyntax() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.write("in", Vectors.input(named: "sm1_4095")!)
        // cids.tsv: sm1_4095 with --cid-version=1 --raw-leaves=false.
        let expected = "bafybeifxutxewjxiiif2c4unczqes5uywqygnn2o5x2rfrdc7wf62rvmiu\n"
        let create = try CairnProcess.run(["car", "create", file, "-o", box.root + "/a.car", "--cid-version", "1", "--raw-leaves=false"])
        #expect(create.status == 0 && create.stdoutText == expected, "\(create.stderr)")
        let add = try box.cairn(["add", "-n", "-Q", "--cid-version=1", "--raw-leaves=false", file])
        #expect(add.status == 0 && add.stdoutText == expected, "\(add.stderr)")
        for name in ["--trickle", "--inline", "--preserve-mode", "--preserve-mtime", "--raw-leaves"] {
            for command in [["add", "-n", "-Q", file], ["car", "create", file, "-o", box.root + "/b.car"]] {
                #expect(try CairnProcess.run(command + [name + "=false"]).status == 0, "\(command) \(name)=false")
                let bad = try CairnProcess.run(command + [name + "=maybe"])
                #expect(bad.status == 64 && bad.stderr.hasPrefix("Error: "), "\(command) \(name)=maybe: \(bad.stderr)")
            }
        }
        let old = try CairnProcess.run(["car", "create", file, "-o", box.root + "/c.car", "--no-raw-leaves"])
        #expect(old.status == 64, "\(old.stderr)")
        #expect(!FileManager.default.fileExists(atPath: box.root + "/c.car"))
    }
}
