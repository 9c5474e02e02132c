import Testing
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
        let environment = ProcessInfo.processInfo.environment
        let address = try RemoteAddress(parsing: try #require(environment["CAIRN_TEST_KUBO_API"]))
        let layer = try LocalLayer("real-node")
        defer { layer.remove() }
        let nonce = UInt64.random(in: 1...UInt64.max)
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: nonce, count: 300_000)])
        var settings = RemoteSettings()
        settings.auth = try environment["CAIRN_API_AUTH"].map { (text) throws(RemoteError) in try RemoteAuth(parsing: text) }
        let remote = KuboBlockHolder(address: address, settings: settings)
        defer { Task { await remote.close() } }
        var pusher = Pusher()
        pusher.pinName = "cairn-test-\(nonce)"
        let first = try await pusher.push(root, from: layer.store, to: remote)
        #expect(first.uploadedBlocks == first.dagBlocks - first.presentBlocks)
        let again = try await pusher.push(root, from: layer.store, to: remote)
        #expect(again.rootPinned && again.uploadedBytes == 0)
        let received = FetchTests.Received()
        try await remote.fetch(root, scope: .all) { cid, bytes in received.add(cid, bytes) }
        #expect(Set(received.blocks.keys) == (try layer.dag(root)))
        #expect(try await remote.unpinAll("cairn-test-\(nonce)") == [root])
    }
}
