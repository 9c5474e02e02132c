import Testing
import Foundation
import Multiformats
import Remote
import CairnTestSupport

/// The IPFS Cluster backend against the protocol test node (spec/remote.md §4): uploads
/// counted on the server side, names matched exactly, statuses, errors and credentials.
@Suite struct ClusterTests {
    static func cluster(_ base: String, proxy: String, _ configure: (inout RemoteSettings) -> Void = { _ in }) throws -> ClusterBlockHolder {
        var settings = RemoteSettings()
        settings.backoff = .milliseconds(1)
        settings.cluster.proxy = try RemoteAddress(parsing: proxy)
        settings.cluster.pollInterval = .milliseconds(10)
        configure(&settings)
        return ClusterBlockHolder(address: try RemoteAddress(parsing: base), settings: settings)
    }

    /// v1 then v2 under one name with `replace`: v2 sends only the blocks v1 lacked, the
    /// replication options reach the Cluster, and only v2 stays pinned under the name (a pin
    /// whose name merely contains it stays too).
    @Test func pushTwoVersionsThenReplace() async throws {
        let layer = try LocalLayer("cluster-push")
        defer { layer.remove() }
        let (files1, files2) = layerVersions()
        let v1 = try layer.add("v1", files1), v2 = try layer.add("v2", files2)
        let dag1 = try layer.dag(v1), dag2 = try layer.dag(v2)
        let node = ClusterTestNode()
        let bystander = try CID("bafkqaaa")
        node.addPin(bystander, name: "layer-old")
        try await node.serve { base, proxy in
            let remote = try Self.cluster(base, proxy: proxy) { $0.cluster.replicationMin = 1; $0.cluster.replicationMax = 2 }
            defer { Task { await remote.close() } }
            var pusher = Pusher()
            pusher.pinName = "layer"
            pusher.replace = true
            _ = try await pusher.push(v1, from: layer.store, to: remote)
            #expect(node.uploads.map(\.blocks) == [dag1.count])
            #expect(node.uploads.first?.query == "replication-min=1&replication-max=2")
            _ = try await pusher.push(v2, from: layer.store, to: remote)
            #expect(node.uploads.map(\.blocks) == [dag1.count, dag2.subtracting(dag1).count])
            #expect(Set(node.pins.map(\.cid)) == [bystander, v2])
            #expect(node.pins.first { $0.cid == v2 }?.name == "layer")
            #expect(try await remote.pins("layer").map(\.cid) == [v2])
            // Unchanged content again: GET /pins answers `pinned`, nothing is sent.
            let again = try await pusher.push(v2, from: layer.store, to: remote)
            #expect(again.rootPinned && again.uploadedBytes == 0 && node.uploads.count == 2)
        }
    }

    /// Every pin of the name goes, however `GET /allocations` answers (NDJSON or one array).
    @Test(arguments: [false, true])
    func unpinAllRemovesEveryPinOfTheName(asArray: Bool) async throws {
        let node = ClusterTestNode()
        node.allocationsAsArray = asArray
        let identity = { (byte: UInt8) in CID.v1(codec: .raw, multihash: try Multihash(code: .identity, digest: [byte])) }
        let a = try identity(1), b = try identity(2), c = try identity(3)
        node.addPin(a, name: "ci")
        node.addPin(b, name: "ci")
        node.addPin(c, name: "ci-2")
        try await node.serve { base, proxy in
            let remote = try Self.cluster(base, proxy: proxy)
            defer { Task { await remote.close() } }
            #expect(Set(try await remote.unpinAll("ci")) == [a, b])
            #expect(node.pins.map(\.cid) == [c])
            #expect(node.calls.filter { $0.hasPrefix("DELETE") }.count == 2)
        }
    }

