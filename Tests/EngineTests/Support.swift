import BlockStore
import Blocks
import CairnTestSupport
import Engine
import Foundation
import Multiformats
import UnixFS

/// Blocks in memory, recording which CIDs were asked for.
final class MemoryBlocks: BlockGetter, @unchecked Sendable {
    private let lock = NSLock()
    private var blocks: [CID: [UInt8]] = [:]
    private var requests: [CID] = []

    init(_ blocks: [Block] = []) {
        for block in blocks { self.blocks[block.cid] = block.bytes }
    }

    func add(_ cid: CID, _ bytes: [UInt8]) { lock.withLock { blocks[cid] = bytes } }

    var requested: [CID] { lock.withLock { requests } }

    func block(_ cid: CID, verified: Bool) throws -> [UInt8]? {
        lock.withLock {
            requests.append(cid)
            return blocks[cid]
        }
    }
}

/// A file imported with Kubo's flags: its root, and its blocks in put order.
func importFile(_ input: [UInt8], flags: [String]) throws -> (root: CID, blocks: [Block]) {
    var sink = CollectingSink()
    let result = try FileImporter(parameters: ImportOptions(kuboArguments: flags).resolve()).importBytes(input, into: &sink)
    return (result.root, sink.distinctBlocks)
}

/// A dag-pb node (sha2-256, CIDv0) with `data` and links to `children` under the given names.
func dagNode(_ data: UnixFSData, links: [(name: String, cid: CID)]) throws -> Block {
    let node = PBNode(links: links.map { PBLink(hash: $0.cid, name: $0.name, tsize: 0) }, data: data.bytes)
    let bytes = node.bytes
    let multihash = try Multihash(code: .sha2_256, digest: sha256(bytes))
    return Block(cid: try CID.v0(multihash), bytes: bytes)
}

/// A raw-codec CIDv1 block of `bytes` (hashed by the test's own SHA-256).
func rawBlock(_ bytes: [UInt8]) throws -> Block {
    let multihash = try Multihash(code: .sha2_256, digest: sha256(bytes))
    return Block(cid: CID.v1(codec: .raw, multihash: multihash), bytes: bytes)
}

func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var hasher = TestSHA256()
    hasher.update(bytes)
    return hasher.finalize()
}
