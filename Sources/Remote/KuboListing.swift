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
    /// Only the multihashes of `cids` are kept, whatever the node lists.
    public func listedPresence(of cids: [CID], limit: Int) async throws -> [Bool]? {
        guard limit > 0, !cids.isEmpty else { return nil }
        let wanted = Set(cids.map(\.multihash))
        let outcome: KuboRPC.Outcome<Set<Multihash>?>
        do {
            outcome = try await listing(wanted, limit: limit)
        } catch let error as RemoteError where error.code == .unsupported || error.code == .unauthorized {
            return nil  // no refs/local here, or not for these credentials: block/stat answers
        }
        guard case .value(let listed) = outcome, let held = listed else { return nil }
        return cids.map { held.contains($0.multihash) }
    }

    /// The listed multihashes among `wanted`, or nil past `limit` lines.
    private func listing(_ wanted: Set<Multihash>, limit: Int) async throws -> KuboRPC.Outcome<Set<Multihash>?> {
        try await rpc.call("refs/local", idempotent: true) { response -> Set<Multihash>? in
            var held: Set<Multihash> = [], lines = 0
            let complete = try await readLines(response, "refs/local") { bytes in
                lines += 1
                guard lines <= limit else { return false }
                let cid = try Self.listedRef(bytes)
                if wanted.contains(cid.multihash) { held.insert(cid.multihash) }
                return true
            }
            return complete ? held : nil
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