    /// `--wait` polls `GET /pins/{cid}` through `pinning` to `pinned`; a peer in `pin_error`
    /// fails the pin with the peer's error.
    @Test func waitFollowsTheClusterStatuses() async throws {
        let layer = try LocalLayer("cluster-wait")
        defer { layer.remove() }
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 41, count: 30_000)])
        let node = ClusterTestNode()
        node.pinningPolls = 3
        try await node.serve { base, proxy in
            let remote = try Self.cluster(base, proxy: proxy) { $0.cluster.wait = true; $0.cluster.replicationMin = 2 }
            defer { Task { await remote.close() } }
            _ = try await Pusher().push(root, from: layer.store, to: remote)
            #expect(node.calls.filter { $0 == "GET /pins/\(root)" }.count >= 4)
            node.pinError = "context deadline exceeded"
            let error = await #expect(throws: RemoteError.self) { try await remote.pin(root: root, name: "x", replace: false) }
            #expect(error?.message.contains("peer1 reports pin_error: context deadline exceeded") == true, "\(error?.message ?? "")")
        }
    }

    /// A failed upload is one clear error with the Cluster's message (never retried); wrong
    /// Basic credentials are refused with a 401, right ones pass.
    @Test func errorsAndCredentials() async throws {
        let layer = try LocalLayer("cluster-errors")
        defer { layer.remove() }
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 42, count: 30_000)])
        let node = ClusterTestNode()
        node.addError = "no allocations could be made"
        try await node.serve { base, proxy in
            let remote = try Self.cluster(base, proxy: proxy)
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) { try await Pusher().push(root, from: layer.store, to: remote) }
            #expect(error?.message.contains("POST /add failed") == true && error?.message.contains("no allocations could be made") == true)
            #expect(node.calls.filter { $0 == "POST /add" }.count == 1)
            node.addError = nil
            node.requiredAuthorization = "Basic " + Data("admin:right".utf8).base64EncodedString()
            let wrong = try Self.cluster(base, proxy: proxy) { $0.auth = try? RemoteAuth(parsing: "basic:admin:wrong") }
            defer { Task { await wrong.close() } }
            let refused = await #expect(throws: RemoteError.self) { try await wrong.pins("x") }
            #expect(refused?.code == .unauthorized && refused?.message.contains("wrong") == false)
            let right = try Self.cluster(base, proxy: proxy) { $0.auth = try? RemoteAuth(parsing: "basic:admin:right") }
            defer { Task { await right.close() } }
            #expect(try await right.pins("x").isEmpty)
        }
    }

    /// Through the binary: push to a `cluster+http` address, then list and remove its pins.
    @Test func cliPushAndPinRemote() async throws {
        let layer = try LocalLayer("cluster-cli")
        defer { layer.remove() }
        let tree = layer.directory.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        try Data(SplitMix64.bytes(seed: 43, count: 50_000)).write(to: tree.appendingPathComponent("f"))
        let home = layer.directory.appendingPathComponent("home").path
        let node = ClusterTestNode()
        try await node.serve { base, proxy in
            let push = try await runCairn(["push", tree.path, "--to", base, "--cluster-proxy", proxy, "--pin-name", "ci",
                                           "--replication-min", "1", "--wait", "--json"], environment: ["CAIRN_HOME": home])
            #expect(push.status == 0, "\(push.stderr)")
            let summary = try JSONSerialization.jsonObject(with: push.stdout) as? [String: Any]
            let root = try CID(try #require(summary?["Root"] as? String))
            #expect(summary?["UploadedBlocks"] as? Int == node.uploads.first?.blocks)
            #expect(node.ipfs.firstMissing(below: root) == nil)
            let ls = try await runCairn(["pin", "remote", "ls", "--name", "ci", "--from", base])
            #expect(ls.stdoutText == "\(root) recursive ci\n")
            let rm = try await runCairn(["pin", "remote", "rm", "--name", "ci", "--from", base])
            #expect(rm.stdoutText == "unpinned \(root)\n")
            #expect(node.pins.isEmpty)
        }
    }
}
