import Blocks
import Foundation
import Multiformats
import Testing
import CairnTestSupport

/// The trustless-gateway set of ipfs/gateway-conformance v0.13.2, case by case, from its
/// fixtures: `tests/trustless_gateway_car_test.go` (every case run twice, with `?format=car`
/// and with `Accept: application/vnd.ipld.car`, as the suite's `StandardCARTestTransforms`
/// does, with its standard CAR response headers), `trustless_gateway_raw_test.go` and
/// `trustless_gateway_ipns_test.go` (GatewayIPNSTests). CIDs come from the fixture CARs, the
/// suite's own literals, or the fixture list of the gateway spec (subdir-with-two-single-block-files:
/// ipfs/specs, trustless gateway fixtures, root bafybeietjm63…).
@Suite struct GatewayConformanceTests {
    // subdir-with-two-single-block-files (in all-fixtures-merged.car)
    static let twoFiles = "bafybeietjm63oynimmv5yyqay33nui4y4wx6u3peezwetxgiwvfmelutzu"
    static let twoFilesSubdir = "bafybeiggghzz6dlue3m6nb2dttnbrygxh3lrjl5764f2m4gq7dgzdt55o4"
    static let ascii = "bafkreifkam6ns4aoolg3wedr4uzrs3kvq66p4pecirz6y2vlrngla62mxm"
    static let hello = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
    // subdir-with-mixed-block-files
    static let mixed = "bafybeidh6k2vzukelqtrjsmd4p52cpmltd2ufqrdtdg6yigi73in672fwu"
    static let mixedSubdir = "bafybeicnmple4ehlz3ostv2sbojz3zhh5q7tz5r2qkfdpqfilgggeen7xm"
    static let multiblock = "bafybeigcisqd7m5nf3qmuvjdbakl5bdnh4ocrmacaqkpuh77qjvggmt2sa"
    /// multiblock.txt's leaves (4 × 256 + 2 bytes), as the suite lists them.
    static let chunks = [
        "bafkreie5noke3mb7hqxukzcy73nl23k6lxszxi5w3dtmuwz62wnvkpsscm",
        "bafkreih4ephajybraj6wnxsbwjwa77fukurtpl7oj7t7pfq545duhot7cq",
        "bafkreigu7buvm3cfunb35766dn7tmqyh2um62zcio63en2btvxuybgcpue",
        "bafkreicll3huefkc3qnrzeony7zcfo7cr3nbx64hnxrqzsixpceg332fhe",
        "bafkreifst3pqztuvj57lycamoi7z34b4emf7gawxs74nwrc2c7jncmpaqm",
    ]
    // dir-with-dag-cbor-with-links
    static let cborDir = "bafybeia264q44a3kmfc2otctzu4egp2k235o3t7mslz2yjraymp4nv6asi"
    static let document = "bafyreidy4q6mmetut5jzc54ambsfnatbyoujmwbfzyyolqw24majazwgha"
    // single-layer-hamt-with-multi-block-files
    static let hamt = "bafybeidbclfqleg2uojchspzd4bob56dqetqjsj27gy2cq3klkkgxtpn4i"
    // file-3k-and-3-blocks-missing-block, and the two leaves the suite names
    static let missing = "QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk"
    // dir-with-duplicate-files
    static let duplicates = "bafybeihchr7vmgjaasntayyatmp5sv6xza57iy2h4xj7g46bpjij6yhrmy"

    /// The fixture HAMT read from its CAR: the shards under the root in link order, and the
    /// shards on the route to an entry with the entry's CID.
    struct HAMTFixture {
        var blocks: [CID: [UInt8]] = [:]
        init() throws {
            for block in try GatewayFixtures.blocks("single-layer-hamt-with-multi-block-files.car") { blocks[block.cid] = block.bytes }
        }
        func links(_ cid: String) throws -> [PBLink] {
            try PBNode(decoding: blocks[GatewayFixtures.cid(cid)]!, requireSortedLinks: false).links
        }
        /// Every shard below the root (links named by a 2-digit bucket only), depth first.
        var shards: [String] { get throws { try shards(below: GatewayConformanceTests.hamt) } }
        func shards(below shard: String) throws -> [String] {
            try links(shard).filter { $0.name?.count == 2 }.flatMap { [$0.hash.description] + (try shards(below: $0.hash.description)) }
        }
        func route(to name: String) throws -> (shards: [String], entry: String) {
            for link in try links(GatewayConformanceTests.hamt) {
                let label = link.name ?? []
                if label.count > 2, label.dropFirst(2).elementsEqual(name.utf8) { return ([], link.hash.description) }
                if label.count == 2, let hit = try links(link.hash.description).first(where: { ($0.name ?? []).dropFirst(2).elementsEqual(name.utf8) }) {
                    return ([link.hash.description], hit.hash.description)
                }
            }
            throw GatewayError("no \(name) in the HAMT fixture")
        }
        /// The file's blocks below its root, depth first, in link order.
        func descendants(_ cid: String) throws -> [String] {
            guard GatewayFixtures.cid(cid).codec == .dagPB else { return [] }
            return try links(cid).flatMap { [$0.hash.description] + (try descendants($0.hash.description)) }
        }
    }

