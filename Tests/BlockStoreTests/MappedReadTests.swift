import CairnTestSupport
import Blocks
import Foundation
import Multiformats
import Testing
@testable import BlockStore

@Suite("Block store: mapped, unverified reads")
struct MappedReadTests {
    @Test func mappedBytesEqualVerifiedGetsAcrossPacksAndLaterAppends() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let first = try randomBlocks(seed: 71, count: 40, size: 5_000)
        try temp.store.putMany(first)
        // Map the pack, then append more: the later blocks need a longer mapping.
        let early = try #require(try temp.store.unverifiedBytes(of: first[0].cid))
        let second = try randomBlocks(seed: 72, count: 40, size: 7_000)
        try temp.store.putMany(second)
        for block in first + second {
            let bytes = try #require(try temp.store.unverifiedBytes(of: block.cid))
            #expect(Array(bytes) == block.bytes)
        }
        // Bytes handed out before the second batch are still valid and unchanged.
        #expect(Array(early) == first[0].bytes)
    }

    @Test func identityGivesNilAndAbsentIsNotFound() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let identity = CID.v1(codec: .raw, multihash: try Multihash(code: .identity, digest: [1, 2, 3]))
        #expect(try temp.store.unverifiedBytes(of: identity) == nil)
        let absent = try randomBlocks(seed: 73, count: 1)[0].cid
        #expect(throws: BlockStoreError.self) { _ = try temp.store.unverifiedBytes(of: absent) }
    }
}
