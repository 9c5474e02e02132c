import Testing
import Foundation
import CairnTestSupport

/// Kubo's transport dialect through curl (ecosystem.md §1.1, go-ipfs-cmds http/): statuses,
/// content types, `X-Stream-Output`/`X-Chunked-Output`, the `X-Stream-Error` trailer, the
/// error object, and the commands' outputs. CIDs come from the shared vectors (`cids.tsv`).
@Suite(.serialized) struct RPCProtocolTests {
    /// cids.tsv: sm1_1 and sm1_4096 with --cid-version=1 are single raw leaves.
    static let rawSM1One = "bafkreigrxpltxmersc73rayfm5y6eluzova62iahs6j36m4xl7qwkrmbym"
    static let rawSM1Page = "bafkreibhnqimq2vjxg5fk5isqvkodapag2wcaor56nauhworowjhgevzeq"
    /// cids.tsv: sm1_262145 with Kubo's defaults (two leaves and a root).
    static let fileRoot = "QmYdCKyrtGRgMuaNVmssH5L39192Qc6CWjFo4LJBR9QhUC"

    @Test func routingAndErrorObjects() throws {
        let work = try serveDirectory("routing")
        defer { try? FileManager.default.removeItem(at: work) }
        let server = try ServeProcess(store: work.appendingPathComponent("store").path)
        defer { server.stop() }

        let version = try rpc(server, "version")
        #expect(version.status == 200)
        #expect(version.headers["content-type"] == "application/json")
        #expect(version.headers["trailer"] == "X-Stream-Error")
        #expect(jsonLines(version.text).first?["Version"] as? String == "0.32.0")

        let get = try curl(["\(server.url)/api/v0/version"])
        #expect(get.status == 405 && get.text == "405 - Method Not Allowed\n")
        let unknown = try rpc(server, "no/such/command")
        #expect(unknown.status == 404 && unknown.text == "404 page not found\n")

        // A missing argument is a client error (Code 1, 400); an absent block a normal one (500,
        // Kubo's offline message, ecosystem.md §1.4).
        let missing = try rpc(server, "block/stat")
        #expect(missing.status == 400)
        let object = jsonLines(missing.text).first
        #expect(object?["Code"] as? Int == 1 && object?["Type"] as? String == "error")
        let absent = try rpc(server, "block/stat?arg=\(Self.rawSM1One)")
        #expect(absent.status == 500)
        #expect(jsonLines(absent.text).first?["Message"] as? String
                == "block was not found locally (offline): ipld: could not find \(Self.rawSM1One)")
        #expect(jsonLines(absent.text).first?["Code"] as? Int == 0)
        let badCID = try rpc(server, "block/stat?arg=not-a-cid")
        #expect(badCID.status == 400 && jsonLines(badCID.text).first?["Type"] as? String == "error")
        let badBool = try rpc(server, "pin/ls?stream=maybe")
        #expect(badBool.status == 400 && badBool.headers["content-type"]?.hasPrefix("text/plain") == true)
        // `offline` and `timeout` are accepted on every command.
        #expect(try rpc(server, "version?offline=true&timeout=30s").status == 200)
        #expect(try rpc(server, "version?timeout=soon").status == 400)
    }

    @Test func blocksPinsAndStreams() throws {
        let work = try serveDirectory("blocks")
        defer { try? FileManager.default.removeItem(at: work) }
        let server = try ServeProcess(store: work.appendingPathComponent("store").path)
        defer { server.stop() }
        let one = work.appendingPathComponent("one"), page = work.appendingPathComponent("page")
        try sm1(1).write(to: one)
        try sm1(4096).write(to: page)

        // Several parts: one {"Key","Size"} line each, NDJSON.
        let put = try rpc(server, "block/put?cid-codec=raw&mhtype=sha2-256&mhlen=-1&pin=true",
                          ["-F", "file=@\(one.path)", "-F", "file=@\(page.path)"])
        #expect(put.status == 200)
        #expect(put.headers["x-chunked-output"] == "1")
        let lines = jsonLines(put.text)
        #expect(lines.map { $0["Key"] as? String } == [Self.rawSM1One, Self.rawSM1Page])
        #expect(lines.map { $0["Size"] as? Int } == [1, 4096])

        let got = try rpc(server, "block/get?arg=\(Self.rawSM1Page)")
        #expect(got.status == 200 && got.headers["x-stream-output"] == "1")
        #expect(got.body == sm1(4096))
        let stat = jsonLines(try rpc(server, "block/stat?arg=\(Self.rawSM1Page)").text).first
        #expect(stat?["Key"] as? String == Self.rawSM1Page && stat?["Size"] as? Int == 4096)

        // Named pins and Kubo's substring filter.
        #expect(try rpc(server, "pin/add?arg=\(Self.rawSM1One)&name=cache-v1").status == 200)
        #expect(try rpc(server, "pin/add?arg=\(Self.rawSM1Page)&name=cache-v2").status == 200)
        let named = try rpc(server, "pin/ls?name=cache&stream=true")
        #expect(named.headers["x-chunked-output"] == "1")
        let names = jsonLines(named.text).compactMap { $0["Name"] as? String }.sorted()
        #expect(names == ["cache-v1", "cache-v2"])
        let v2 = jsonLines(try rpc(server, "pin/ls?name=v2&stream=true").text)
        #expect(v2.map { $0["Cid"] as? String } == [Self.rawSM1Page])
        #expect(jsonLines(try rpc(server, "pin/ls?name=nothing&stream=true").text).isEmpty)

        // block/rm refuses a pinned block, in the stream's trailer.
        let refused = try rpc(server, "block/rm?arg=\(Self.rawSM1One)")
        #expect(refused.status == 200 && refused.headers["x-stream-error"] == "some blocks not removed")
        #expect(try rpc(server, "pin/rm?arg=\(Self.rawSM1One)").status == 200)
        #expect(try rpc(server, "pin/rm?arg=\(Self.rawSM1One)").status == 500)

        let refs = jsonLines(try rpc(server, "refs/local").text).compactMap { $0["Ref"] as? String }
        #expect(Set(refs) == [Self.rawSM1One, Self.rawSM1Page])
        // Only the unpinned block is collected.
        let gc = jsonLines(try rpc(server, "repo/gc").text)
        #expect(gc.compactMap { ($0["Key"] as? [String: Any])?["/"] as? String } == [Self.rawSM1One])
        #expect(try rpc(server, "block/stat?arg=\(Self.rawSM1One)").status == 500)
    }

    @Test func addCatExportAndTrailers() throws {
        let work = try serveDirectory("streams")
        defer { try? FileManager.default.removeItem(at: work) }
        let server = try ServeProcess(store: work.appendingPathComponent("store").path)
        defer { server.stop() }
        let file = work.appendingPathComponent("file.bin")
        try sm1(262_145).write(to: file)

        let add = try rpc(server, "add?pin-name=layer", ["-F", "file=@\(file.path);filename=file.bin"])
        #expect(add.status == 200 && add.headers["x-chunked-output"] == "1")
        let added = jsonLines(add.text)
        #expect(added.last?["Hash"] as? String == Self.fileRoot)
        #expect(added.last?["Name"] as? String == "file.bin")
        #expect(added.last?["Size"] is String)  // Kubo prints the cumulative size as a string
        let quieter = jsonLines(try rpc(server, "add?quieter=true&cid-version=1", ["-F", "file=@\(file.path)"]).text)
        #expect(quieter.map { $0["Hash"] as? String } == ["bafybeifmkdh2xi33vkkift5sk44pahy4chasikdvosgcrevo26qn7czrhm"])
        let pinned = jsonLines(try rpc(server, "pin/ls?names=true&stream=true&type=recursive").text)
        #expect(pinned.contains { $0["Cid"] as? String == Self.fileRoot && $0["Name"] as? String == "layer" })

        let cat = try rpc(server, "cat?arg=\(Self.fileRoot)&offset=262000&length=1000")
        #expect(cat.status == 200 && cat.headers["x-stream-output"] == "1")
        #expect(cat.body == sm1(262_145).subdata(in: 262_000..<262_145))

        let export = try rpc(server, "dag/export?arg=\(Self.fileRoot)")
        #expect(export.status == 200 && export.headers["x-stream-error"] == nil)
        let car = work.appendingPathComponent("export.car")
        try export.body.write(to: car)
        let verify = try CairnProcess.run(["car", "verify", car.path])
        #expect(verify.status == 0, "\(verify.stderr)")
        // Imported again (already present): Kubo's root line, then its stats line.
        let again = jsonLines(try rpc(server, "dag/import?stats=true", ["-F", "file=@\(car.path)"]).text)
        #expect(again.count == 2)
        #expect(((again.first?["Root"] as? [String: Any])?["Cid"] as? [String: Any])?["/"] as? String == Self.fileRoot)
        #expect((again.last?["Stats"] as? [String: Any])?["BlockCount"] as? Int == 3)  // two leaves and their root

        // The last leaf of a 4 MiB file in 1 KiB chunks missing: megabytes are sent first, then
        // the stream ends with the error in the X-Stream-Error trailer. A missing root is a
        // plain 500 error.
        let large = work.appendingPathComponent("large.bin")
        try sm1(4 << 20).write(to: large)
        let deep = jsonLines(try rpc(server, "add?chunker=size-1024&pin=false", ["-F", "file=@\(large.path)"]).text)
        let deepRoot = try #require(deep.last?["Hash"] as? String)
        let exportedDeep = try rpc(server, "dag/export?arg=\(deepRoot)")
        try exportedDeep.body.write(to: car)
        let blocks = try CairnProcess.run(["car", "ls", car.path])
        try #require(blocks.status == 0, "\(blocks.stderr)")
        // The last block of the depth-first CAR is a leaf under the second intermediate node.
        let leaf = try #require(blocks.stdoutText.split(separator: "\n").last.map { String($0.split(whereSeparator: { $0 == " " || $0 == "\t" })[0]) })
        #expect(try rpc(server, "block/rm?arg=\(leaf)&force=true").status == 200)
        let broken = try rpc(server, "dag/export?arg=\(deepRoot)")
        #expect(broken.status == 200)
        #expect(broken.headers["x-stream-error"]?.contains(leaf) == true, "\(broken.headers)")
        let brokenCat = try rpc(server, "cat?arg=\(deepRoot)")
        #expect(brokenCat.status == 200 && brokenCat.headers["x-stream-error"] != nil)
        #expect(brokenCat.body.count < 4 << 20 && brokenCat.body == sm1(4 << 20).prefix(brokenCat.body.count))
        let absent = try rpc(server, "dag/export?arg=\(Self.rawSM1One)")
        #expect(absent.status == 500 && jsonLines(absent.text).first?["Type"] as? String == "error")
    }
}
