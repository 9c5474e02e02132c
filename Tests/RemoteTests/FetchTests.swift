import Testing
import Blocks
import Foundation
import BlockStore
import Multiformats
import Remote
import CairnTestSupport

/// Fetch accepts only verified blocks of the DAG (spec/remote.md §6).
@Suite struct FetchTests {
    static func setUp() throws -> (LocalLayer, CID, [CID: [UInt8]]) {
        let layer = try LocalLayer("fetch")
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 21, count: 50_000), "g": SplitMix64.bytes(seed: 22, count: 9000)])
        var blocks: [CID: [UInt8]] = [:]
        for cid in try layer.dag(root) { blocks[cid] = try layer.store.get(cid) }
        return (layer, root, blocks)
    }

    static func fetch(_ base: String, _ root: CID, mode: FetchMode = .car, maxUnlinked: Int? = nil,
                      keysInMemory: Int? = nil) async throws -> [CID: [UInt8]] {
        var settings = RemoteSettings()
        settings.fetchMode = mode
        if let keysInMemory { settings.receivedKeysInMemory = keysInMemory }
        if let maxUnlinked { settings.maxUnlinkedBlocks = maxUnlinked }
        settings.concurrency = 4
        let remote = GatewayBlockHolder(address: try RemoteAddress(parsing: base), settings: settings)
        defer { Task { await remote.close() } }
        let received = Received()
        try await remote.fetch(root, scope: .all) { block in received.add(block.cid, block.bytes) }
        return received.blocks
    }

    final class Received: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var blocks: [CID: [UInt8]] = [:]
        func add(_ cid: CID, _ bytes: [UInt8]) { lock.lock(); blocks[cid] = bytes; lock.unlock() }
    }

    /// A good DAG, however the content type announces it; duplicates are tolerated when the
    /// gateway says `dups=y` (or says nothing), out-of-order blocks when `order=unk`.
    @Test(arguments: [
        (GatewayTestNode.Fault.none, "; version=1; order=dfs; dups=n"), (.none, "; version=1"),
        (.none, "; version=1; order=unk; dups=y"), (.duplicateBlock, "; version=1; order=dfs; dups=y"),
        (.duplicateBlock, "; version=1; order=dfs"), (.shuffled, "; version=1; order=unk; dups=n"),
    ])
    func verifiedDAG(fault: GatewayTestNode.Fault, parameters: String) async throws {
        let (layer, root, blocks) = try Self.setUp()
        defer { layer.remove() }
        let gateway = GatewayTestNode(blocks: blocks)
        gateway.fault = fault
        gateway.carParameters = parameters
        try await gateway.serve { base in
            let received = try await Self.fetch(base, root)
            #expect(received == blocks)
            // The same with the received blocks' keys spilled to disk from the first one.
            #expect(try await Self.fetch(base, root, keysInMemory: 1) == blocks)
        }
    }

    @Test(arguments: [
        (GatewayTestNode.Fault.corruptBlock, "does not match its CID", "; version=1; order=dfs; dups=n"),
        (.extraBlock, "outside the DAG", "; version=1; order=dfs; dups=n"),
        (.extraBlock, "outside the DAG", "; version=1; order=unk; dups=y"),
        (.duplicateBlock, "sent twice", "; version=1; order=dfs; dups=n"),
        // Parameter names in any case, values quoted (RFC 9110): still dups=n.
        (.duplicateBlock, "sent twice", "; Version=\"1\"; ORDER=\"dfs\"; Dups=\"n\""),
        (.missingBlock, "is missing", "; version=1; order=unk; dups=n"),
        (.missingBlock, "is missing", "; version=1; order=dfs; dups=n"),
        (.shuffled, "outside the DAG", "; version=1; order=dfs; dups=n"),
        // Every block of the DAG, but level by level under a dfs promise: refused at the first
        // block out of order (a wide DAG sent so grew the expected links without bound).
        (.breadthFirst, "is missing", "; version=1; order=dfs; dups=n"),
    ])
    func refusesWhatDoesNotVerify(fault: GatewayTestNode.Fault, message: String, parameters: String) async throws {
        let (layer, root, blocks) = try Self.setUp()
        defer { layer.remove() }
        let gateway = GatewayTestNode(blocks: blocks)
        gateway.fault = fault
        gateway.carParameters = parameters
        try await gateway.serve { base in
            for keys in [nil, 1] {  // the received blocks' keys in memory, and spilled to disk
                let error = await #expect(throws: RemoteError.self) { _ = try await Self.fetch(base, root, keysInMemory: keys) }
                #expect(error?.code == .verification)
                #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
            }
        }
    }

    /// A DAG whose root links, through an identity dag-pb node, to a leaf: R → I(identity) → A,
    /// and R → B. Blocks by CID (I is not among them: its CID holds it).
    static func identityDAG() throws -> (root: CID, identity: CID, under: CID, blocks: [CID: [UInt8]]) {
        func raw(_ text: String) throws -> (CID, [UInt8]) {
            let bytes = Array(text.utf8)
            var sha = TestSHA256()
            sha.update(bytes)
            return (CID.v1(codec: .raw, multihash: try Multihash(code: .sha2_256, digest: sha.finalize())), bytes)
        }
        let (a, aBytes) = try raw("under an identity node")
        let (b, bBytes) = try raw("beside it")
        let inner = PBNode(links: [PBLink(hash: a, name: "a", tsize: UInt64(aBytes.count))], data: UnixFSData.directory().bytes).bytes
        let identity = CID.v1(codec: .dagPB, multihash: try Multihash(code: .identity, digest: inner))
        let rootBytes = PBNode(links: [PBLink(hash: b, name: "b", tsize: UInt64(bBytes.count)), PBLink(hash: identity, name: "i", tsize: 0)],
                               data: UnixFSData.directory().bytes).bytes
        var sha = TestSHA256()
        sha.update(rootBytes)
        let root = CID.v1(codec: .dagPB, multihash: try Multihash(code: .sha2_256, digest: sha.finalize()))
        return (root, identity, a, [root: rootBytes, a: aBytes, b: bBytes])
    }

    /// An identity CID is never sent (its CID holds its block), but what it links to is part of
    /// the DAG: a CAR that leaves out the blocks under an identity dag-pb node (this test node's
    /// walk skips what it does not hold, so it never reaches them) is incomplete, in either
    /// order; a hostile pass found such fetches accepted, and pinned, with the leaf missing.
    @Test(arguments: ["; version=1; order=dfs; dups=n", "; version=1; order=unk; dups=n"])
    func blocksUnderAnIdentityNodeAreRequired(parameters: String) async throws {
        let dag = try Self.identityDAG()
        let gateway = GatewayTestNode(blocks: dag.blocks)
        gateway.carParameters = parameters
        try await gateway.serve { base in
            let error = await #expect(throws: RemoteError.self) { _ = try await Self.fetch(base, dag.root) }
            #expect(error?.code == .verification)
            #expect(error?.message.contains("block \(dag.under) is missing") == true, "\(error?.message ?? "")")
            // Block by block, the leaf under the identity node is asked for too.
            let raw = try await Self.fetch(base, dag.root, mode: .raw)
            #expect(raw == dag.blocks)
        }
    }

    /// A CID Kubo would not accept from outside (here a sha2-256 digest cut to 10 bytes, which
    /// the leaf's bytes do match) is refused wherever it comes: as a block of a CAR, in either
    /// order, and block by block before it is asked for (only the root is requested then).
    /// The CAR reader refused it; fetch took it and stored it (spec/multiformats.md §5.1).
    @Test(arguments: [(FetchMode.car, "; version=1; order=dfs; dups=n"), (.car, "; version=1; order=unk; dups=n"), (.raw, "")])
    func anInsecureCIDIsRefused(mode: FetchMode, parameters: String) async throws {
        let leafBytes = Array("a leaf behind a short digest".utf8)
        var leafSHA = TestSHA256()
        leafSHA.update(leafBytes)
        let leaf = CID.v1(codec: .raw, multihash: try Multihash(code: .sha2_256, digest: Array(leafSHA.finalize().prefix(10))))
        #expect(throws: (any Error).self) { try leaf.checkSecure() }
        let rootBytes = PBNode(links: [PBLink(hash: leaf, name: "x", tsize: UInt64(leafBytes.count))], data: UnixFSData.directory().bytes).bytes
        var rootSHA = TestSHA256()
        rootSHA.update(rootBytes)
        let root = CID.v1(codec: .dagPB, multihash: try Multihash(code: .sha2_256, digest: rootSHA.finalize()))
        let gateway = GatewayTestNode(blocks: [root: rootBytes, leaf: leafBytes])
        if mode == .car { gateway.carParameters = parameters } else { gateway.rawOnly = true }
        try await gateway.serve { base in
            let error = await #expect(throws: RemoteError.self) { _ = try await Self.fetch(base, root, mode: mode) }
            #expect(error?.code == .verification)
            #expect(error?.message.contains("block \(leaf)") == true && error?.message.contains("is refused") == true, "\(error?.message ?? "")")
            if mode == .raw { #expect(gateway.rawRequests == 1) }
        }
    }

    /// The links a fetch's checks hold at once are bounded (`maxHeldLinks`): the test DAG's
    /// root holds a few links, so a bound below them refuses it in either order, and the
    /// default passes it (a hostile remote's deep chain of wide nodes grew the client to 1.3 GB).
    @Test(arguments: ["; version=1; order=dfs; dups=n", "; version=1; order=unk; dups=n"])
    func heldLinksAreBounded(parameters: String) async throws {
        let (layer, root, blocks) = try Self.setUp()
        defer { layer.remove() }
        let gateway = GatewayTestNode(blocks: blocks)
        gateway.carParameters = parameters
        try await gateway.serve { base in
            #expect(try await Self.fetch(base, root) == blocks)
            var settings = RemoteSettings()
            settings.maxHeldLinks = 1
            let remote = GatewayBlockHolder(address: try RemoteAddress(parsing: base), settings: settings)
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) { try await remote.fetch(root, scope: .all) { _ in } }
            #expect(error?.message.contains("needs more than 1 links held at once") == true, "\(error?.message ?? "")")
        }
    }

    /// `order=unk` (spec/remote.md §6): blocks not yet linked from the root wait, at most
    /// `maxUnlinkedBlocks` of them. A CAR written leaves first (the root last) holds all but
    /// the root so until the end, and verifies within a limit that allows it; with a lower
    /// one, or blocks of no DAG streamed first, the fetch fails as soon as the limit is passed.
    @Test func unknownOrderBoundsTheBlocksNotYetLinked() async throws {
        let (layer, root, blocks) = try Self.setUp()
        defer { layer.remove() }
        let gateway = GatewayTestNode(blocks: blocks)
        gateway.carParameters = "; version=1; order=unk; dups=n"
        gateway.fault = .leavesFirst
        try await gateway.serve { base in
            let whole = try await Self.fetch(base, root, maxUnlinked: blocks.count - 1)
            #expect(whole == blocks)
            let error = await #expect(throws: RemoteError.self) { _ = try await Self.fetch(base, root, maxUnlinked: blocks.count - 2) }
            #expect(error?.code == .verification)
            #expect(error?.message.contains("no block of the DAG of \(root) received so far links to") == true, "\(error?.message ?? "")")
        }
        let flood = GatewayTestNode(blocks: blocks)
        flood.carParameters = "; version=1; order=unk; dups=n"
        flood.fault = .strayFlood
        try await flood.serve { base in
            let error = await #expect(throws: RemoteError.self) { _ = try await Self.fetch(base, root, maxUnlinked: 16) }
            #expect(error?.message.contains("more than 16 blocks came") == true, "\(error?.message ?? "")")
            // Within the limit, the strays are found at the end, as before.
            let late = await #expect(throws: RemoteError.self) { _ = try await Self.fetch(base, root) }
            #expect(late?.message.contains("outside the DAG") == true, "\(late?.message ?? "")")
        }
    }

    /// Block by block (`?format=raw`): when the gateway refuses CARs (406), or when asked;
    /// every block verified before its links are followed, one request per block.
    @Test(arguments: [(true, FetchMode.car), (false, .raw)])
    func rawBlocks(rawOnly: Bool, mode: FetchMode) async throws {
        let (layer, root, blocks) = try Self.setUp()
        defer { layer.remove() }
        let gateway = GatewayTestNode(blocks: blocks)
        gateway.rawOnly = rawOnly
        try await gateway.serve { base in
            let received = try await Self.fetch(base, root, mode: mode)
            #expect(received == blocks)
            #expect(gateway.rawRequests == blocks.count)
        }
    }

    @Test(arguments: [(GatewayTestNode.Fault.corruptBlock, "does not match its CID"), (.missingBlock, "does not have it (HTTP 404)")])
    func rawBlocksRefuseWhatDoesNotVerify(fault: GatewayTestNode.Fault, message: String) async throws {
        let (layer, root, blocks) = try Self.setUp()
        defer { layer.remove() }
        let gateway = GatewayTestNode(blocks: blocks)
        gateway.rawOnly = true
        gateway.fault = fault
        try await gateway.serve { base in
            let error = await #expect(throws: RemoteError.self) { _ = try await Self.fetch(base, root) }
            #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
        }
    }

    @Test func existenceThroughHead() async throws {
        let (layer, root, blocks) = try Self.setUp()
        defer { layer.remove() }
        let gateway = GatewayTestNode(blocks: blocks)
        try await gateway.serve { base in
            let remote = GatewayBlockHolder(address: try RemoteAddress(parsing: base), settings: RemoteSettings())
            defer { Task { await remote.close() } }
            #expect(try await remote.has([root, try CID("bafkqaaa")]) == [true, false])
        }
    }

    /// Through the binary: a refused fetch leaves the store without a block; a good one stores
    /// and writes the tree.
    @Test func cliFetchIsAllOrNothing() async throws {
        let (layer, root, blocks) = try Self.setUp()
        defer { layer.remove() }
        let gateway = GatewayTestNode(blocks: blocks)
        gateway.fault = .corruptBlock
        let home = layer.directory.appendingPathComponent("fetch-home").path
        try await gateway.serve { base in
            let refused = try await runCairn(["fetch", root.description, "--from", base], environment: ["CAIRN_HOME": home])
            #expect(refused.status == 1)
            #expect(refused.stderr.hasPrefix("Error: ") && refused.stderr.contains("does not match its CID"))
            let stat = try await runCairn(["store", "stat"], environment: ["CAIRN_HOME": home])
            #expect(stat.status == 0)
            #expect(stat.stdoutText.contains("\nblocks: 0\n") && stat.stdoutText.contains("\npins: 0"))
            gateway.fault = .none
            let out = layer.directory.appendingPathComponent("out").path
            let fetched = try await runCairn(["fetch", root.description, "--from", base, "-o", out], environment: ["CAIRN_HOME": home])
            #expect(fetched.status == 0, "\(fetched.stderr)")
            #expect(FileManager.default.contents(atPath: out + "/f") == Data(SplitMix64.bytes(seed: 21, count: 50_000)))
            let raw = try await runCairn(["fetch", root.description, "--from", base, "--fetch-mode", "raw", "--store", home + "/raw", "--car", home + "/raw.car"])
            #expect(raw.status == 0, "\(raw.stderr)")
            #expect(gateway.rawRequests == blocks.count)
            let bad = try await runCairn(["fetch", root.description, "--from", base, "--fetch-mode", "blocks"])
            #expect(bad.status == 64)
        }
    }
}