    struct GatewayError: Error { var message: String; init(_ m: String) { message = m } }

    /// One CAR case: the request path and query, the blocks expected, and whether their order is checked.
    struct CARCase: CustomTestStringConvertible, Sendable {
        var name: String
        var path: String
        var query: String
        var blocks: @Sendable () throws -> [String]
        var ordered = true
        var testDescription: String { name }
    }

    static let carCases: [CARCase] = [
        // TestTrustlessCarPathing
        CARCase(name: "pathing through UnixFS directory", path: "/ipfs/\(twoFiles)/subdir/ascii.txt", query: "",
                blocks: { [twoFiles, twoFilesSubdir, ascii] }),
        CARCase(name: "UnixFS file on a path with HAMT-sharded directory", path: "/ipfs/\(hamt)/685.txt", query: "", blocks: {
            let fixture = try HAMTFixture()
            let route = try fixture.route(to: "685.txt")
            return [hamt] + route.shards + [route.entry] + (try fixture.descendants(route.entry))
        }),
        CARCase(name: "UnixFS file on a path with DAG-CBOR as root CID", path: "/ipfs/\(document)/files/single", query: "",
                blocks: { [document, hello] }),
        // TestTrustlessCarDagScopeBlock
        CARCase(name: "dag-scope=block of UnixFS directory on a path", path: "/ipfs/\(twoFiles)/subdir", query: "&dag-scope=block",
                blocks: { [twoFiles, twoFilesSubdir] }),
        CARCase(name: "dag-scope=block of UnixFS file on a path", path: "/ipfs/\(twoFiles)/subdir/ascii.txt", query: "&dag-scope=block",
                blocks: { [twoFiles, twoFilesSubdir, ascii] }),
        CARCase(name: "dag-scope=block of UnixFS file on a path with sharded directory", path: "/ipfs/\(hamt)/1.txt", query: "&dag-scope=block", blocks: {
            let route = try HAMTFixture().route(to: "1.txt")
            return [hamt] + route.shards + [route.entry]
        }),
        // TestTrustlessCarDagScopeEntity
        CARCase(name: "dag-scope=entity of a UnixFS directory", path: "/ipfs/\(twoFiles)", query: "&dag-scope=entity",
                blocks: { [twoFiles] }),
        CARCase(name: "dag-scope=entity of a UnixFS sharded directory", path: "/ipfs/\(hamt)", query: "&dag-scope=entity",
                blocks: { [hamt] + (try HAMTFixture().shards) }),
        CARCase(name: "dag-scope=entity of a UnixFS file", path: "/ipfs/\(mixed)/subdir/ascii.txt", query: "&dag-scope=entity",
                blocks: { [mixed, mixedSubdir, ascii] }),
        CARCase(name: "dag-scope=entity of a chunked UnixFS file", path: "/ipfs/\(mixed)/subdir/multiblock.txt", query: "&dag-scope=entity",
                blocks: { [mixed, mixedSubdir, multiblock] + chunks }),
        CARCase(name: "dag-scope=entity of DAG-CBOR with links", path: "/ipfs/\(cborDir)/document", query: "&dag-scope=entity",
                blocks: { [cborDir, document] }),
        // TestTrustlessCarDagScopeAll
        CARCase(name: "dag-scope=all of UnixFS directory with multiple files", path: "/ipfs/\(mixed)/subdir", query: "&dag-scope=all",
                blocks: { [mixed, mixedSubdir, ascii, hello, multiblock] + chunks }),
        CARCase(name: "dag-scope=all of a chunked UnixFS file", path: "/ipfs/\(mixed)/subdir/multiblock.txt", query: "&dag-scope=all",
                blocks: { [mixed, mixedSubdir, multiblock] + chunks }),
        // TestTrustlessCarEntityBytes
        CARCase(name: "entity-bytes with a block missing after the range", path: "/ipfs/\(missing)", query: "&dag-scope=entity&entity-bytes=0:1000",
                blocks: { [missing, "QmPKt7ptM2ZYSGPUc8PmPT2VBkLDK3iqpG9TBJY7PCE9rF"] }, ordered: false),
        CARCase(name: "entity-bytes with a block missing before the range", path: "/ipfs/\(missing)", query: "&dag-scope=entity&entity-bytes=2200:*",
                blocks: { [missing, "QmWXY482zQdwecnfBsj78poUUuPXvyw2JAFAEMw4tzTavV"] }, ordered: false),
        CARCase(name: "entity-bytes of a full UnixFS file", path: "/ipfs/\(mixed)/subdir/multiblock.txt", query: "&dag-scope=entity&entity-bytes=0:*",
                blocks: { [mixed, mixedSubdir, multiblock] + chunks }),
        CARCase(name: "entity-bytes of a UnixFS directory", path: "/ipfs/\(hamt)", query: "&dag-scope=entity&entity-bytes=0:*",
                blocks: { [hamt] + (try HAMTFixture().shards) }),
        CARCase(name: "entity-bytes from the middle to the end", path: "/ipfs/\(multiblock)", query: "&dag-scope=entity&entity-bytes=512:*",
                blocks: { [multiblock] + chunks[2...] }),
        CARCase(name: "entity-bytes for the middle of a file", path: "/ipfs/\(multiblock)", query: "&dag-scope=entity&entity-bytes=512:1023",
                blocks: { [multiblock] + chunks[2..<4] }),
        CARCase(name: "entity-bytes for the middle of a file (negative end)", path: "/ipfs/\(multiblock)", query: "&dag-scope=entity&entity-bytes=512:-256",
                blocks: { [multiblock] + chunks[2..<4] }),
        CARCase(name: "entity-bytes suffix range", path: "/ipfs/\(multiblock)", query: "&dag-scope=entity&entity-bytes=-5:*",
                blocks: { [multiblock] + chunks[3...] }),
        CARCase(name: "entity-bytes negative start beyond the file", path: "/ipfs/\(multiblock)", query: "&dag-scope=entity&entity-bytes=-9999:*",
                blocks: { [multiblock] + chunks }),
        CARCase(name: "entity-bytes negative start beyond the file, negative end", path: "/ipfs/\(multiblock)", query: "&dag-scope=entity&entity-bytes=-9999:-3",
                blocks: { [multiblock] + chunks[0..<4] }),
        CARCase(name: "entity-bytes of the first byte only", path: "/ipfs/\(multiblock)", query: "&dag-scope=entity&entity-bytes=0:0",
                blocks: { [multiblock, chunks[0]] }),
    ]

