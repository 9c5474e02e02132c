import CairnTestSupport
import Multiformats
import Testing
@testable import Blocks

/// The strict dag-pb and UnixFS decoders: every malformed block is rejected with a one-line
/// error naming the byte offset and the problem, and nothing crashes.
@Suite struct MalformedDecoderTests {
    /// The 100-byte root of a 262145-byte file (kubo-import-semantics.md §1.3).
    static let internalNode = Hex.decode(
        "122a0a2212207d3655b5c77d3c0241ab59e1dd0d06a12f67d29513b7379622ecd81c222e77451200188e8010"
            + "12280a2212207ea5134cef6d5176f671769803b58c1dac76d02f05f64e393e5011daaad59acb12001809"
            + "0a0c080218818010208080102001")!
    /// A CIDv0 link body prefix: `0a 22` + 34 CID bytes.
    static let cidField = "0a2212207d3655b5c77d3c0241ab59e1dd0d06a12f67d29513b7379622ecd81c222e7745"

    func rejectsPB(_ hex: String, at offset: Int, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = Hex.decode(hex)!
        do {
            let node = try PBNode(decoding: bytes)
            Issue.record("accepted \(hex) as \(node)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.offset == offset, "\(error)", sourceLocation: sourceLocation)
            #expect(error.reason.contains(phrase), "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("invalid dag-pb block at byte \(offset): "), sourceLocation: sourceLocation)
        }
    }

    func rejectsFS(_ hex: String, at offset: Int, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = Hex.decode(hex)!
        do {
            let data = try UnixFSData(decoding: bytes)
            Issue.record("accepted \(hex) as \(data)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.offset == offset, "\(error)", sourceLocation: sourceLocation)
            #expect(error.reason.contains(phrase), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func truncationAtEveryOffset() throws {
        let block = Self.internalNode
        // Top-level field boundaries: a prefix ending there is itself a valid, shorter node.
        let boundaries: [Int: Int] = [0: 0, 44: 1, 86: 2]
        for length in 0..<block.count {
            let prefix = Array(block[0..<length])
            if let links = boundaries[length] {
                let node = try PBNode(decoding: prefix)
                #expect(node.links.count == links && node.data == nil)
            } else {
                #expect(throws: DagPBError.self, "prefix of \(length) bytes") { try PBNode(decoding: prefix) }
            }
        }
        let data = try #require(PBNode(decoding: block).data)
        let dataBoundaries: Set<Int> = [0, 2, 6, 10]  // after Type, filesize, blocksizes[0]
        for length in 0..<data.count where !dataBoundaries.contains(length) || length == 0 {
            #expect(throws: UnixFSError.self, "UnixFS prefix of \(length) bytes") { try UnixFSData(decoding: data[0..<length]) }
        }
        // A prefix that ends between fields is well-formed protobuf: it decodes to fewer fields.
        #expect(try UnixFSData(decoding: data[0..<6]) == UnixFSData(type: .file, fileSize: 262_145))
    }

    @Test func wrongWireTypes() {
        rejectsPB("0d00000000", at: 0, "Data (field 1) has wire type fixed32 (5)")
        rejectsPB("1000", at: 0, "link 0 (field 2) has wire type varint (0)")
        rejectsPB("1224" + "082212207d3655b5c77d3c0241ab59e1dd0d06a12f67d29513b7379622ecd81c222e7745", at: 2, "field 1 has wire type varint (0)")
        rejectsPB("1226" + Self.cidField + "1a00", at: 38, "field 3 has wire type length-delimited (2)")
        rejectsFS("0a00", at: 0, "Type (field 1) has wire type length-delimited (2)")
        rejectsFS("0802220101", at: 2, "packed blocksizes")
        rejectsFS("08021d01000000", at: 2, "filesize (field 3) has wire type fixed32 (5)")
    }

    @Test func unknownFields() {
        rejectsPB("1800", at: 0, "unknown PBNode field 3")
        rejectsPB("1226" + Self.cidField + "2000", at: 38, "unknown PBLink field 4")
        rejectsFS("08024800", at: 2, "unknown field 9")
        rejectsFS("0800420408011800", at: 6, "unknown mtime field 3")
    }

    @Test func orderAndDuplicates() {
        rejectsPB("0a00" + "1224" + Self.cidField, at: 2, "comes after Data")
        rejectsPB("0a000a00", at: 2, "duplicate Data")
        rejectsPB("1248" + Self.cidField + Self.cidField, at: 38, "duplicate field 1")
        rejectsPB("1228" + Self.cidField + "18011200", at: 40, "out-of-order field 2")
        rejectsPB("1204" + "12001800", at: 2, "link 0 has no Hash")
        rejectsFS("08020802", at: 2, "duplicate Type")
        rejectsFS("18000802", at: 2, "Type (field 1) after field 3")
        rejectsFS("0802180020012001180a", at: 8, "filesize (field 3) after field 4")
        rejectsFS("08024206150100000008", at: 9, "mtime field 1 repeated or out of order")
    }

    @Test func unsortedLinks() throws {
        // Links named "b" then "a": refused by default, accepted when sorting is not required.
        let hex = "1229" + Self.cidField + "120162" + "1800" + "1229" + Self.cidField + "120161" + "1800"
        rejectsPB(hex, at: 43, "out of order: names must be sorted")
        let node = try PBNode(decoding: Hex.decode(hex)!, requireSortedLinks: false)
        #expect(node.links.map { $0.name! } == [[0x62], [0x61]])
        // Equal names (all empty, as in file nodes) are in order.
        #expect(try PBNode(decoding: Self.internalNode).links.count == 2)
    }

    @Test func invalidLinkCIDs() {
        rejectsPB("1205" + "0a03015512", at: 7, "Hash is not a valid CID")
        rejectsPB("1206" + "0a04027012" + "00", at: 4, "Hash is not a valid CID")  // version 2
        rejectsPB("1205" + "0a03122001", at: 4, "Hash is not a valid CID")  // CIDv0 too short
        rejectsPB("1225" + "0a23" + "12207d3655b5c77d3c0241ab59e1dd0d06a12f67d29513b7379622ecd81c222e774500", at: 38, "1 bytes after the CID")
        rejectsPB("1202" + "0a00", at: 4, "Hash is not a valid CID")
    }

    @Test func absurdLengthsAndVarints() {
        rejectsPB("0a8080808010", at: 1, "Data claims 4294967296 bytes but only 0 remain")
        rejectsPB("0aff", at: 1, "truncated")
        rejectsPB("0affffffffffffffffff7f", at: 1, "longer than 64 bits")
        rejectsPB("0a8000", at: 1, "non-minimal varint")
        rejectsPB("8a", at: 0, "truncated")  // key varint cut short
        rejectsPB("8a00", at: 0, "non-minimal varint")
        rejectsPB("12ffffffffffffffffff01", at: 1, "claims 18446744073709551615 bytes")
        rejectsFS("08028000", at: 2, "non-minimal varint")
        rejectsFS("0806", at: 0, "unknown UnixFS type 6")
        rejectsFS("1800", at: 2, "required field Type (1) is missing")
        rejectsFS("0802388080808010", at: 2, "does not fit in 32 bits")
        rejectsFS("080242061500000000", at: 3, "mtime claims 6 bytes but only 5 remain")
    }

    @Test func semanticChecksOnUnixFS() {
        rejectsFS("0802420708011500000000", at: 6, "mtime nanos 0 outside")  // a zero fraction is omitted, never written
        rejectsFS("08024205150100000000", at: 4, "mtime has no seconds")
        rejectsFS("08022822", at: 0, "only allowed on HAMTShard")
        rejectsFS("08023010", at: 0, "only allowed on HAMTShard")
    }

    @Test func randomCorruptionNeverCrashes() {
        var rng = SplitMix64(seed: 99)
        let base = Self.internalNode
        var rejected = 0
        for _ in 0..<5000 {
            var bytes = base
            let flips = Int(rng.next() % 4) + 1
            for _ in 0..<flips {
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            do {
                let node = try PBNode(decoding: bytes)
                // Whatever decodes must re-encode to the same canonical bytes.
                #expect(node.bytes == bytes)
                if let data = node.data { _ = try? UnixFSData(decoding: data) }
            } catch {
                rejected += 1
                #expect(!error.reason.isEmpty)
            }
        }
        #expect(rejected > 0)
    }
}
