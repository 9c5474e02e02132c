import Testing
import Blocks
import Foundation
import Multiformats
import Remote
import CairnTestSupport

/// The whole push/fetch flow against a real Kubo node, only when `CAIRN_TEST_KUBO_API` names
/// one (e.g. `http://127.0.0.1:5001`; credentials in `CAIRN_API_AUTH`); skipped otherwise.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CAIRN_TEST_KUBO_API"] != nil,
                "set CAIRN_TEST_KUBO_API to run against a real Kubo node"))
struct RealNodeTests {
    @Test func pushThenFetchBack() async throws {
        try await realNodeFlow("CAIRN_TEST_KUBO_API", fetchBack: true) { address, settings in
            KuboBlockHolder(address: address, settings: settings)
        }
    }
}

/// The same flow against a real IPFS Cluster, only when `CAIRN_TEST_CLUSTER_API` names its REST
/// API (e.g. `cluster+http://127.0.0.1:9094`; its IPFS proxy in `CAIRN_TEST_CLUSTER_PROXY` when
/// not on port 9095; credentials in `CAIRN_API_AUTH`); skipped otherwise.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CAIRN_TEST_CLUSTER_API"] != nil,
                "set CAIRN_TEST_CLUSTER_API to run against a real IPFS Cluster"))
struct RealClusterTests {
    @Test func pushWaitThenUnpin() async throws {
        let proxy = ProcessInfo.processInfo.environment["CAIRN_TEST_CLUSTER_PROXY"]
        try await realNodeFlow("CAIRN_TEST_CLUSTER_API", fetchBack: false) { address, settings in
            var settings = settings
            settings.cluster.proxy = try proxy.map { (text) throws(RemoteError) in try RemoteAddress(parsing: text) }
            settings.cluster.wait = true
            return ClusterBlockHolder(address: address, settings: settings)
        }
    }
}

/// Pushes a fresh DAG under a fresh name to the node `variable` names, pushes it again (nothing
/// sent: its recursive pin answers), optionally fetches it back, then removes the name's pins.
func realNodeFlow(
    _ variable: String, fetchBack: Bool, open: (RemoteAddress, RemoteSettings) throws -> any RemoteBlockHolder
) async throws {
    let environment = ProcessInfo.processInfo.environment
    let address = try RemoteAddress(parsing: try #require(environment[variable]))
    let layer = try LocalLayer("real-node")
    defer { layer.remove() }
    let nonce = UInt64.random(in: 1...UInt64.max)
    let root = try layer.add("t", ["f": SplitMix64.bytes(seed: nonce, count: 300_000)])
    var settings = RemoteSettings()
    settings.auth = try environment["CAIRN_API_AUTH"].map { (text) throws(RemoteError) in try RemoteAuth(parsing: text) }
    let remote = try open(address, settings)
    defer { Task { await remote.close() } }
    var pusher = Pusher()
    pusher.pinName = "cairn-test-\(nonce)"
    let first = try await pusher.push(root, from: layer.store, to: remote)
    #expect(first.uploadedBlocks == first.dagBlocks - first.presentBlocks)
    let again = try await pusher.push(root, from: layer.store, to: remote)
    #expect(again.rootPinned && again.uploadedBytes == 0)
    if fetchBack {
        let received = FetchTests.Received()
        try await remote.fetch(root, scope: .all) { block in received.add(block.cid, block.bytes) }
        #expect(Set(received.blocks.keys) == (try layer.dag(root)))
    }
    #expect(try await remote.pins("cairn-test-\(nonce)").map(\.cid) == [root])
    #expect(try await remote.unpinAll("cairn-test-\(nonce)") == [root])
}
