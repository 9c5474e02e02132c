import Testing
import Foundation
import BlockStore
import Multiformats
import Remote
import CairnTestSupport

/// Kubo reports an error that happens after the 200 status line only in the `X-Stream-Error`
/// trailer (go-ipfs-cmds http/responseemitter.go): the call fails with the trailer's message
/// (spec/remote.md §3.1), whatever the part of the body already read says.
@Suite struct StreamErrorTests {
    @Test func pinListEndingWithATrailerFails() async throws {
        let node = KuboTestNode()
        node.addPin(try CID("bafkqaaa"), name: "ci")
        node.pinListStreamError = "context deadline exceeded"
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) { try await remote.pins("ci") }
            #expect(error?.message.contains("pin/ls: the remote failed while answering: context deadline exceeded") == true, "\(error?.message ?? "")")
            node.pinListStreamError = nil
            #expect(try await remote.pins("ci").count == 1)
        }
    }

    /// A `dag/export` broken off mid-stream: the trailer's message, not "incomplete", and
    /// nothing kept by the caller.
    @Test func exportBrokenOffMidStreamNamesTheTrailer() async throws {
        let layer = try LocalLayer("stream-error")
        defer { layer.remove() }
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 51, count: 80_000)])
        let node = KuboTestNode()
        for cid in try layer.dag(root) { node.store(cid, try layer.store.get(cid)) }
        node.exportStreamError = "ipld: could not find bafkreiexample"
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) {
                try await remote.fetch(root, scope: .all) { _ in }
            }
            #expect(error?.message.contains("dag/export: the remote failed while answering: ipld: could not find bafkreiexample") == true, "\(error?.message ?? "")")
        }
    }
}
