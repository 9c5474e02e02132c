import AsyncHTTPClient
import Foundation
public import Multiformats

extension KuboBlockHolder {
    /// `refs/local` (ipfs/kubo core/commands/refs.go `RefsLocalCmd`: one `{"Ref","Err"}` line
    /// per key of the blockstore, streamed from `AllKeysChan`) read as an existence oracle
    /// (spec/remote.md §3.2): a listing that ends within `limit` lines names every block the
    /// node holds, so a CID is present exactly when its multihash is listed (Kubo's blockstore
    /// is keyed by multihash, and lists raw CIDv1s). Past `limit` lines the rest is left
    /// unread and nil returned: the node holds too much to list, `block/stat` answers.
    /// What is kept of `cids` is one sorted key and place each (16 bytes a block), whatever
    /// the node lists.
    public func listedPresence(of cids: CIDList, limit: Int) async throws -> [Bool]? {
        guard limit > 0, !cids.isEmpty else { return nil }
        let wanted = WantedMultihashes(cids)
        let outcome: KuboRPC.Outcome<[Bool]?>
        do {
            outcome = try await listing(wanted, limit: limit)
        } catch let error as RemoteError where error.code == .unsupported || error.code == .unauthorized {
            return nil  // no refs/local here, or not for these credentials: block/stat answers
        }
        guard case .value(let listed) = outcome, let present = listed else { return nil }
        return present
    }

    /// Whether each of `wanted` is listed, or nil past `limit` lines.
    private func listing(_ wanted: WantedMultihashes, limit: Int) async throws -> KuboRPC.Outcome<[Bool]?> {
        try await rpc.call("refs/local", idempotent: true) { response -> [Bool]? in
            var present = [Bool](repeating: false, count: wanted.cids.count), lines = 0
            let complete = try await readLines(response, "refs/local") { bytes in
                lines += 1
                guard lines <= limit else { return false }
                wanted.mark(try Self.listedRef(bytes).multihash, in: &present)
                return true
            }
            return complete ? present : nil
        }
    }

    /// The CID of one `refs/local` line; a line with an `Err` is an error (a listing that
    /// failed part way would make a held block look absent).
    static func listedRef(_ line: [UInt8]) throws -> CID {
        // Go's encoding/json writes RefWrapper's fields in order: `{"Ref":"…","Err":""}`.
        let head = Array(#"{"Ref":""#.utf8), tail = Array(#"","Err":""}"#.utf8)
        let text: String
        if line.count > head.count + tail.count, line.starts(with: head), line.suffix(tail.count).elementsEqual(tail) {
            text = String(decoding: line[head.count..<(line.count - tail.count)], as: UTF8.self)
        } else {
            struct Ref: Decodable { var Ref: String; var Err: String? }
            let ref = try decode(Ref.self, line, "refs/local")
            if let error = ref.Err, !error.isEmpty { throw RemoteError(.remote, "refs/local: \(error)") }
            text = ref.Ref
        }
        guard let cid = try? CID(text) else { throw RemoteError(.remote, "refs/local: '\(text)' is not a CID") }
        return cid
    }
}

/// The multihashes of a list of CIDs, for matching a listing against them: each CID's place,
/// sorted by the hash value of its multihash (Swift's seeded hasher: a remote cannot aim at
/// one), a match confirmed by comparing the multihashes themselves. Two CIDs of the list may
/// share a multihash (a raw and a dag-pb CID of the same bytes): a listed one marks both.
struct WantedMultihashes: Sendable {
    let cids: CIDList
    private let keys: [(hash: Int, place: UInt32)]

    init(_ cids: CIDList) {
        self.cids = cids
        var keys: [(hash: Int, place: UInt32)] = []
        keys.reserveCapacity(cids.count)
        for place in cids.indices { keys.append((cids[place].multihash.hashValue, UInt32(place))) }
        keys.sort { $0.hash < $1.hash }
        self.keys = keys
    }

    /// Sets `present[i]` for each CID `i` of the list whose multihash is `multihash`.
    func mark(_ multihash: Multihash, in present: inout [Bool]) {
        let hash = multihash.hashValue
        var low = 0, high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle].hash < hash { low = middle + 1 } else { high = middle }
        }
        while low < keys.count, keys[low].hash == hash {
            let place = Int(keys[low].place)
            if cids[place].multihash == multihash { present[place] = true }
            low += 1
        }
    }
}
