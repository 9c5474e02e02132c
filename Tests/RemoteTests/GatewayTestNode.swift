import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import Blocks
import CAR
import Multiformats

/// A trustless gateway in miniature (ipfs/specs src/http-gateways/trustless-gateway.md): CAR
/// answers whose `Content-Type` declares `order` and `dups`, and misbehaviours on demand.
final class GatewayTestNode: @unchecked Sendable {
    enum Fault: Sendable { case none, corruptBlock, extraBlock, duplicateBlock, shuffled, missingBlock, breadthFirst, leavesFirst, strayFlood }

    let blocks: [CID: [UInt8]]

    /// Settings and counters, read and written by the test and by concurrent requests.
    private struct State {
        var fault = Fault.none
        var carParameters = "; version=1; order=dfs; dups=n"
        var hang = false
        var rawOnly = false
        var rawRequests = 0
        var requests = 0
    }
    /// Under `lock`, an NSLock (pthread mutex), which ThreadSanitizer sees: Synchronization's
    /// `Mutex` locks through atomics in the uninstrumented standard library, and TSan reported
    /// the counters' increments under it as races.
    private let lock = NSLock()
    private var unlockedState = State()

    private func withState<T>(_ body: (inout State) -> T) -> T { lock.withLock { body(&unlockedState) } }
    private func read<T: Sendable>(_ key: KeyPath<State, T>) -> T { withState { $0[keyPath: key] } }
    private func write<T: Sendable>(_ key: WritableKeyPath<State, T>, _ value: T) { withState { $0[keyPath: key] = value } }

    var fault: Fault { get { read(\.fault) } set { write(\.fault, newValue) } }
    /// The `Content-Type` parameters sent with a CAR (after `application/vnd.ipld.car`).
    var carParameters: String { get { read(\.carParameters) } set { write(\.carParameters, newValue) } }
    /// Answer nothing while set.
    var hang: Bool { get { read(\.hang) } set { write(\.hang, newValue) } }
    /// Refuse CARs with 406 (a gateway serving raw blocks only).
    var rawOnly: Bool { get { read(\.rawOnly) } set { write(\.rawOnly, newValue) } }
    /// Raw block requests seen.
    var rawRequests: Int { read(\.rawRequests) }
    /// Requests seen.
    var requests: Int { read(\.requests) }

    init(blocks: [CID: [UInt8]]) { self.blocks = blocks }

    func serve(_ body: @Sendable (String) async throws -> Void) async throws {
        try await serveOnLoopback("gateway-test-node", respond: { try await self.answer($0) }) { port in
            try await body("gateway+http://127.0.0.1:\(port)")
        }
    }

    func answer(_ request: Request) async throws -> Response {
        withState { $0.requests += 1 }
        while hang { try await Task.sleep(for: .milliseconds(50)) }
        return try respond(request)
    }

    func respond(_ request: Request) throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/ipfs/"), let root = try? CID(String(path.dropFirst(6))) else {
            return Response(status: .badRequest)
        }
        if request.method == .head {
            return Response(status: blocks[root] == nil ? .notFound : .ok)
        }
        guard blocks[root] != nil else { return Response(status: .notFound) }
        if request.uri.queryParameters["format"] == "raw" { return try raw(root) }
        if rawOnly { return Response(status: .notAcceptable) }
        var order = try dfsOrder(root)
        var writer = try CARWriter(output: CARMemoryOutput(), roots: [root])
        switch fault {
        case .shuffled: order = [order[0]] + order.dropFirst().reversed()
        case .missingBlock: order.remove(at: order.count / 2)
        case .breadthFirst: order = try bfsOrder(root)
        case .leavesFirst: order.reverse()  // every block before the blocks that link to it, the root last
        case .strayFlood:
            // 40 valid blocks of no DAG first (each hashes to its CID), then the DAG.
            for n in 0..<40 {
                let stray = Array("stray block \(n)".utf8)
                var sha = TestSHA256()
                sha.update(stray)
                try writer.put(Block(cid: CID.v1(codec: .raw, multihash: try Multihash(code: .sha2_256, digest: sha.finalize())), bytes: stray))
            }
        default: break
        }
        for (index, cid) in order.enumerated() {
            var bytes = blocks[cid]!
            if fault == .corruptBlock, index == order.count / 2 { bytes[0] ^= 1 }
            try writer.put(Block(cid: cid, bytes: bytes))
            if fault == .duplicateBlock, index == 1 { try writer.put(Block(cid: cid, bytes: bytes)) }
        }
        if fault == .extraBlock {
            let stray: [UInt8] = Array("not in this DAG".utf8)
            var sha = TestSHA256()
            sha.update(stray)
            try writer.put(Block(cid: CID.v1(codec: .raw, multihash: try Multihash(code: .sha2_256, digest: sha.finalize())), bytes: stray))
        }
        try writer.finish()
        return Response(status: .ok, headers: [.contentType: "application/vnd.ipld.car" + carParameters],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: writer.output.bytes)))
    }
}

import CairnTestSupport

extension GatewayTestNode {
    /// The DAG under `root` in depth-first order, each block once.
    func dfsOrder(_ root: CID) throws -> [CID] {
        var order: [CID] = []
        var stack = [root], seen: Set<CID> = []
        while let cid = stack.popLast() {
            guard seen.insert(cid).inserted, let bytes = blocks[cid] else { continue }
            order.append(cid)
            stack.append(contentsOf: try links(of: cid, bytes).reversed())
        }
        return order
    }

    /// The same blocks level by level (every block of the DAG, each once, but not depth-first).
    func bfsOrder(_ root: CID) throws -> [CID] {
        var order: [CID] = [], queue = [root], seen: Set<CID> = [], next = 0
        while next < queue.count {
            let cid = queue[next]
            next += 1
            guard seen.insert(cid).inserted, let bytes = blocks[cid] else { continue }
            order.append(cid)
            queue.append(contentsOf: try links(of: cid, bytes))
        }
        return order
    }

    /// One raw block (`application/vnd.ipld.raw`); with `corruptBlock`, the block in the middle
    /// of a DAG's depth-first order comes back with one bit flipped; `missingBlock` answers 404 for it.
    func raw(_ cid: CID) throws -> Response {
        withState { $0.rawRequests += 1 }
        var bytes = blocks[cid]!
        let middle = try blocks.keys.compactMap { key -> CID? in
            let order = try dfsOrder(key)
            return order.count > 2 ? order[order.count / 2] : nil
        }
        if middle.contains(cid) {
            if fault == .corruptBlock { bytes[0] ^= 1 }
            if fault == .missingBlock { return Response(status: .notFound) }
        }
        return Response(status: .ok, headers: [.contentType: "application/vnd.ipld.raw"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
