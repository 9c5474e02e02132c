import AsyncHTTPClient
@testable import BlockStore
import Blocks
import Engine
import Foundation
import Multiformats
import NIOCore
import NIOHTTP1
import Testing
import UnixFS
import CairnTestSupport
import Chunking

/// The gateway's own rules beyond the conformance cases (spec/gateway.md; trustless gateway
/// spec as summarised in shared/reference/ecosystem.md §3).
@Suite struct GatewayTests {
    @Test func probeAndIdentityRawBlocks() async throws {
        try await withGateway(cars: []) { gateway, _ in
            // The probe path MUST answer 200 with an empty body (ecosystem.md §3).
            let probe = try await gatewayGet(gateway, "/ipfs/bafkqaaa?format=raw")
            #expect(probe.status == 200)
            #expect(probe.body.isEmpty)
            // An identity CID's block is its digest: the conformance suite's inlined CID.
            let inline = try await gatewayGet(gateway, "/ipfs/bafkqaf3imvwgy3zaneqgc3janfxgy2lomvscay3jmqfa?format=raw")
            #expect(inline.status == 200)
            #expect(inline.body == Array("hello i am inlined cid\n".utf8))
        }
    }

    @Test func absentRootIs404Or412WithOnlyIfCached() async throws {
        try await withGateway(cars: []) { gateway, _ in
            let cid = GatewayConformanceTests.hello
            #expect(try await gatewayGet(gateway, "/ipfs/\(cid)?format=raw").status == 404)
            #expect(try await gatewayGet(gateway, "/ipfs/\(cid)?format=car", method: .HEAD).status == 404)
            let cached = try await gatewayGet(gateway, "/ipfs/\(cid)", headers: [
                ("Accept", "application/vnd.ipld.raw"), ("Cache-Control", "only-if-cached")])
            #expect(cached.status == 412)
        }
    }

    @Test func badRequests() async throws {
        try await withGateway(cars: ["gateway-raw-block.car"]) { gateway, _ in
            let cid = GatewayConformanceTests.rawASCII
            // Without a verifiable type only a UnixFS file is answered (its bytes); a directory is 400.
            let plain = try await gatewayGet(gateway, "/ipfs/\(GatewayConformanceTests.rawDir)")
            #expect(plain.status == 400)
            #expect(String(decoding: plain.body, as: UTF8.self).contains("trustless"))
            let file = try await gatewayGet(gateway, "/ipfs/\(GatewayConformanceTests.rawDir)/ascii.txt")
            #expect(file.status == 200)
            #expect(file.body == (try GatewayConformanceTests.rawData(cid)))
            #expect(try await gatewayGet(gateway, "/ipfs/not-a-cid?format=raw").status == 400)
            #expect(try await gatewayGet(gateway, "/ipfs/\(cid)?format=tar").status == 400)
            #expect(try await gatewayGet(gateway, "/ipfs/\(cid)?format=car&dag-scope=most").status == 400)
            #expect(try await gatewayGet(gateway, "/ipfs/\(cid)?format=car&entity-bytes=9:2").status == 400)
            #expect(try await gatewayGet(gateway, "/ipfs/\(cid)", headers: [("Accept", "application/vnd.ipld.car; version=2")]).status == 400)
            // Raw blocks are asked for by CID alone.
            #expect(try await gatewayGet(gateway, "/ipfs/\(GatewayConformanceTests.rawDir)/ascii.txt?format=raw").status == 400)
            #expect(try await gatewayGet(gateway, "/ipfs/\(cid)?format=raw", method: .POST).status == 405)
            #expect(try await gatewayGet(gateway, "/nowhere").status == 404)
            let unsatisfiable = try await gatewayGet(gateway, "/ipfs/\(cid)?format=raw", headers: [("Range", "bytes=100-200")])
            #expect(unsatisfiable.status == 416)
            #expect(unsatisfiable.header("Content-Range") == "bytes */31")
            #expect(unsatisfiable.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(String(decoding: unsatisfiable.body, as: UTF8.self) == "invalid range: failed to overlap\n")
            #expect(unsatisfiable.header("Etag") == nil)
        }
    }

