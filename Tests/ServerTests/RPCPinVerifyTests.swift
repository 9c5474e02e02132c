import CairnTestSupport
import Foundation
import Multiformats
import Testing

/// `pin/verify` in Kubo's dialect (core/commands/pin/pin.go `verifyPinCmd`, `PinVerifyRes`):
/// NDJSON, one object per broken pin (`{"Cid","BadNodes":[{"Cid","Err"}]}`), complete ones
/// too with `verbose` (`{"Cid","Ok":true}`), the bad blocks left out with `quiet`; both
/// options at once is Kubo's error (spec/serve.md §4, engine.md §5).
@Suite struct RPCPinVerifyTests {
    @Test func brokenAndCompletePins() throws {
        let work = try serveDirectory("pin-verify")
        defer { try? FileManager.default.removeItem(at: work) }
        let store = work.appendingPathComponent("store").path
        // Two files, each pinned; the first leaf of the first removed by force (the store is
        // made before the server starts, so nothing else holds it).
        var roots: [String] = []
        for size in [262_145, 100_000] {
            let file = work.appendingPathComponent("f\(size)")
            try sm1(size).write(to: file)
            let added = try CairnProcess.run(["add", "-Q", "--raw-leaves", "--cid-version=1", "--store", store, file.path])
            #expect(added.status == 0, "\(added.stderr)")
            roots.append(added.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var hasher = TestSHA256()
        hasher.update(sm1(262_144))
        let leaf = CID.v1(codec: .raw, multihash: try Multihash(code: .sha2_256, digest: Array(hasher.finalize()))).description
        #expect(try CairnProcess.run(["block", "rm", "--force", "--store", store, leaf]).status == 0)

        let server = try ServeProcess(store: store)
        defer { server.stop() }
        let broken = try rpc(server, "pin/verify")
        #expect(broken.status == 200)
        #expect(broken.headers["x-chunked-output"] == "1")
        #expect(broken.text == "{\"Cid\":\"\(roots[0])\",\"BadNodes\":[{\"Cid\":\"\(leaf)\",\"Err\":\"block not found in the store\"}]}\n")
        let verbose = try rpc(server, "pin/verify?verbose=true")
        #expect(verbose.text.split(separator: "\n").sorted() == [
            "{\"Cid\":\"\(roots[0])\",\"BadNodes\":[{\"Cid\":\"\(leaf)\",\"Err\":\"block not found in the store\"}]}",
            "{\"Cid\":\"\(roots[1])\",\"Ok\":true}",
        ].sorted())
        #expect(try rpc(server, "pin/verify?quiet=true").text == "{\"Cid\":\"\(roots[0])\"}\n")
        let both = try rpc(server, "pin/verify?verbose=true&quiet=true")
        #expect(both.status == 500)
        #expect(jsonLines(both.text).first?["Message"] as? String == "the --verbose and --quiet options can not be used at the same time")
    }
}