    /// Every CAR case twice (format=car, then Accept), with the suite's standard CAR headers.
    @Test(arguments: carCases)
    func carCase(_ test: CARCase) async throws {
        let expected = try test.blocks().map(GatewayFixtures.cid)
        try await withGateway { gateway, _ in
            let variants: [(String, [(String, String)])] = [
                ("\(test.path)?format=car\(test.query)", []),
                ("\(test.path)?\(test.query.dropFirst())", [("Accept", "application/vnd.ipld.car")]),
            ]
            for (url, headers) in variants {
                let answer = try await gatewayGet(gateway, url, headers: headers)
                #expect(answer.status == 200, "\(url)")
                #expect(answer.header("X-Content-Type-Options") == "nosniff")
                #expect(answer.header("Accept-Ranges") == "none")
                #expect(answer.header("Content-Type")?.contains("application/vnd.ipld.car") == true)
                let disposition = answer.header("Content-Disposition") ?? ""
                #expect(disposition.range(of: #"^attachment; filename=".*\.car"$"#, options: .regularExpression) != nil, "\(disposition)")
                let blocks = try answer.carBlocks()
                if test.ordered {
                    #expect(blocks == expected, "\(url)")
                } else {
                    #expect(blocks.count == expected.count && Set(blocks) == Set(expected), "\(url)")
                }
            }
        }
    }

