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
}
