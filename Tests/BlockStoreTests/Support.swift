import CairnTestSupport
import Foundation
import Hashing
import Multiformats
import UnixFS
import Blocks
@testable import BlockStore

/// A fresh store in its own temporary directory, removed by `cleanup()`.
struct TemporaryStore {
    let path: String
    let store: BlockStore

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("cairn-store-tests-\(UUID().uuidString)").path
        store = try BlockStore(path: path)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
    }

    func reopen() throws -> BlockStore { try BlockStore(path: path) }

    func packFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path + "/packs").sorted()
    }
}

/// A raw-codec CIDv1 block (sha2-256) of `bytes`.
func rawBlock(_ bytes: [UInt8], hash: HashAlgorithm = .sha2_256) throws -> Block {
    let digest = hash.hash(bytes)
    let multihash = try Multihash(code: Multicodec(rawValue: hash.multihashCode)!, digest: digest.bytes)
    return Block(cid: CID.v1(codec: .raw, multihash: multihash), bytes: bytes)
}

/// A dag-pb block (sha2-256, CIDv0) linking to `children` under the given names.
func dagNode(_ data: UnixFSData, links: [(name: String, cid: CID)]) throws -> Block {
    var node = PBNode(links: links.map { PBLink(hash: $0.cid, name: $0.name, tsize: 0) }, data: data.bytes)
    node.sortLinks()
    let bytes = node.bytes
    let multihash = try Multihash(code: .sha2_256, digest: HashAlgorithm.sha2_256.hash(bytes).bytes)
    return Block(cid: try CID.v0(multihash), bytes: bytes)
}

/// `count` distinct small raw blocks from a seeded generator.
func randomBlocks(seed: UInt64, count: Int, size: Int = 100) throws -> [Block] {
    var rng = SplitMix64(seed: seed)
    return try (0..<count).map { _ in
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { rng.fill($0) }
        return try rawBlock(bytes)
    }
}

/// Flips one bit of a file at `offset`.
func flipByte(path: String, offset: Int64) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    let byte = try handle.read(upToCount: 1)![0]
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: [byte ^ 0x01])
}

func fileSize(_ path: String) throws -> Int64 {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).int64Value
}