    /// "GET default CAR response for non-existing file": this gateway resolves the path before
    /// answering, so it takes the suite's 404 branch (both variants).
    @Test func carForANonExistingFile() async throws {
        try await withGateway { gateway, _ in
            let path = "/ipfs/\(Self.twoFiles)/subdir/i-do-not-exist"
            let byFormat = try await gatewayGet(gateway, path + "?format=car")
            #expect(byFormat.status == 404)
            let byAccept = try await gatewayGet(gateway, path, headers: [("Accept", "application/vnd.ipld.car")])
            #expect(byAccept.status == 404)
        }
    }

    // MARK: TestTrustlessCarOrderAndDuplicates

    static let duplicateFilesAll = [duplicates, ascii, ascii, hello, multiblock] + chunks

    @Test func orderDFSWithDuplicates() async throws {
        try await withGateway { gateway, _ in
            for (path, accept) in [
                ("/ipfs/\(Self.duplicates)", "application/vnd.ipld.car; version=1; order=dfs; dups=y"),
                // "specific Accept header is prioritized": its parameters apply with format=car
                ("/ipfs/\(Self.duplicates)?format=car", "application/vnd.ipld.car; version=1; order=dfs; dups=y"),
            ] {
                let answer = try await gatewayGet(gateway, path, headers: [("Accept", accept)])
                #expect(answer.status == 200)
                let type = answer.header("Content-Type") ?? ""
                #expect(type.contains("application/vnd.ipld.car") && type.contains("order=dfs") && type.contains("dups=y"))
                #expect(try answer.carBlocks() == Self.duplicateFilesAll.map(GatewayFixtures.cid))
            }
        }
    }

    @Test func orderDFSWithoutDuplicates() async throws {
        try await withGateway { gateway, _ in
            let answer = try await gatewayGet(gateway, "/ipfs/\(Self.duplicates)",
                                              headers: [("Accept", "application/vnd.ipld.car; version=1; order=dfs; dups=n")])
            #expect(answer.status == 200)
            let type = answer.header("Content-Type") ?? ""
            #expect(type.contains("order=dfs") && type.contains("dups=n"))
            let expected = [Self.duplicates, Self.ascii, Self.hello, Self.multiblock] + Self.chunks
            #expect(try answer.carBlocks() == expected.map(GatewayFixtures.cid))
        }
    }

    @Test func orderUnknownSmokeTest() async throws {
        try await withGateway { gateway, _ in
            let answer = try await gatewayGet(gateway, "/ipfs/\(Self.duplicates)",
                                              headers: [("Accept", "application/vnd.ipld.car; version=1; order=unk")])
            #expect(answer.status == 200)
            #expect(answer.header("Content-Type")?.contains("order=") == true)
            #expect(Set(try answer.carBlocks()) == Set(Self.duplicateFilesAll.map(GatewayFixtures.cid)))
            // The stream is depth-first, and the answer says so: the trustless gateway spec has
            // a gateway return an explicit `order` with every parameter it knows (spec/gateway.md §3.3).
            #expect(answer.header("Content-Type")?.contains("order=dfs") == true)
            let depthFirst = [Self.duplicates, Self.ascii, Self.hello, Self.multiblock] + Self.chunks
            #expect(try answer.carBlocks() == depthFirst.map(GatewayFixtures.cid))
        }
    }

    @Test func identityCIDIsNeverABlock() async throws {
        try await withGateway { gateway, _ in
            let answer = try await gatewayGet(gateway, "/ipfs/bafkqaf3imvwgy3zaneqgc3janfxgy2lomvscay3jmqfa",
                                              headers: [("Accept", "application/vnd.ipld.car; dups=y")])
            #expect(answer.status == 200)
            #expect(answer.header("Content-Type")?.contains("dups=y") == true)
            #expect(try answer.carBlocks() == [])
        }
    }

    // MARK: TestTrustlessRaw, TestTrustlessRawRanges (gateway-raw-block.car: root → dir → ascii.txt)

    static let rawDir = "bafybeifaqksygmsbnqe76kwvxoqxtkzcwssq5jkhuo65ldtqiunr3bxlra"
    static let rawASCII = "bafkreihhpc5y2pqvl5rbe5uuyhqjouybfs3rvlmisccgzue2kkt5zq6upq"

    static func rawData(_ cid: String) throws -> [UInt8] {
        try GatewayFixtures.blocks("gateway-raw-block.car").first { $0.cid == GatewayFixtures.cid(cid) }!.bytes
    }

