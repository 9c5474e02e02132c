import Testing
import Foundation
import Multiformats
import Remote
import CairnTestSupport
import BlockStore
import Blocks
import Engine

/// Push end to end against the test node, counted on the server side (spec/remote.md §5).
@Suite struct PushTests {
    @Test func secondVersionUploadsOnlyWhatTheFirstLacked() async throws {
        let layer = try LocalLayer("push-dedup")
        defer { layer.remove() }
        let (files1, files2) = layerVersions()
        let v1 = try layer.add("v1", files1), v2 = try layer.add("v2", files2)
        let dag1 = try layer.dag(v1), dag2 = try layer.dag(v2)
        let node = KuboTestNode()
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            var pusher = Pusher()
            pusher.pinName = "layer"
            pusher.replace = true
            _ = try await pusher.push(v1, from: layer.store, to: remote)
            #expect(node.uploaded.map(\.blocks) == [dag1.count])
            _ = try await pusher.push(v2, from: layer.store, to: remote)
            #expect(node.uploaded.map(\.blocks) == [dag1.count, dag2.subtracting(dag1).count])
            #expect(node.pins.map(\.cid) == [v2])
            #expect(node.firstMissing(below: v2) == nil)
            // Unchanged content again: the recursive pin answers, nothing is sent.
            let again = try await pusher.push(v2, from: layer.store, to: remote)
            #expect(node.uploaded.count == 2)
            #expect(again.rootPinned && again.uploadedBytes == 0)
        }
    }

    /// The node drops the connection mid-upload; the rerun sends only what it still lacks.
    @Test func rerunAfterABrokenUploadSendsOnlyWhatIsMissing() async throws {
        let layer = try LocalLayer("push-broken")
        defer { layer.remove() }
        let root = try layer.add("v1", layerVersions().v1)
        let dag = try layer.dag(root)
        let node = KuboTestNode()
        node.breakImportAfter = 20
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            await #expect(throws: (any Error).self) { try await Pusher().push(root, from: layer.store, to: remote) }
            #expect(node.blockCount == 20)
            node.breakImportAfter = nil
            _ = try await Pusher().push(root, from: layer.store, to: remote)
            #expect(node.uploaded.map(\.blocks) == [20, dag.count - 20])
            #expect(node.firstMissing(below: root) == nil)
            #expect(node.pins.map(\.cid) == [root])
        }
    }

    /// An upload is not retried: a 500 on dag/import is a clear error, and a rerun completes.
    @Test func failedUploadIsAClearErrorThenARerunCompletes() async throws {
        let layer = try LocalLayer("push-500")
        defer { layer.remove() }
        let root = try layer.add("v1", ["f": SplitMix64.bytes(seed: 11, count: 40_000)])
        let node = KuboTestNode()
        node.failEvery = 1
        node.failCommands = ["dag/import"]
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) { try await Pusher().push(root, from: layer.store, to: remote) }
            #expect(error?.message.contains("dag/import") == true)
            #expect(node.callLog.filter { $0 == "dag/import" }.count == 1)
            node.failEvery = nil
            _ = try await Pusher().push(root, from: layer.store, to: remote)
            #expect(node.firstMissing(below: root) == nil)
        }
    }

    @Test func dryRunSendsNothing() async throws {
        let layer = try LocalLayer("push-dry")
        defer { layer.remove() }
        let root = try layer.add("v1", ["f": SplitMix64.bytes(seed: 12, count: 40_000)])
        let node = KuboTestNode()
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            var pusher = Pusher()
            pusher.dryRun = true
            let summary = try await pusher.push(root, from: layer.store, to: remote)
            #expect(summary.uploadedBlocks == (try layer.dag(root)).count)
            #expect(node.uploaded.isEmpty && node.pins.isEmpty)
        }
    }

    /// A refused upload lets go of the local store and its buffers once the push has failed.
    /// AsyncHTTPClient may leave the task iterating a streamed request body suspended for good
    /// when a refusal comes first; before `CARUpload.Lease`, that task kept the store alive
    /// (LeakSanitizer: the store's index connections and 6 MiB of piece buffers per failure).
    /// This upload is one piece, sent as one buffer, so no such task exists at all.
    @Test func refusedUploadLetsGoOfTheStore() async throws {
        final class Watch: @unchecked Sendable { weak var store: BlockStore? }
        let watch = Watch()
        var directory: URL?
        do {
            let layer = try LocalLayer("push-release")
            directory = layer.directory
            let root = try layer.add("v1", ["f": SplitMix64.bytes(seed: 12, count: 40_000)])
            watch.store = layer.store
            let node = KuboTestNode()
            node.failEvery = 1
            node.failCommands = ["dag/import"]
            try await node.serve { base in
                let remote = try kubo(base)
                await #expect(throws: RemoteError.self) { try await Pusher().push(root, from: layer.store, to: remote) }
                await remote.close()
            }
        }
        defer { if let directory { try? FileManager.default.removeItem(at: directory) } }
        // The release happens as the push returns; allow the connection's tasks a moment.
        for _ in 0..<100 where watch.store != nil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(watch.store == nil, "the store outlived the failed push")
    }
}

/// A remote whose existence check answers for fewer blocks than asked (a listing, or each
/// `has` batch): the push stops with an error before it uploads anything. Zipping the
/// answers with the blocks left those past the short answer unsent, counted as neither.
@Suite struct ShortExistenceAnswerTests {
    final class ShortAnswers: RemoteBlockHolder, @unchecked Sendable {
        let listing: Bool
        private let lock = NSLock()
        private var putCalls = 0
        init(listing: Bool) { self.listing = listing }
        var uploads: Int { lock.withLock { putCalls } }

        func has(_ cids: [CID]) async throws -> [Bool] { Array(repeating: false, count: max(0, cids.count - 1)) }
        func listedPresence(of cids: CIDList, limit: Int) async throws -> [Bool]? {
            listing ? Array(repeating: true, count: max(0, cids.count - 1)) : nil
        }
        func isPinnedRecursively(_ root: CID) async throws -> Bool { false }
        func put(_ cids: CIDList, root: CID, from blocks: some BlockGetter) async throws -> PutReport {
            lock.withLock { putCalls += 1 }
            throw RemoteError(.remote, "no upload expected")
        }
        func pin(root: CID, name: String?, replace: Bool) async throws {}
        func unpinAll(_ name: String) async throws -> [CID] { [] }
        func pins(_ name: String) async throws -> [RemotePin] { [] }
        func fetch(_ root: CID, scope: FetchScope, into body: @escaping @Sendable (Block) throws -> Void) async throws {}
        func close() async {}
    }

    @Test(arguments: [false, true])
    func aShortAnswerStopsThePush(listing: Bool) async throws {
        let layer = try LocalLayer("push-short-answer")
        defer { layer.remove() }
        let root = try layer.add("v1", layerVersions().v1)
        let remote = ShortAnswers(listing: listing)
        let error = await #expect(throws: RemoteError.self) { try await Pusher().push(root, from: layer.store, to: remote) }
        #expect(error?.message.contains("the existence check answered") == true, "\(error?.message ?? "")")
        #expect(remote.uploads == 0)
    }
}
