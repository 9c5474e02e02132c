import Blocks
import Multiformats
import UnixFS

/// A content path resolved to its terminal CID (spec/gateway.md §3.1): `blocks` are the CIDs
/// read on the way, in order (the root first, HAMT shards on the route included), which a CAR
/// response sends before the terminal entity.
struct ResolvedPath: Sendable {
    var blocks: [CID]
    var terminal: CID
}

extension GatewayStore {
    /// Resolves `segments` below `root`: UnixFS directories by link name, HAMT shards by the
    /// name's bucket (only the shards on its route are read), dag-cbor by keys until a link.
    /// A missing segment or block is 404.
    func resolve(_ root: CID, _ segments: [String]) throws -> ResolvedPath {
        var current = root
        var blocks: [CID] = []
        var rest = segments[...]
        while let segment = rest.first {
            guard let bytes = try block(current) else {
                throw GatewayError(404, "block \(current) not found")
            }
            blocks.append(current)
            switch current.codec {
            case .dagPB:
                let (node, data) = try unixFS(current, bytes)
                switch data.type {
                case .directory:
                    guard let link = node.links.first(where: { $0.name == Array(segment.utf8) }) else {
                        throw GatewayError(404, "no link named \"\(segment)\" under \(current)")
                    }
                    current = link.hash
                case .hamtShard:
                    current = try hamtLookup(current, node, data, name: Array(segment.utf8), route: &blocks)
                default:
                    throw GatewayError(404, "\(current) is not a directory: cannot resolve \"\(segment)\"")
                }
                rest = rest.dropFirst()
            case .dagCBOR:
                let outcome: CBORPath.Outcome
                do throws(DagCBORError) { outcome = try CBORPath.resolve(bytes, rest) } catch { throw GatewayError(502, "block \(current) is not valid dag-cbor: \(error.detail)") }
                switch outcome {
                case let .link(cid, consumed):
                    current = cid
                    rest = rest.dropFirst(consumed)
                case .inside:
                    blocks.removeLast()
                    return ResolvedPath(blocks: blocks, terminal: current)
                case .notFound:
                    throw GatewayError(404, "no field \"\(rest.joined(separator: "/"))\" in \(current)")
                }
            default:
                throw GatewayError(404, "cannot resolve \"\(segment)\" inside \(current) (codec \(current.codec))")
            }
        }
        return ResolvedPath(blocks: blocks, terminal: current)
    }

    /// Finds `name` in the HAMT whose root shard is `shard`, appending the sub-shards read on
    /// the way to `route`.
    private func hamtLookup(_ shard: CID, _ root: PBNode, _ rootData: UnixFSData, name: [UInt8], route: inout [CID]) throws -> CID {
        var node = root
        var data = rootData
        var depth = 0
        // Every shard is checked as the CLI's reader checks it (`HAMTBucket.fanout`): the root's
        // fanout and hash function all the way down.
        let fanout: Int
        do { fanout = try HAMTBucket.fanout(of: data, shard: shard, root: shard) } catch { throw GatewayError(502, error.message) }
        var current = shard
        while true {
            guard let step = HAMTBucket.step(to: name, depth: depth, fanout: fanout, in: node.links) else {
                throw GatewayError(502, "HAMT \(shard) is sharded too deep: shard \(current) is past the 64 bits of a name's key")
            }
            let absent = GatewayError(404, "no entry named \"\(String(decoding: name, as: UTF8.self))\" in HAMT \(shard)")
            switch step {
            case .entry(let found): return found
            case .absent: throw absent
            case .subShard(let sub):
                guard let bytes = try block(sub) else { throw absent }
                route.append(sub)
                current = sub
                (node, data) = try unixFS(sub, bytes)
                guard data.type == .hamtShard else { throw GatewayError(502, "HAMT \(shard) links to \(sub), which is not a shard") }
                do { _ = try HAMTBucket.fanout(of: data, shard: sub, root: shard, rootFanout: fanout) } catch {
                    throw GatewayError(502, error.message)
                }
                depth += 1
            }
        }
    }

    /// Decodes a dag-pb block with its UnixFS data (502 when it is not UnixFS).
    func unixFS(_ cid: CID, _ bytes: [UInt8]) throws -> (PBNode, UnixFSData) {
        guard let node = try? PBNode(decoding: bytes, requireSortedLinks: false),
              let message = node.data, let data = try? UnixFSData(decoding: message) else {
            throw GatewayError(502, "\(cid) is not a UnixFS node")
        }
        return (node, data)
    }
}