    @Test func rawBlockByFormatAndByAccept() async throws {
        let data = try Self.rawData(Self.rawDir)
        try await withGateway { gateway, _ in
            #expect(try await gatewayGet(gateway, "/ipfs/\(Self.rawDir)?format=raw").body == data)
            let answer = try await gatewayGet(gateway, "/ipfs/\(Self.rawDir)", headers: [("Accept", "application/vnd.ipld.raw")])
            #expect(answer.status == 200)
            #expect(answer.body == data)
        }
    }

    @Test func rawBlockHeaders() async throws {
        let data = try Self.rawData(Self.rawASCII)
        try await withGateway { gateway, _ in
            let answer = try await gatewayGet(gateway, "/ipfs/\(Self.rawASCII)", headers: [("Accept", "application/vnd.ipld.raw")])
            #expect(answer.status == 200)
            #expect(answer.header("Content-Type") == "application/vnd.ipld.raw")
            #expect(answer.header("Content-Length") == String(data.count))
            #expect(answer.header("Content-Disposition")?.contains("attachment;") == true)
            #expect(answer.header("X-Content-Type-Options") == "nosniff")
            #expect(answer.body == data)
            // caching headers
            #expect(answer.header("Etag")?.isEmpty == false)
            #expect(answer.header("X-Ipfs-Path") == "/ipfs/\(Self.rawASCII)")
            #expect(answer.header("X-Ipfs-Roots")?.contains(Self.rawASCII) == true)
            let directives = Set((answer.header("Cache-Control") ?? "").replacingOccurrences(of: " ", with: "").split(separator: ","))
            #expect(directives.contains("public") && directives.contains("immutable"))
            let maxAge = directives.first { $0.hasPrefix("max-age=") }.flatMap { Int($0.dropFirst(8)) } ?? 0
            #expect(maxAge >= 29_030_400)
            // custom filename
            let named = try await gatewayGet(gateway, "/ipfs/\(Self.rawASCII)?filename=foobar.bin", headers: [("Accept", "application/vnd.ipld.raw")])
            #expect(named.header("Content-Disposition")?.contains("attachment;") == true)
            #expect(named.header("Content-Disposition")?.contains("filename=\"foobar.bin") == true)
        }
    }

    @Test func rawSingleAndMultipleRanges() async throws {
        let data = try Self.rawData(Self.rawASCII)
        try await withGateway { gateway, _ in
            let single = try await gatewayGet(gateway, "/ipfs/\(Self.rawASCII)",
                                              headers: [("Accept", "application/vnd.ipld.raw"), ("Range", "bytes=6-16")])
            #expect(single.status == 206)
            #expect(single.header("Content-Type")?.contains("application/vnd.ipld.raw") == true)
            #expect(single.header("Content-Range") == "bytes 6-16/31")
            #expect(single.body == Array(data[6..<17]))
            // multi-range: answered as multipart/byteranges, the suite's third branch
            let multi = try await gatewayGet(gateway, "/ipfs/\(Self.rawASCII)",
                                             headers: [("Accept", "application/vnd.ipld.raw"), ("Range", "bytes=6-16,0-4")])
            #expect(multi.status == 206)
            #expect(multi.header("Content-Type")?.contains("multipart/byteranges") == true)
            let text = String(decoding: multi.body, as: UTF8.self)
            #expect(text.contains("Content-Range: bytes 6-16/31"))
            #expect(text.contains("Content-Type: application/vnd.ipld.raw"))
            #expect(text.contains(String(decoding: data[6..<17], as: UTF8.self)))
            #expect(text.contains("Content-Range: bytes 0-4/31"))
            #expect(text.contains(String(decoding: data[0..<5], as: UTF8.self)))
            // Ranges adding up to more than the block: ignored, the whole block with 200 (Go's
            // http.ServeContent), never a reply many times the block's size.
            let many = Array(repeating: "0-30", count: 200).joined(separator: ",")
            let ignored = try await gatewayGet(gateway, "/ipfs/\(Self.rawASCII)",
                                               headers: [("Accept", "application/vnd.ipld.raw"), ("Range", "bytes=" + many)])
            #expect(ignored.status == 200)
            #expect(ignored.header("Content-Range") == nil)
            #expect(ignored.body == data)
            let overlapping = try await gatewayGet(gateway, "/ipfs/\(Self.rawASCII)",
                                                   headers: [("Accept", "application/vnd.ipld.raw"), ("Range", "bytes=0-20,10-30")])
            #expect(overlapping.status == 200 && overlapping.body == data)
        }
    }
}
