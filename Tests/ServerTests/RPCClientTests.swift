import Testing
import Foundation
import CairnTestSupport

/// The real client aioipfs 0.7.1 (PyPI; Tests/ServerTests/Fixtures/aioipfs_driver.py) against
/// the release `cairn serve`: version, block put/stat/get, dag import/export, named pins, add
/// and cat. Expected CIDs come from the shared vectors (`cids.tsv`) and real Kubo
/// (KuboReference), never from Cairn.
@Suite(.serialized) struct RPCClientTests {
    static let driver = Vectors.projectRoot.appendingPathComponent("Tests/ServerTests/Fixtures/aioipfs_driver.py")

    @Test func aioipfsDrivesEveryCommand() throws {
        try #require(VenvPython.isAvailable, "the .venv (make venv) holds aioipfs")
        let work = try serveDirectory("aioipfs")
        defer { try? FileManager.default.removeItem(at: work) }
        // Inputs: sm1_4096 as a block, sm1_262145 as a file, a small tree; the CAR is
        // sm1_262145 added with Kubo's defaults.
        try sm1(4096).write(to: work.appendingPathComponent("block.bin"))
        try sm1(262_145).write(to: work.appendingPathComponent("file.bin"))
        let tree = work.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try sm1(4096).write(to: tree.appendingPathComponent("a.bin"))
        try sm1(1).write(to: tree.appendingPathComponent("sub/b.bin"))
        let made = try CairnProcess.run(["add", "--car", work.appendingPathComponent("fixture.car").path,
                                         work.appendingPathComponent("file.bin").path])
        try #require(made.status == 0, "\(made.stderr)")
        let kubo = try KuboReference.run([tree.path])
        try #require(kubo.status == 0, "the Kubo reference could not run (status \(kubo.status))")
        let treeRoot = String(kubo.stdout.split(separator: "\t")[0])

        let server = try ServeProcess(store: work.appendingPathComponent("store").path)
        let run = try VenvPython.run([RPCClientTests.driver.path, String(server.port), work.path])
        #expect(server.stop() == 0)
        try #require(run.status == 0, "driver failed; server stderr: \(server.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])

        let version = try #require(out["version"] as? [String: Any])
        #expect(version["Version"] as? String == "0.32.0")
        // aioipfs parses `AgentVersion` (kubo/0.32.0/cairn) into its own version type.
        #expect((out["agent_version"] as? String)?.hasPrefix("0.32") == true)

        // cids.tsv: sm1_4096 --cid-version=1 is one raw leaf, so its block CID.
        let rawCID = "bafkreibhnqimq2vjxg5fk5isqvkodapag2wcaor56nauhworowjhgevzeq"
        let put = try #require(out["block_put"] as? [String: Any])
        #expect(put["Key"] as? String == rawCID)
        #expect(put["Size"] as? Int == 4096)
        let stat = try #require(out["block_stat"] as? [String: Any])
        #expect(stat["Key"] as? String == rawCID && stat["Size"] as? Int == 4096)
        // inputs.tsv: sha256 of sm1_4096.
        #expect(out["block_get_sha256"] as? String == "276c10c86aa9b9ba5575128554e181e036ac203a3df34143d9d175927312b924")

        // cids.tsv: sm1_262145 with Kubo's defaults.
        let fileRoot = "QmYdCKyrtGRgMuaNVmssH5L39192Qc6CWjFo4LJBR9QhUC"
        let imported = try #require(out["car_import"] as? [String: Any])
        let root = imported["Root"] as? [String: Any]
        #expect((root?["Cid"] as? [String: Any])?["/"] as? String == fileRoot)
        #expect(root?["PinErrorMsg"] as? String == "")

        // The exported CAR, imported into a fresh store by the CLI, gives the file back.
        let check = work.appendingPathComponent("check-store").path
        let reimport = try CairnProcess.run(["car", "import", work.appendingPathComponent("exported.car").path, "--store", check])
        #expect(reimport.status == 0, "\(reimport.stderr)")
        let cat = try CairnProcess.run(["cat", fileRoot, "--store", check])
        #expect(cat.stdout == sm1(262_145))

        let pinAdd = try #require(out["pin_add"] as? [[String: Any]])
        #expect(pinAdd.last?["Pins"] as? [String] == [rawCID])
        // aioipfs asks for progress: Kubo's `{"Progress":N}` comes first (a raw block: one node).
        #expect(pinAdd.count == 2 && pinAdd.first?["Progress"] as? Int == 1, "\(pinAdd)")
        let keys = try #require((out["pin_ls"] as? [String: Any])?["Keys"] as? [String: Any])
        let entry = keys[rawCID] as? [String: Any]
        #expect(entry?["Type"] as? String == "recursive")
        #expect(entry?["Name"] as? String == "layer-cache-v1")
        #expect(keys[fileRoot] != nil)  // the imported root stays pinned
        #expect((out["pin_rm"] as? [String: Any])?["Pins"] as? [String] == [rawCID])
        let after = try #require((out["pin_ls_after"] as? [String: Any])?["Keys"] as? [String: Any])
        #expect(after[rawCID] == nil && after[fileRoot] != nil)

        let addFile = try #require(out["add_file"] as? [[String: Any]])
        #expect(addFile.last?["Hash"] as? String == fileRoot)
        #expect(addFile.last?["Name"] as? String == "file.bin")
        // cids.tsv: sm1_262145 --cid-version=1.
        let addV1 = try #require(out["add_file_v1"] as? [[String: Any]])
        #expect(addV1.last?["Hash"] as? String == "bafybeifmkdh2xi33vkkift5sk44pahy4chasikdvosgcrevo26qn7czrhm")
        let addTree = try #require(out["add_tree"] as? [[String: Any]])
        #expect(addTree.last?["Hash"] as? String == treeRoot)
        #expect(addTree.last?["Name"] as? String == "tree")
        #expect(Set(addTree.compactMap { $0["Name"] as? String }) == ["tree", "tree/a.bin", "tree/sub", "tree/sub/b.bin"])

        // inputs.tsv: sha256 of sm1_262145; the range is checked against the input's own bytes.
        let whole = try #require(try Vectors.tsv("inputs.tsv").first { $0["input"] == "sm1_262145" }?["sha256"])
        #expect(out["cat_sha256"] as? String == whole)
        #expect(out["cat_range_sha256"] as? String == sha256Hex(sm1(262_145).subdata(in: 1000..<6000)))
        // `cat /ipfs/TREE/sub/b.bin`: the one byte of sm1_1.
        #expect(out["cat_path_sha256"] as? String == sha256Hex(sm1(1)))
    }
}