    @Test func headAnswersHeadersWithoutBody() async throws {
        try await withGateway(cars: ["gateway-raw-block.car"]) { gateway, _ in
            let cid = GatewayConformanceTests.rawASCII
            let raw = try await gatewayGet(gateway, "/ipfs/\(cid)?format=raw", method: .HEAD)
            #expect(raw.status == 200)
            #expect(raw.header("Content-Length") == "31")
            #expect(raw.body.isEmpty)
            let car = try await gatewayGet(gateway, "/ipfs/\(GatewayConformanceTests.rawDir)?format=car", method: .HEAD)
            #expect(car.status == 200)
            #expect(car.header("Content-Type") == "application/vnd.ipld.car; version=1; order=dfs; dups=n")
            #expect(car.body.isEmpty)
            // A CAR's length is not known before it is made: no Content-Length (not 0).
            #expect(car.header("Content-Length") == nil)
        }
    }

    /// boxo's gateway (gateway/handler.go): OPTIONS, a browser's preflight, is 200 with the
    /// methods allowed; another method is 405 with them and "not allowed: read only access".
    @Test func optionsAndOtherMethods() async throws {
        try await withGateway(cars: ["gateway-raw-block.car"]) { gateway, _ in
            let cid = GatewayConformanceTests.rawASCII
            let options = try await gatewayGet(gateway, "/ipfs/\(cid)", method: .OPTIONS)
            #expect(options.status == 200)
            #expect(options.header("Allow") == "GET, HEAD, OPTIONS")
            #expect(options.body.isEmpty)
            let delete = try await gatewayGet(gateway, "/ipfs/\(cid)", method: .DELETE)
            #expect(delete.status == 405)
            #expect(delete.header("Allow") == "GET, HEAD, OPTIONS")
            #expect(String(decoding: delete.body, as: UTF8.self) == "Method DELETE not allowed: read only access\n")
        }
    }

    @Test func carHeadersNameThePathAndItsRoots() async throws {
        try await withGateway { gateway, _ in
            let t = GatewayConformanceTests.self
            let answer = try await gatewayGet(gateway, "/ipfs/\(t.twoFiles)/subdir/ascii.txt?format=car")
            #expect(answer.status == 200)
            #expect(answer.header("X-Ipfs-Path") == "/ipfs/\(t.twoFiles)/subdir/ascii.txt")
            #expect(answer.header("X-Ipfs-Roots") == [t.twoFiles, t.twoFilesSubdir, t.ascii].joined(separator: ","))
            #expect(answer.header("Cache-Control") == "public, max-age=29030400, immutable")
            #expect(answer.header("Vary") == "Accept")
            #expect(answer.header("Etag")?.isEmpty == false)
            // format= decides the type over a different Accept type
            let overridden = try await gatewayGet(gateway, "/ipfs/\(t.ascii)?format=raw", headers: [("Accept", "application/vnd.ipld.car")])
            #expect(overridden.header("Content-Type") == "application/vnd.ipld.raw")
            // car-dups in the query wins over the Accept parameter
            let dups = try await gatewayGet(gateway, "/ipfs/\(t.duplicates)?format=car&car-dups=n",
                                            headers: [("Accept", "application/vnd.ipld.car; dups=y")])
            #expect(dups.header("Content-Type")?.contains("dups=n") == true)
        }
    }

