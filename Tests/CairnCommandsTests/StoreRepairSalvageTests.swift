import CairnTestSupport
import Foundation
import Multiformats
import Testing

/// The hostile pass on `cairn store repair`, `verify`, `gc` and the store's errors: each test
/// failed before its fix.
@Suite("cairn store: repair salvages, verify checks pins, gc leaves clean packs", .serialized)
struct StoreRepairSalvageTests {
    static func contents(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    /// A pack whose header is damaged loses none of its blocks: the header is rewritten (the
    /// damaged bytes kept beside it) and every record that verifies is indexed.
    @Test func damagedPackHeaderIsRestoredAndEveryBlockKept() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let (root, bytes) = try StoreDamageTests.storeWithFile(box)
        let pack = box.store + "/packs/00000001.pack"
        let handle = try #require(FileHandle(forUpdatingAtPath: pack))
        handle.write(Data("XXXX".utf8))
        try handle.close()
        let header = try #require(Self.contents(pack)).prefix(16)
        let repair = try box.cairn(["store", "repair"])
        #expect(repair.status == 0, "\(repair.stderr)")
        #expect(repair.stdoutText.contains("pack header restored: 00000001.pack"), "\(repair.stdoutText)")
        #expect(!repair.stdoutText.contains("not a pack"), "\(repair.stdoutText)")
        #expect(!FileManager.default.fileExists(atPath: pack + ".damaged"))
        #expect(Self.contents(pack + ".header-damaged").map { $0[...] } == header)
        #expect([UInt8](try box.cairn(["cat", root]).stdout) == bytes)
        #expect(try box.cairn(["pin", "ls", "-q"]).stdoutText == root + "\n")
        #expect(try box.cairn(["store", "verify"]).status == 0)
    }

