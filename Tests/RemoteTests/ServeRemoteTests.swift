import Testing
import Foundation
import BlockStore
import Blocks
import AsyncHTTPClient
import CAR
import Multiformats
import NIOCore
import NIOHTTP1
import Remote
import CairnTestSupport

/// `cairn push` against a real `cairn serve` process (spec/remote.md §5): the server SIGKILLed
/// in the middle of an upload, restarted on the same store, and the rerun found through
/// `$IPFS_PATH/api` as Kubo's own client finds a node.
@Suite(.serialized) struct ServeRemoteTests {
    /// `cairn serve` keeps one pin per (CID, name); Kubo one per CID. Removing the pins of one
    /// name (`pin remote rm`, `push --replace`) sent `pin/rm?arg=CID`, which on `cairn serve`
    /// removed the CID's pins of every name: a pin of another name was lost in silence. The
    /// removal now names the pin when the CID shows another name (spec/remote.md §3.4).
    @Test func removingOneNameKeepsTheCIDsOtherNames() async throws {
        let layer = try LocalLayer("serve-names")
        defer { layer.remove() }
        let v1 = try layer.add("v1", ["a": SplitMix64.bytes(seed: 73, count: 3000)])
        let v2 = try layer.add("v2", ["a": SplitMix64.bytes(seed: 74, count: 3000)])
        let localStore = layer.directory.appendingPathComponent("store").path
        let server = try ServeNode(store: layer.directory.appendingPathComponent("server").path)
        defer { server.stop() }
        for (root, name) in [(v1, "keep-me"), (v1, "rel")] {
            let pushed = try await runCairn(["push", root.description, "--to", server.url, "--store", localStore, "--pin-name", name])
            #expect(pushed.status == 0, "\(pushed.stderr)")
        }
        // --replace under "rel" removes v1's "rel" pin only.
        let replaced = try await runCairn(["push", v2.description, "--to", server.url, "--store", localStore, "--pin-name", "rel", "--replace"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        let remote = KuboBlockHolder(address: try RemoteAddress(parsing: server.url), settings: RemoteSettings())
        defer { Task { await remote.close() } }
        #expect(try await remote.pins("keep-me").map(\.cid) == [v1])
        #expect(try await remote.pins("rel").map(\.cid) == [v2])
        // pin remote rm of "keep-me" leaves "rel" (v2), and of v1 nothing is pinned after it.
        let removed = try await runCairn(["pin", "remote", "rm", "--name", "keep-me", "--from", server.url])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(try await remote.pins("keep-me").isEmpty)
        #expect(try await remote.pins("rel").map(\.cid) == [v2])
        // The same CID under two names, one removed: the other stays.
        _ = try await runCairn(["push", v2.description, "--to", server.url, "--store", localStore, "--pin-name", "other"])
        #expect(try await remote.unpinAll("rel") == [v2])
        #expect(try await remote.pins("other").map(\.cid) == [v2])
    }

    @Test func serverKilledMidPushThenTheRerunSendsOnlyWhatItLacks() async throws {
        let layer = try LocalLayer("serve-kill")
        defer { layer.remove() }
        let shared = SplitMix64.bytes(seed: 71, count: 1 << 20)
        let v1 = try layer.add("v1", ["a": shared])
        let v2 = try layer.add("v2", ["a": shared, "b": SplitMix64.bytes(seed: 72, count: 8 << 20)])
        let dag1 = try layer.dag(v1), dag2 = try layer.dag(v2)
        let serverStore = layer.directory.appendingPathComponent("server").path
        let localStore = layer.directory.appendingPathComponent("store").path

        var server = try ServeNode(store: serverStore)
        let first = try await runCairn(["push", v1.description, "--to", server.url, "--store", localStore])
        #expect(first.status == 0, "\(first.stderr)")

        // v2 through a relay that SIGKILLs the server once 1 MiB of one request (the upload's
        // CAR: existence checks are a few hundred bytes each) has reached it.
        let target = server
        let relay = try TripRelay(to: server.port, limit: 1 << 20) { target.stop() }
        defer { relay.close() }
        let interrupted = try await runCairn(["push", v2.description, "--to", "http://127.0.0.1:\(relay.port)", "--store", localStore])
        #expect(relay.tripped)
        #expect(interrupted.status == 1, "\(interrupted.stderr)")
        #expect(interrupted.stderr.hasPrefix("Error: ") && interrupted.stderr.split(separator: "\n").count == 1)

        // Restarted on the same store, found through $IPFS_PATH/api.
        server = try ServeNode(store: serverStore)
        defer { server.stop() }
        let before = try ServeNode.blockCount(serverStore)
        let repo = layer.directory.appendingPathComponent("ipfs")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        try "/ip4/127.0.0.1/tcp/\(server.port)\n".write(to: repo.appendingPathComponent("api"), atomically: true, encoding: .utf8)
        let rerun = try await runCairn(["push", v2.description, "--store", localStore, "--json"], environment: ["IPFS_PATH": repo.path])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let summary = try JSONSerialization.jsonObject(with: rerun.stdout) as? [String: Any]
        let after = try ServeNode.blockCount(serverStore)
        // Counted on the server: the rerun's blocks are exactly the ones the store lacked.
        #expect(summary?["UploadedBlocks"] as? Int == after - before)
        #expect(summary?["PresentBlocks"] as? Int == dag2.count - (after - before))
        #expect(after == dag1.union(dag2).count)
        server.stop()
        let verify = try await runCairn(["store", "verify", "--store", serverStore])
        #expect(verify.status == 0, "\(verify.stdoutText) \(verify.stderr)")
    }

    /// A DAG that reaches a leaf only through an identity dag-pb node: the server's
    /// `dag/export` sends the leaf (an identity CID is never written, what it links to is), the
    /// fetch requires it, and the fetched pin verifies whole.
    @Test func fetchThroughAnIdentityNode() async throws {
        let layer = try LocalLayer("serve-identity")
        defer { layer.remove() }
        let dag = try FetchTests.identityDAG()
        let serverStore = layer.directory.appendingPathComponent("server").path
        do {
            let store = try BlockStore(layout: StoreLayout(root: serverStore))
            _ = try store.putMany(dag.blocks.map { Block(cid: $0.key, bytes: $0.value) })
        }
        let server = try ServeNode(store: serverStore)
        defer { server.stop() }
        let localStore = layer.directory.appendingPathComponent("local").path
        let fetch = try await runCairn(["fetch", dag.root.description, "--from", server.url, "--store", localStore])
        #expect(fetch.status == 0, "\(fetch.stderr)")
        let verify = try await runCairn(["pin", "verify", "--store", localStore])
        #expect(verify.status == 0, "\(verify.stdoutText) \(verify.stderr)")
        let has = try await runCairn(["block", "stat", dag.under.description, "--store", localStore])
        #expect(has.status == 0, "\(has.stderr)")
    }

    /// The server pins only a complete DAG, and the blocks under an identity node are part of
    /// it (Kubo's pinner reads an identity CID's block from the CID and follows its links): a
    /// root whose leaf under an identity node was never sent is refused, naming that leaf, by
    /// `dag/import` with `pin-roots` (its walk stepped over identity nodes and pinned such a
    /// root) and by `pin/add`. Once the leaf is there, it pins.
    @Test func aPinNeedsTheBlocksUnderAnIdentityNode() async throws {
        let layer = try LocalLayer("serve-identity-pin")
        defer { layer.remove() }
        let dag = try FetchTests.identityDAG()
        let localStore = try BlockStore(layout: StoreLayout(root: layer.directory.appendingPathComponent("local").path))
        _ = try localStore.putMany(dag.blocks.map { Block(cid: $0.key, bytes: $0.value) })
        let server = try ServeNode(store: layer.directory.appendingPathComponent("server").path)
        defer { server.stop() }
        let remote = try kubo(server.url)
        defer { Task { await remote.close() } }
        let withoutLeaf = dag.blocks.keys.filter { $0 != dag.under }
        var writer = try CARWriter(output: CARMemoryOutput(), roots: [dag.root])
        for cid in withoutLeaf { try dag.blocks[cid]!.withUnsafeBytes { try writer.put(cid, $0) } }
        try writer.finish()
        let boundary = "cairn-identity-test"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.car\"\r\n\r\n".utf8)
        body += writer.output.bytes + Array("\r\n--\(boundary)--\r\n".utf8)
        var request = HTTPClientRequest(url: "\(server.url)/api/v0/dag/import")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let imported = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let line = try JSONSerialization.jsonObject(with: Data(imported.utf8.split(separator: UInt8(ascii: "\n")).first ?? [])) as? [String: Any]
        let message = (line?["Root"] as? [String: Any])?["PinErrorMsg"] as? String ?? ""
        #expect(message.contains(dag.under.description), "\(imported)")
        let error = await #expect(throws: RemoteError.self) { try await remote.pin(root: dag.root, name: nil, replace: false) }
        #expect(error?.message.contains(dag.under.description) == true, "\(error?.message ?? "")")
        #expect(try await remote.isPinnedRecursively(dag.root) == false)
        _ = try await remote.put([dag.under], root: dag.under, from: localStore)
        try await remote.pin(root: dag.root, name: nil, replace: false)
        #expect(try await remote.isPinnedRecursively(dag.root))
    }

    /// No `--from`: the address comes from `$IPFS_PATH/api` (a multiaddr, as Kubo writes it).
    @Test func addressFromIPFSPath() async throws {
        let layer = try LocalLayer("ipfs-path")
        defer { layer.remove() }
        let node = KuboTestNode()
        node.addPin(try CID("bafkqaaa"), name: "ci")
        try await node.serve { base in
            let port = try #require(base.split(separator: ":").last)
            try "/ip4/127.0.0.1/tcp/\(port)".write(to: layer.directory.appendingPathComponent("api"), atomically: true, encoding: .utf8)
            let ls = try await runCairn(["pin", "remote", "ls", "--name", "ci"], environment: ["IPFS_PATH": layer.directory.path])
            #expect(ls.status == 0, "\(ls.stderr)")
            #expect(ls.stdoutText == "bafkqaaa recursive ci\n")
            let none = try await runCairn(["pin", "remote", "ls", "--name", "ci"], environment: ["IPFS_PATH": layer.directory.path + "/absent"])
            #expect(none.status == 64 && none.stderr.contains("absent/api"))
        }
    }
}

/// A `cairn serve` process on a free loopback port (RPC API only) over `store`.
struct ServeNode: @unchecked Sendable {
    let process = Process()
    let port: Int

    init(store: String) throws {
        process.executableURL = try #require(CairnProcess.binary)
        process.arguments = ["serve", "--store", store, "--api", "127.0.0.1:0", "--gateway", "none"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let marker = "listening on /ip4/127.0.0.1/tcp/"
        while !text.contains("\n"), case let data = out.fileHandleForReading.availableData, !data.isEmpty {
            text += String(decoding: data, as: UTF8.self)
        }
        guard let range = text.range(of: marker), let port = Int(text[range.upperBound...].prefix { $0.isNumber }) else {
            process.terminate()
            throw ServeNodeError(description: "cairn serve did not start: \(text)")
        }
        self.port = port
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// SIGKILL, then waits.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// The blocks the store holds, as `cairn store stat` counts them.
    static func blockCount(_ store: String) throws -> Int {
        let stat = try CairnProcess.run(["store", "stat", "--store", store])
        let line = try #require(stat.stdoutText.split(separator: "\n").first { $0.hasPrefix("blocks: ") })
        return try #require(Int(line.dropFirst("blocks: ".count)))
    }
}

struct ServeNodeError: Error, CustomStringConvertible { let description: String }