    /// `car import --pin=false` semantics: every block of every fixture is stored, blocks no
    /// root reaches and the incomplete DAG included.
    @Test func everyFixtureBlockIsStored() async throws {
        try await withGateway { _, store in
            for car in GatewayFixtures.cars {
                for block in try GatewayFixtures.blocks(car) { #expect(try store.has(block.cid), "\(car): \(block.cid)") }
            }
            #expect(try !store.has(GatewayFixtures.cid("QmSNLTo6Wv9dfroVaw7MFYjLqf9ho7PKrgsjdzYDtv8h1W")))  // the missing one
        }
    }

    /// A raw block answered from the cache of verified blocks (spec/gateway.md §5.1) is answered
    /// 404 as soon as the store no longer has it, even when another writer removed it.
    @Test func removedBlocksLeaveTheVerifiedCache() async throws {
        try await withGateway(cars: ["gateway-raw-block.car"]) { gateway, store in
            let cid = GatewayConformanceTests.rawASCII
            let expected = try GatewayConformanceTests.rawData(cid)
            for _ in 0..<2 {
                let answer = try await gatewayGet(gateway, "/ipfs/\(cid)?format=raw")
                #expect(answer.status == 200)
                #expect(answer.body == expected)
            }
            // Not through the server: only the index files tell the gateway that it changed.
            try store.write { writer in _ = try writer.delete(GatewayFixtures.cid(cid), force: true) }
            #expect(try await gatewayGet(gateway, "/ipfs/\(cid)?format=raw").status == 404)
        }
    }

    /// The gateway answers a head over the limit as the RPC does (and Go's server): 431.
    @Test func oversizedHeadIs431() async throws {
        try await withGateway(cars: []) { gateway, _ in
            let port = try #require(Int(gateway.split(separator: ":").last ?? ""))
            let answer = try rawExchange(port: port, send: oversizedHead("GET /ipfs/bafkqaaa?format=raw"))
            #expect(answer.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "\(answer.prefix(200))")
            #expect(answer.hasSuffix("431 Request Header Fields Too Large"), "\(answer.suffix(200))")
            #expect(try await gatewayGet(gateway, "/ipfs/bafkqaaa?format=raw").status == 200)
        }
    }

    /// An escaped slash in a path is a separator, as boxo reads its decoded `URL.Path`:
    /// `/ipfs/ROOT/a%2Fx` is `/ipfs/ROOT/a/x` (a hostile pass found the RPC and the gateway
    /// reading it differently); `%2E%2E` is still `..`, refused.
    @Test func escapedSlashesSeparateSegments() async throws {
        try await withGateway(cars: []) { gateway, store in
            func block(_ codec: Multicodec, _ bytes: [UInt8]) throws -> Block { try testBlock(codec, bytes, v0: codec == .dagPB) }
            func directory(_ name: String, _ child: CID) throws -> Block {
                try block(.dagPB, PBNode(links: [PBLink(hash: child, name: Array(name.utf8), tsize: 1)],
                                         data: UnixFSData.directory(mode: nil, mtime: nil).bytes).bytes)
            }
            let leaf = try block(.raw, Array("x".utf8))
            let inner = try directory("x", leaf.cid)
            let outer = try directory("a", inner.cid)
            _ = try store.putMany([leaf, inner, outer])
            for path in ["a/x", "a%2Fx", "a%2fx"] {
                let answer = try await gatewayGet(gateway, "/ipfs/\(outer.cid)/\(path)?format=car&dag-scope=block")
                #expect(answer.status == 200, "\(path)")
                #expect(try answer.carBlocks() == [outer.cid, inner.cid, leaf.cid], "\(path)")
            }
            #expect(try await gatewayGet(gateway, "/ipfs/\(outer.cid)/a%2F%2E%2E?format=car").status == 400)
        }
    }

    /// A HAMT whose sub-shard has a fanout other than the root's is refused as
    /// `UnixFSReader.entry(named:in:)` refuses it (the same words), not looked up with bits of
    /// the name's key that no builder would have used.
    @Test func hamtSubShardsKeepTheRootsFanout() async throws {
        try await withGateway(cars: []) { gateway, store in
            func block(_ codec: Multicodec, _ bytes: [UInt8]) throws -> Block { try testBlock(codec, bytes, v0: codec == .dagPB) }
            func shard(fanout: UInt64, _ link: (name: [UInt8], cid: CID)) throws -> Block {
                try block(.dagPB, PBNode(links: [PBLink(hash: link.cid, name: link.name, tsize: 0)],
                                         data: UnixFSData.hamtShard(bitfield: [1], fanout: fanout).bytes).bytes)
            }
            let name = Array("x".utf8)
            let file = try block(.raw, name)
            let inner = HAMTBucket.prefix(try #require(HAMTBucket.index(of: name, depth: 1, fanout: 256)), fanout: 256)
            let sub = try shard(fanout: 256, (inner + name, file.cid))
            let outer = HAMTBucket.prefix(try #require(HAMTBucket.index(of: name, depth: 0, fanout: 16)), fanout: 16)
            let root = try shard(fanout: 16, (outer, sub.cid))
            _ = try store.putMany([file, sub, root])
            let answer = try await gatewayGet(gateway, "/ipfs/\(root.cid)/x?format=car")
            #expect(answer.status == 502)
            let text = String(decoding: answer.body, as: UTF8.self)
            #expect(text.contains("HAMT \(root.cid) has shard \(sub.cid) with fanout 256, not the root's 16"), "\(text)")
            // A shard hashed with another function, at the root or below, and a root fanout that
            // is not a power of two: 502s in the CLI reader's words (one shared check).
            func hamt(fanout: UInt64, hashType: UInt64, _ link: (name: [UInt8], cid: CID)) throws -> Block {
                try block(.dagPB, PBNode(links: [PBLink(hash: link.cid, name: link.name, tsize: 0)],
                                         data: UnixFSData.hamtShard(bitfield: [1], fanout: fanout, hashType: hashType).bytes).bytes)
            }
            let otherRoot = try hamt(fanout: 16, hashType: 0x11, (outer, sub.cid))
            let otherSub = try hamt(fanout: 16, hashType: 0x11, (HAMTBucket.prefix(try #require(HAMTBucket.index(of: name, depth: 1, fanout: 16)), fanout: 16) + name, file.cid))
            let overOtherSub = try shard(fanout: 16, (outer, otherSub.cid))
            let oddRoot = try shard(fanout: 12, (outer, sub.cid))
            _ = try store.putMany([otherRoot, otherSub, overOtherSub, oddRoot])
            for (cid, expected) in [
                (otherRoot.cid, "HAMT shard \(otherRoot.cid) uses hash function 0x11; only murmur3-x64-64 (0x22) is supported"),
                (overOtherSub.cid, "HAMT shard \(otherSub.cid) uses hash function 0x11; only murmur3-x64-64 (0x22) is supported"),
                (oddRoot.cid, "HAMT shard \(oddRoot.cid) has an invalid fanout 12"),
            ] {
                let refused = try await gatewayGet(gateway, "/ipfs/\(cid)/x?format=car")
                #expect(refused.status == 502)
                let said = String(decoding: refused.body, as: UTF8.self)
                #expect(said.contains(expected), "\(said)")
            }
        }
    }

    /// UnixFS file nodes whose declared sizes run past `Int64.max` (a `filesize` of 2^63, block
    /// sizes that add up past 2^64, block sizes that overflow the children's offsets) are
    /// malformed: 502 before any byte, or a stream cut short, never a trap that kills the
    /// server (a hostile pass found four such traps).
    @Test func absurdFileSizesAreMalformedNodes() async throws {
        try await withGateway(cars: []) { gateway, store in
            func block(_ codec: Multicodec, _ bytes: [UInt8]) throws -> Block { try testBlock(codec, bytes) }
            let leaf = try block(.raw, Array("HELLO".utf8))
            func file(_ data: UnixFSData, links: Int) throws -> Block {
                let node = PBNode(links: (0..<links).map { _ in PBLink(hash: leaf.cid, name: "", tsize: 5) }, data: data.bytes)
                return try block(.dagPB, node.bytes)
            }
            let huge = try file(UnixFSData(type: .file, data: Array("abc".utf8), fileSize: 1 << 63), links: 0)
            let summed = try file(UnixFSData(type: .file, blockSizes: [1 << 63, 1 << 63]), links: 2)
            let offsets = try file(UnixFSData(type: .file, fileSize: 10, blockSizes: [.max, .max]), links: 2)
            _ = try store.putMany([leaf, huge, summed, offsets])
            let message = { (cid: CID) in "malformed UnixFS file \(cid): its declared size is larger than any file can be" }
            for (cid, query, method) in [(huge.cid, "", HTTPMethod.GET), (summed.cid, "", .GET), (summed.cid, "", .HEAD)] {
                let answer = try await gatewayGet(gateway, "/ipfs/\(cid)\(query)", method: method)
                #expect(answer.status == 502, "\(cid)\(query) \(method)")
                if method == .GET { #expect(String(decoding: answer.body, as: UTF8.self).contains(message(cid))) }
            }
            // A CAR streams the file's root before its children are walked: the stream is cut.
            for (cid, query) in [(huge.cid, "?format=car&dag-scope=entity"), (summed.cid, "?format=car&entity-bytes=-5:*"),
                                 (offsets.cid, "?format=car&entity-bytes=0:1"), (offsets.cid, "?format=car&dag-scope=entity")] {
                var request = HTTPClientRequest(url: "http://\(gateway)/ipfs/\(cid)\(query)")
                request.method = .GET
                await #expect(throws: (any Error).self) {
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30 * Sanitizer.deadlineScale))
                    guard response.status == .ok else { throw GatewayError502(status: response.status.code) }
                    _ = try await response.body.collect(upTo: 1 << 20)
                }
            }
            // Still serving.
            #expect(try await gatewayGet(gateway, "/ipfs/\(leaf.cid)?format=raw").body == Array("HELLO".utf8))
        }
    }

    /// Streams whose clients closed their connections stop before their next batch, even those
    /// still waiting for their turn: sixteen closed requests for an endless CAR (a 41-block
    /// dag-cbor "diamond", each node linking to the next twice, with duplicates: 2^40 blocks)
    /// leave the gateway free to answer a live request whole (a hostile pass found such streams
    /// reading and hashing a batch each, in turns, for a minute, while live answers waited).
    @Test func closedConnectionsStopTheirStreams() async throws {
        try await withGateway(cars: []) { gateway, store in
            func block(_ codec: Multicodec, _ bytes: [UInt8]) throws -> Block { try testBlock(codec, bytes) }
            var blocks = [try block(.raw, Array("x".utf8))]
            for _ in 0..<40 {
                // {"a": link, "b": link} in dag-cbor: a map of two, each value tag 42 of 0x00 + the CID.
                let link: [UInt8] = [0xd8, 0x2a, 0x58, UInt8(blocks.last!.cid.bytes.count + 1), 0x00] + blocks.last!.cid.bytes
                blocks.append(try block(.dagCBOR, [0xa2, 0x61, 0x61] + link + [0x61, 0x62] + link))
            }
            _ = try store.putMany(blocks)
            let root = blocks.last!.cid
            let port = try #require(Int(gateway.split(separator: ":").last ?? ""))
            for _ in 0..<16 {
                let fd = try loopbackConnection(port: port)
                let request = "GET /ipfs/\(root)?format=car&car-dups=y HTTP/1.1\r\nHost: \(gateway)\r\n\r\n"
                _ = request.withCString { send(fd, $0, strlen($0), 0) }
                var buffer = [UInt8](repeating: 0, count: 1024)
                _ = recv(fd, &buffer, buffer.count, 0)
                close(fd)
            }
            let live = try await gatewayGet(gateway, "/ipfs/\(root)?format=car&car-dups=n")
            #expect(live.status == 200)
            #expect(try live.carBlocks() == [root] + blocks.dropLast().reversed().map(\.cid))
        }
    }

    /// A block whose stored bytes no longer match its CID is never sent: the raw answer is an
    /// error, the CAR stream is cut short before it, and the server goes on serving.
    @Test func corruptBlocksAreNeverServed() async throws {
        try await withGateway(cars: ["dir-with-duplicate-files.car"]) { gateway, store in
            let t = GatewayConformanceTests.self
            let victim = GatewayFixtures.cid(t.chunks[2])
            let location = try #require(try store.location(of: victim))
            let pack = try FileHandle(forWritingTo: URL(fileURLWithPath: store.layout.packPath(location.pack)))
            try pack.seek(toOffset: UInt64(location.offset))
            try pack.write(contentsOf: Data([UInt8](repeating: 0x5a, count: 8)))
            try pack.close()

            let raw = try await gatewayGet(gateway, "/ipfs/\(t.chunks[2])?format=raw")
            #expect(raw.status >= 500)
            #expect(!raw.body.starts(with: [UInt8](repeating: 0x5a, count: 8)))
            var request = HTTPClientRequest(url: "http://\(gateway)/ipfs/\(t.duplicates)?format=car")
            request.method = .GET
            await #expect(throws: (any Error).self) {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30 * Sanitizer.deadlineScale))
                let body = try await response.body.collect(upTo: 1 << 20)
                Issue.record("the CAR stream ended normally (\(body.readableBytes) bytes) despite a corrupt block")
            }
            #expect(try await gatewayGet(gateway, "/ipfs/\(t.hello)?format=raw").status == 200)
        }
    }

    /// A CAR of several batches with a bad block far in: what is sent before the stream is cut
    /// is a prefix of the good CAR that ends before that block (spec/gateway.md §3.4: the
    /// batches before it were verified and sent while the next ones were read and checked).
    @Test func corruptBlockFarIntoALongCARIsNeverSent() async throws {
        try await withGateway(cars: []) { gateway, store in
            let work = try makeTemporaryDirectory("gateway-long-car")
            defer { try? FileManager.default.removeItem(at: work) }
            let file = work.appendingPathComponent("file")
            let bytes = SplitMix64.bytes(seed: 91, count: 20 << 20)  // 80 leaves of 256 KiB, 5 batches
            try Data(bytes).write(to: file)
            let adder = Adder(parameters: ImportParameters(chunker: .fixed(size: 262_144), cidVersion: .v1, rawLeaves: true),
                              threads: 2, walk: WalkSettings(recursive: false))
            let root = try adder.add([.path(file.path)], to: .store(store, pin: true)) { _ in }
            let good = try await gatewayGet(gateway, "/ipfs/\(root)?format=car")
            #expect(good.status == 200)
            // Leaf 60 (bytes 15 MiB on): where its bytes lie in the good CAR and in its pack.
            let leaf = Data(bytes[(60 << 18)..<(61 << 18)])
            let inCAR = try #require(Data(good.body).range(of: leaf.prefix(64))).lowerBound
            let packs = try FileManager.default.contentsOfDirectory(atPath: store.layout.root + "/packs").filter { $0.hasSuffix(".pack") }
            var damaged = false
            for name in packs {
                let path = store.layout.root + "/packs/" + name
                guard let at = try Data(contentsOf: URL(fileURLWithPath: path)).range(of: leaf.prefix(64))?.lowerBound else { continue }
                let pack = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try pack.seek(toOffset: UInt64(at + 100_000))
                try pack.write(contentsOf: Data(repeating: 0x5a, count: 8))
                try pack.close()
                damaged = true
            }
            #expect(damaged)
            var request = HTTPClientRequest(url: "http://\(gateway)/ipfs/\(root)?format=car")
            request.method = .GET
            var received: [UInt8] = []
            var cut = false
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30 * Sanitizer.deadlineScale))
                for try await chunk in response.body { received += chunk.readableBytesView }
            } catch {
                cut = true
            }
            #expect(cut, "the CAR stream ended normally (\(received.count) bytes) despite a corrupt block")
            #expect(received.count < inCAR, "bytes of the corrupt block were sent")
            #expect(received == Array(good.body.prefix(received.count)), "what was sent is not a prefix of the good CAR")
        }
    }
}

/// An answer that was not 200 where a cut stream or an error status was expected.
struct GatewayError502: Error { var status: UInt }