    /// A pack file with nothing that verifies is still set aside (never deleted).
    @Test func fileWithNoRecordIsStillSetAside() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let (root, bytes) = try StoreDamageTests.storeWithFile(box)
        let junk = box.store + "/packs/00000009.pack"
        try Data(repeating: 0x5A, count: 5000).write(to: URL(fileURLWithPath: junk))
        let repair = try box.cairn(["store", "repair"])
        #expect(repair.status == 0, "\(repair.stderr)")
        #expect(repair.stdoutText.contains("not a pack: 00000009.pack"), "\(repair.stdoutText)")
        #expect(FileManager.default.fileExists(atPath: junk + ".damaged"))
        #expect([UInt8](try box.cairn(["cat", root]).stdout) == bytes)
    }

    /// A damaged FORMAT file is restored by repair (the damaged one kept), when the rest of the
    /// store is a cairn store.
    @Test func damagedFormatFileIsRestored() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let (root, bytes) = try StoreDamageTests.storeWithFile(box)
        let format = box.store + "/FORMAT"
        try Data("garbage\u{1}\n".utf8).write(to: URL(fileURLWithPath: format))
        let cat = try box.cairn(["cat", root])
        #expect(cat.isCleanFailure && cat.stderr.contains("cairn store repair"), "\(cat.stderr)")
        let repair = try box.cairn(["store", "repair"])
        #expect(repair.status == 0, "\(repair.stderr)")
        #expect(repair.stdoutText.contains("FORMAT restored"), "\(repair.stdoutText)")
        #expect(Self.contents(format) == Array("cairn-blockstore 1\n".utf8))
        #expect([UInt8](try box.cairn(["cat", root]).stdout) == bytes)
        #expect(try box.cairn(["pin", "ls", "-q"]).stdoutText == root + "\n")
    }

    /// A FORMAT file naming another version, or a damaged one with nothing else recognisable,
    /// is refused with one line saying why, and nothing is changed.
    @Test func unrepairableFormatIsRefusedWithTheReason() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        _ = try StoreDamageTests.storeWithFile(box)
        try Data("cairn-blockstore 7\n".utf8).write(to: URL(fileURLWithPath: box.store + "/FORMAT"))
        let before = try FileManager.default.contentsOfDirectory(atPath: box.store).sorted()
        let repair = try box.cairn(["store", "repair"])
        #expect(repair.isCleanFailure && repair.stderr.contains("format version 7"), "\(repair.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: box.store).sorted() == before)

        let empty = box.root + "/not-a-store"
        try FileManager.default.createDirectory(atPath: empty + "/packs", withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: empty + "/FORMAT"))
        let refused = try CairnProcess.run(["store", "repair", "--store", empty])
        #expect(refused.isCleanFailure && refused.stderr.contains("recognisable"), "\(refused.stderr)")
        #expect(Self.contents(empty + "/FORMAT") == Array("hello\n".utf8))
        #expect(!FileManager.default.fileExists(atPath: empty + "/index.sqlite"))
    }

    /// A signal after repair's commit: the report is printed and the error line says the
    /// repair was done (status 130, the run was interrupted).
    @Test(arguments: [false, true])
    func interruptAfterTheCommitReportsWhatWasDone(_ pinRoots: Bool) throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let (root, bytes) = try StoreDamageTests.storeWithFile(box)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: box.store + "/index.sqlite" + suffix) }
        let repair = try CairnProcess.run(["store", "repair", "--store", box.store] + (pinRoots ? ["--pin-roots"] : []),
                                          environment: ["CAIRN_TEST_SIGNAL_AFTER_REPAIR_COMMIT": "1"])
        #expect(repair.status == 130, "\(repair.stderr)")
        #expect(repair.stdoutText.contains("indexed "), "\(repair.stdoutText)")
        // Pinning may still finish (the root's DAG is small) or stop at its first check: the
        // report says which.
        if pinRoots {
            #expect(repair.stdoutText.contains("pinned \(root)\n") || repair.stdoutText.contains("pinning the roots stopped after 0 of 1"),
                    "\(repair.stdoutText)")
        }
        #expect(repair.stderr.hasPrefix("Error: interrupted after the repair was done: the index was rebuilt and is in place"),
                "\(repair.stderr)")
        #expect(repair.stderr.split(separator: "\n").count == 1, "\(repair.stderr)")
        #expect([UInt8](try box.cairn(["cat", root]).stdout) == bytes)
        #expect(try box.cairn(["store", "verify"]).status == 0)
    }

    /// `store verify` checks the pins table: a pin whose root block is gone and a row that is
    /// no pin are problems, one line each, and the exit status is 1.
    @Test func verifyReportsPinsWithoutTheirBlockAndMalformedPinRows() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        _ = try StoreDamageTests.storeWithFile(box)
        #expect(try box.cairn(["store", "verify"]).status == 0)
        let gone = try box.putBlock([1, 2, 3, 4])
        #expect(try box.cairn(["block", "rm", gone.description]).status == 0)
        let hex = gone.bytes.map { String(format: "%02x", $0) }.joined()
        try sqlite(box.store + "/index.sqlite", "INSERT INTO pins(cid, name, recursive) VALUES (x'\(hex)', 'lost', 0)")
        try sqlite(box.store + "/index.sqlite", "INSERT INTO pins(cid, name, recursive) VALUES (x'0102', 'bad', 7)")
        let verify = try box.cairn(["store", "verify"])
        #expect(verify.isCleanFailure, "\(verify.stderr)")
        let lines = verify.stdoutText.split(separator: "\n").filter { $0.hasPrefix("pin problem: ") }
        #expect(lines.count == 2, "\(verify.stdoutText)")
        #expect(lines.contains { $0.contains("pin \(gone) 'lost' (direct): its root block is not in the store") }, "\(verify.stdoutText)")
        #expect(lines.contains { $0.contains("corrupt index row in pins") }, "\(verify.stdoutText)")
        #expect(verify.stdoutText.contains("2 problems"), "\(verify.stdoutText)")
    }

    /// `gc` rewrites no pack that holds no garbage, even one of tiny blocks whose record
    /// framing outweighs their bytes.
    @Test func gcLeavesAPackWithoutGarbageAlone() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        var roots: [String] = []
        for index in 0..<20 {
            let add = try box.cairn(["add", "-Q", try box.write("f\(index)", Array("tiny file \(index)".utf8))])
            #expect(add.status == 0, "\(add.stderr)")
            roots.append(add.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let pack = box.store + "/packs/00000001.pack"
        let before = try #require(Self.contents(pack))
        let gc = try box.cairn(["gc"])
        #expect(gc.status == 0, "\(gc.stderr)")
        #expect(gc.stdoutText.contains("compacted packs: 0 "), "\(gc.stdoutText)")
        #expect(Self.contents(pack) == before)
        // A pack with garbage is still compacted.
        #expect(try box.cairn(["pin", "rm", roots[0]]).status == 0)
        for root in roots.dropFirst(1).prefix(15) { #expect(try box.cairn(["pin", "rm", root]).status == 0) }
        let second = try box.cairn(["gc"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdoutText.contains("compacted packs: 1 "), "\(second.stdoutText)")
        #expect(!FileManager.default.fileExists(atPath: pack))
        for root in roots.suffix(4) { #expect(try box.cairn(["cat", root]).status == 0) }
    }
}
