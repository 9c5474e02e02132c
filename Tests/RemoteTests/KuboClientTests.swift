import Testing
import Foundation
import BlockStore
import Multiformats
import Remote
import CairnTestSupport

/// Every Kubo RPC call of the client against the recorded dialect (spec/remote.md §3).
@Suite struct KuboClientTests {
    @Test func existenceSeparatesAbsentFromErrors() async throws {
        let layer = try LocalLayer("kubo-has")
        defer { layer.remove() }
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 9, count: 20_000)])
        let cids = Array(try layer.dag(root))
        let node = KuboTestNode()
        for cid in cids.prefix(2) { node.store(cid, try layer.store.get(cid)) }
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            let present = try await remote.has(cids)
            #expect(present == cids.indices.map { $0 < 2 })
            // Any other 500 is an error, never "absent".
            node.failEvery = 1
            node.failCommands = ["block/stat"]
            let error = await #expect(throws: RemoteError.self) { try await remote.has([cids[0]]) }
            #expect(error?.message.contains("injected failure") == true)
            #expect(error?.code == .remote)
        }
    }

    /// `refs/local` answers for every CID when the node lists no more than the limit (its raw
    /// CIDv1s match dag-pb CIDs by multihash); past the limit, without the command or with an
    /// `Err` line, it does not answer as "absent".
    @Test func listingAnswersExistenceWithinItsLimit() async throws {
        let layer = try LocalLayer("kubo-list")
        defer { layer.remove() }
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 11, count: 20_000)])
        let other = try layer.add("o", ["g": SplitMix64.bytes(seed: 12, count: 3000)])
        let cids = try [root] + layer.dag(root).filter { $0 != root }
        let node = KuboTestNode()
        for cid in [cids[0], cids[2]] + Array(try layer.dag(other)) { node.store(cid, try layer.store.get(cid)) }
        #expect(cids[0].codec == .dagPB)
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            let held = node.blockCount
            #expect(try await remote.listedPresence(of: CIDList(cids), limit: held) == cids.indices.map { $0 == 0 || $0 == 2 })
            #expect(try await remote.listedPresence(of: CIDList(cids), limit: held - 1) == nil)
            // Two CIDs of one multihash (a dag-pb and a raw CID of the same bytes): one listed
            // multihash marks both.
            let twins = CIDList([cids[0], CID.v1(codec: .raw, multihash: cids[0].multihash), cids[1]])
            #expect(try await remote.listedPresence(of: twins, limit: held) == [true, true, false])
            #expect(!node.callLog.contains { $0.hasPrefix("block/stat") })
            node.refsLocalError = "listing broke"
            let error = await #expect(throws: RemoteError.self) { try await remote.listedPresence(of: CIDList(cids), limit: 100) }
            #expect(error?.message.contains("listing broke") == true)
            node.withoutRefsLocal = true
            #expect(try await remote.listedPresence(of: CIDList(cids), limit: 100) == nil)
        }
    }

    /// A push asks the listing first, and block by block only when it is too long or off.
    @Test func pushChecksExistenceByListingThenByBlock() async throws {
        let layer = try LocalLayer("kubo-list-push")
        defer { layer.remove() }
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 13, count: 20_000)])
        let cids = Array(try layer.dag(root))
        let node = KuboTestNode()
        node.store(cids[1], try layer.store.get(cids[1]))
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            for limit in [nil, 0] {
                var pusher = Pusher()
                pusher.dryRun = true
                pusher.listingLimit = limit
                let before = node.callLog.count
                let summary = try await pusher.push(root, from: layer.store, to: remote)
                #expect(summary.presentBlocks == 1 && summary.uploadedBlocks == cids.count - 1)
                let calls = node.callLog.dropFirst(before)
                #expect(calls.filter { $0.hasPrefix("block/stat") }.count == (limit == 0 ? cids.count : 0))
                #expect(calls.contains("refs/local") == (limit == nil))
            }
        }
    }

    @Test func pinNamesNeedKubo026() async throws {
        let node = KuboTestNode()
        node.version = "0.25.0"
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            let cid = try CID("bafkqaaa")
            let error = await #expect(throws: RemoteError.self) { try await remote.pin(root: cid, name: "x", replace: false) }
            #expect(error?.code == .unsupported)
            #expect(error?.message.contains("0.25.0") == true && error?.message.contains("0.26") == true)
        }
    }

    /// A push with a pin name to a Kubo too old for names fails before it uploads anything
    /// (it used to send the whole DAG, then fail at the pin).
    @Test func pushWithAPinNameChecksTheVersionFirst() async throws {
        let layer = try LocalLayer("kubo-old")
        defer { layer.remove() }
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 31, count: 20_000)])
        let node = KuboTestNode()
        node.version = "0.25.0"
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            var pusher = Pusher()
            pusher.pinName = "layer"
            let error = await #expect(throws: RemoteError.self) { try await pusher.push(root, from: layer.store, to: remote) }
            #expect(error?.code == .unsupported)
            #expect(node.uploaded.isEmpty)
        }
    }

    /// `replace` pins the new root first, then removes every other pin named exactly N; a pin
    /// whose name only contains N stays (Kubo's own `name` filter is a substring match).
    @Test func replacePinsFirstAndMatchesNamesExactly() async throws {
        let layer = try LocalLayer("kubo-pins")
        defer { layer.remove() }
        let old = try layer.add("old", ["f": SplitMix64.bytes(seed: 5, count: 5000)])
        let other = try layer.add("other", ["f": SplitMix64.bytes(seed: 6, count: 5000)])
        let new = try layer.add("new", ["f": SplitMix64.bytes(seed: 7, count: 5000)])
        let node = KuboTestNode()
        for root in [old, other, new] { for cid in try layer.dag(root) { node.store(cid, try layer.store.get(cid)) } }
        node.addPin(old, name: "cache")
        node.addPin(other, name: "cache-old")
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            #expect(try await remote.pins("cache").map(\.cid) == [old])
            try await remote.pin(root: new, name: "cache", replace: true)
            let log = node.callLog
            let added = try #require(log.firstIndex(of: "pin/add \(new)"))
            let removed = try #require(log.firstIndex(of: "pin/rm \(old)"))
            #expect(added < removed)
            // The node's version (names need Kubo 0.26) is asked once, not before each call.
            #expect(log.filter { $0 == "version" }.count == 1, "\(log)")
            let remaining: Set<CID> = Set(node.pins.map(\.cid))
            #expect(remaining == [other, new])
            #expect(try await remote.unpinAll("cache") == [new])
            #expect(node.pins.map(\.cid) == [other])
        }
    }

    /// Without `dag/import` (404), blocks go up through `block/put` batches, each answer checked.
    @Test func blockPutFallback() async throws {
        let layer = try LocalLayer("kubo-put")
        defer { layer.remove() }
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 8, count: 30_000)])
        let cids = Array(try layer.dag(root))
        let node = KuboTestNode()
        node.withoutDagImport = true
        try await node.serve { base in
            let remote = try kubo(base)
            defer { Task { await remote.close() } }
            let report = try await remote.put(CIDList(cids), root: root, from: layer.store)
            #expect(report.blocks == cids.count)
            #expect(node.uploaded.reduce(0) { $0 + $1.blocks } == cids.count)
            for cid in cids { #expect(node.block(cid) == (try layer.store.get(cid))) }
        }
    }

    @Test func wrongCredentialsAreAClearError() async throws {
        let node = KuboTestNode()
        node.requiredAuthorization = "Bearer right-token"
        try await node.serve { base in
            let wrong = try kubo(base) { $0.auth = try? RemoteAuth(parsing: "bearer:wrong-token") }
            defer { Task { await wrong.close() } }
            let error = await #expect(throws: RemoteError.self) { try await wrong.version() }
            #expect(error?.code == .unauthorized)
            #expect(error?.message.contains("wrong-token") == false)
            let right = try kubo(base) { $0.auth = try? RemoteAuth(parsing: "bearer:right-token") }
            defer { Task { await right.close() } }
            #expect(try await right.version() == [0, 26, 0])
        }
        #expect(try RemoteAuth(parsing: "basic:alice:pw").description.contains("pw") == false)
    }

    @Test func hangingNodeTimesOut() async throws {
        let node = KuboTestNode()
        node.hang = true
        try await node.serve { base in
            defer { node.hang = false }
            let remote = try kubo(base) { $0.callTimeout = .milliseconds(500); $0.attempts = 1 }
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) { try await remote.version() }
            #expect(error?.code == .unreachable)
            #expect(error?.message.contains("no answer from") == true && error?.message.contains("within 500ms") == true, "\(error?.message ?? "")")
            // An idempotent call past its deadline is tried again (`version` was tried once).
            let retrying = try kubo(base) { $0.callTimeout = .milliseconds(300); $0.attempts = 3 }
            defer { Task { await retrying.close() } }
            let before = node.callLog.filter { $0 == "version" }.count
            await #expect(throws: RemoteError.self) { try await retrying.version() }
            #expect(node.callLog.filter { $0 == "version" }.count - before == 3)
        }
    }

    /// A node failing one call in five: idempotent calls are retried and succeed.
    @Test func retriesIdempotentCalls() async throws {
        let layer = try LocalLayer("kubo-retry")
        defer { layer.remove() }
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 10, count: 60_000)])
        let cids = Array(try layer.dag(root))
        let node = KuboTestNode()
        node.failEvery = 5
        node.failCommands = ["block/stat", "version", "pin/ls"]
        try await node.serve { base in
            let remote = try kubo(base) { $0.concurrency = 1 }
            defer { Task { await remote.close() } }
            #expect(try await remote.has(cids) == cids.map { _ in false })
            #expect(node.callLog.count > cids.count)  // the failed calls were made again
        }
    }

    /// A `pin/rm` answer that does not name the CID (`{"Pins":[]}`) is an error, never an
    /// unpin reported that did not happen (found by a hostile pass).
    @Test func anUnconfirmedUnpinIsAnError() async throws {
        let node = KuboTestNode()
        let root = try CID("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
        node.addPin(root, name: "cache")
        node.pinRemoveConfirmsNothing = true
        try await node.serve { base in
            let remote = try kubo(base) { $0.attempts = 1 }
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) { _ = try await remote.unpinAll("cache") }
            #expect(error?.message.contains("did not confirm the removal of the pin of \(root)") == true, "\(error?.message ?? "")")
        }
    }

    /// A version past 64 bits is a newer node, not version 0; an answer that is no version is
    /// an error naming it (it read as "Kubo 0.0" or "Kubo ").
    @Test(arguments: [("99999999999999999999.0.0", true), ("v0.30.0", true), ("0.26.0-rc1", true), ("", false), ("0.x.1", false), ("1..2", false), ("0.26", false), ("0.26.0.1", false)])
    func versionsAreReadStrictly(version: String, accepted: Bool) async throws {
        let node = KuboTestNode()
        node.version = version
        try await node.serve { base in
            let remote = try kubo(base) { $0.attempts = 1 }
            defer { Task { await remote.close() } }
            if accepted {
                try await remote.checkCanPin(name: "x")
            } else {
                let error = await #expect(throws: RemoteError.self) { try await remote.checkCanPin(name: "x") }
                #expect(error?.message.contains("which is not a Kubo version") == true, "\(error?.message ?? "")")
            }
        }
    }
}
