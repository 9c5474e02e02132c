import AsyncHTTPClient
public import Blocks
public import Engine
import Foundation
public import Multiformats
import NIOCore

/// The Kubo RPC backend (spec/remote.md §3), after ipfs/kubo core/commands/block.go,
/// dag/import.go, pin/pin.go and version.go.
public final class KuboBlockHolder: RemoteBlockHolder {
    let rpc: KuboRPC
    /// The node's version once asked (a named push checks it before and at the pin).
    private let knownVersion = NSLock()
    nonisolated(unsafe) private var cachedVersion: [Int]?

    public init(address: RemoteAddress, settings: RemoteSettings) {
        rpc = KuboRPC(http: RemoteHTTP(base: address.baseURL, settings: settings))
    }

    public func close() async { await rpc.http.close() }

    var base: String { rpc.http.base }

    // MARK: Version

    /// The node's version (`version`), as numbers (`0.26.0-dev` is 0.26.0). An answer that is
    /// not a version (empty, letters, `1..2`) is an error, never "0.0".
    public func version() async throws -> [Int] {
        if let known = knownVersion.withLock({ cachedVersion }) { return known }
        struct Answer: Decodable, Sendable { var Version: String }
        guard case .value(let answer) = try await rpc.json(Answer.self, "version", idempotent: true, limit: 64 << 10) else { return [] }
        guard let found = Self.parseVersion(answer.Version) else {
            throw RemoteError(.remote, "version: \(base) answered '\(answer.Version.prefix(40))', which is not a Kubo version")
        }
        knownVersion.withLock { cachedVersion = found }
        return found
    }

    /// `MAJOR.MINOR.PATCH[-SUFFIX]` (a leading `v` allowed) as numbers; a number past `Int.max`
    /// counts as `Int.max` (a newer node, not version 0). Nil for anything else.
    static func parseVersion(_ text: String) -> [Int]? {
        var core = Substring(text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        if core.hasPrefix("v") { core = core.dropFirst() }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }) else { return nil }
        return parts.map { Int($0) ?? Int.max }
    }

    /// Refuses with a clear message when the node is older than `minimum` (needed for `feature`).
    func require(_ minimum: [Int], for feature: String) async throws {
        let found = try await version()
        guard found.lexicographicallyPrecedes(minimum) == false else {
            let text = found.map(String.init).joined(separator: ".")
            throw RemoteError(.unsupported, "\(base) runs Kubo \(text); \(feature) needs Kubo ≥ \(minimum.map(String.init).joined(separator: "."))")
        }
    }

    // MARK: Existence

    /// `block/stat?offline=true` per CID, `concurrency` calls in flight: 200 is present, a 500
    /// saying "not found locally" is absent, any other error is an error.
    public func has(_ cids: [CID]) async throws -> [Bool] {
        try await concurrentMap(cids, width: rpc.http.settings.concurrency) { try await self.holds($0) }
    }

    private func holds(_ cid: CID) async throws -> Bool {
        let base = rpc.http.base
        let outcome = try await rpc.call(
            "block/stat", [("arg", cid.description), ("offline", "true")], idempotent: true, small: true,
            expected: { $0.contains("not found locally") || $0.contains("could not find") }
        ) { response in
            // A 200 counts only with Kubo's `{"Key","Size"}` for this very block: any other
            // answer (empty, garbage, another CID) is an error, never "present".
            struct Stat: Decodable { var Key: String; var Size: Int }
            let body = try await collectBody(response, limit: 64 << 10, "block/stat")
            guard let stat = try? JSONDecoder().decode(Stat.self, from: Data(body)),
                  let key = try? CID(stat.Key), key.multihash == cid.multihash else {
                let shown = String(decoding: body.prefix(200), as: UTF8.self)
                throw RemoteError(.remote, "block/stat on \(base) answered \(shown.debugDescription) when asked for \(cid)")
            }
        }
        if case .value = outcome { return true }
        return false
    }

    /// `pin/ls?arg=ROOT&type=recursive`: a recursive pin answers for the whole DAG.
    public func isPinnedRecursively(_ root: CID) async throws -> Bool {
        struct Answer: Decodable, Sendable { var Keys: [String: PinEntry] }
        let outcome = try await rpc.json(
            Answer.self, "pin/ls", [("arg", root.description), ("type", "recursive")], idempotent: true,
            expected: { $0.contains("not pinned") })
        guard case .value(let answer) = outcome else { return false }
        return answer.Keys.contains { key, entry in
            entry.type == "recursive" && (try? CID(key))?.multihash == root.multihash
        }
    }

    // MARK: Upload

    /// `dag/import?pin-roots=false&stats=true` of a CAR streamed as it is produced; the
    /// answer's block count and bytes must equal what was sent. A node without `dag/import`
    /// (404) gets `block/put` batches instead. Not retried: a rerun sends what is still missing.
    public func put(_ cids: CIDList, root: CID, from blocks: some BlockGetter) async throws -> PutReport {
        guard !cids.isEmpty else { return PutReport() }
        let upload = try CARUpload(cids: cids, root: root, blocks: blocks)
        defer { upload.end() }  // whatever became of the request (CARUpload.Lease)
        let sent = upload.blockBytes
        let body = try upload.body()
        let stats = StatsBox()
        let outcome: KuboRPC.Outcome<Void>
        do {
            outcome = try await rpc.call(
                "dag/import", [("pin-roots", "false"), ("stats", "true"), ("allow-big-block", "false")],
                idempotent: false, timeout: uploadTimeout(sent, rpc.http.settings),
                body: { body }
            ) { response in try await Self.readImport(response, into: stats) }
        } catch let error as RemoteError where error.code == .unsupported {
            return try await putBlocks(cids, from: blocks)
        }
        _ = outcome
        guard let confirmed = stats.value else {
            throw RemoteError(.remote, "dag/import on \(base) answered without its block count; nothing confirms the upload")
        }
        guard confirmed.blocks == cids.count, confirmed.bytes == sent else {
            throw RemoteError(.remote, "dag/import on \(base) reports \(confirmed.blocks) blocks (\(confirmed.bytes) bytes); \(cids.count) blocks (\(sent) bytes) were sent")
        }
        return confirmed
    }

    final class StatsBox: @unchecked Sendable {
        var value: PutReport?
    }

    /// dag/import's NDJSON (ipfs/kubo core/commands/dag/dag.go `CarImportOutput`): `Root`
    /// lines (only when roots are pinned; a `PinErrorMsg` is an error) and one `Stats` line.
    static func readImport(_ response: HTTPClientResponse, into stats: StatsBox) async throws {
        struct RootLine: Decodable { var PinErrorMsg: String? }
        struct StatsLine: Decodable { var BlockCount: Int; var BlockBytesCount: UInt64 }
        struct Line: Decodable { var Root: RootLine?; var Stats: StatsLine? }
        try await forEachLine(response, "dag/import") { bytes in
            let line = try decode(Line.self, bytes, "dag/import")
            if let message = line.Root?.PinErrorMsg, !message.isEmpty {
                throw RemoteError(.remote, "dag/import: \(message)")
            }
            if let s = line.Stats { stats.value = PutReport(blocks: s.BlockCount, bytes: s.BlockBytesCount) }
        }
    }

    /// `block/put` multipart batches (ipfs/kubo core/commands/block.go: one `{"Key","Size"}`
    /// per part), one batch per codec and hash function; each returned key must carry the
    /// multihash and codec of the block sent in that place.
    func putBlocks(_ cids: CIDList, from blocks: some BlockGetter) async throws -> PutReport {
        var report = PutReport()
        var groups: [[CID]] = []
        var index: [String: Int] = [:]
        for cid in cids {
            let key = "\(cid.codec.rawValue)/\(cid.multihash.code.rawValue)/\(cid.multihash.length)"
            if let i = index[key] { groups[i].append(cid) } else { index[key] = groups.count; groups.append([cid]) }
        }
        for group in groups {
            var start = 0
            while start < group.count {
                try Task.checkCancellation()
                var batch: [CID] = [], body: [UInt8] = [], sizes: [Int] = []
                let boundary = makeBoundary()
                while start < group.count, batch.count < 256, body.count < 8 << 20 {
                    let cid = group[start]
                    start += 1
                    guard let bytes = try blocks.block(cid, verified: false) else {
                        throw RemoteError(.usage, "block \(cid) is not in the local store")
                    }
                    body.append(contentsOf: "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
                    body.append(contentsOf: bytes)
                    body.append(contentsOf: "\r\n".utf8)
                    batch.append(cid)
                    sizes.append(bytes.count)
                }
                body.append(contentsOf: "--\(boundary)--\r\n".utf8)
                report.blocks += batch.count
                report.bytes += UInt64(sizes.reduce(0, +))
                try await putBatch(batch, sizes: sizes, body: body, boundary: boundary)
            }
        }
        return report
    }

    private func putBatch(_ batch: [CID], sizes: [Int], body: [UInt8], boundary: String) async throws {
        struct Line: Decodable, Sendable { var Key: String; var Size: Int }
        let first = batch[0]
        let query = [
            ("cid-codec", first.codec.name ?? String(first.codec.rawValue)),
            ("mhtype", first.multihash.code.name ?? String(first.multihash.code.rawValue)),
            ("mhlen", String(first.multihash.length)), ("pin", "false"), ("allow-big-block", "false"),
        ]
        let buffer = ByteBuffer(bytes: body)
        let outcome = try await rpc.call(
            "block/put", query, idempotent: false,
            body: { (.bytes(buffer), "multipart/form-data; boundary=\(boundary)") }
        ) { response in
            var lines: [Line] = []
            try await forEachLine(response, "block/put") { lines.append(try decode(Line.self, $0, "block/put")) }
            return lines
        }
        guard case .value(let lines) = outcome, lines.count == batch.count else {
            throw RemoteError(.remote, "block/put on \(base) did not confirm each of the \(batch.count) blocks sent")
        }
        for (i, line) in lines.enumerated() {
            guard let key = try? CID(line.Key), key.multihash == batch[i].multihash, key.codec == batch[i].codec,
                  line.Size == sizes[i] else {
                throw RemoteError(.remote, "block/put on \(base) stored \(line.Key) (\(line.Size) bytes) for \(batch[i]) (\(sizes[i]) bytes)")
            }
        }
    }

    // MARK: Pins

    /// `pin/add?arg=ROOT&recursive=true&name=N` (names need Kubo ≥ 0.26); with `replace`, then
    /// `pin/rm` of every other pin named exactly N.
    public func checkCanPin(name: String?) async throws {
        if name != nil { try await require([0, 26], for: "a pin name") }
    }

    public func pin(root: CID, name: String?, replace: Bool) async throws {
        struct Answer: Decodable, Sendable { var Pins: [String] }
        var query = [("arg", root.description), ("recursive", "true")]
        if let name {
            try await require([0, 26], for: "a pin name")
            query.append(("name", name))
        }
        guard case .value(let answer) = try await rpc.json(Answer.self, "pin/add", query, idempotent: true),
              answer.Pins.contains(where: { (try? CID($0))?.multihash == root.multihash }) else {
            throw RemoteError(.remote, "pin/add on \(base) did not confirm the pin of \(root)")
        }
        if replace, let name {
            for pin in try await pins(name) where pin.cid.multihash != root.multihash {
                try await unpin(pin, named: name)
            }
        }
    }

    /// `pin/rm` of every pin named exactly `name`.
    public func unpinAll(_ name: String) async throws -> [CID] {
        let named = try await pins(name)
        for pin in named { try await unpin(pin, named: name) }
        return named.map(\.cid)
    }

    /// Removes the pin `pin` named `name`. Kubo keeps one pin per CID, so `pin/rm?arg=CID`
    /// removes exactly it; a node that keeps several names per CID (`cairn serve`) would remove
    /// them all, the other names' pins with it. So the CID's own pins are listed first, and
    /// when another name shows, the removal names the pin (`name=`, `cairn serve`'s extension
    /// of `pin/rm`; never sent to a node that showed one name per CID).
    private func unpin(_ pin: RemotePin, named name: String) async throws {
        try await unpin(pin.cid, name: try await hasOtherNames(pin, than: name) ? name : nil)
    }

    /// Whether `pin`'s CID also carries a pin of another name (`pin/ls?arg=CID&names=true&stream=true`).
    private func hasOtherNames(_ pin: RemotePin, than name: String) async throws -> Bool {
        struct Line: Decodable, Sendable { var Cid: String?; var Name: String? }
        let query = [("arg", pin.cid.description), ("type", pin.recursive ? "recursive" : "direct"), ("names", "true"), ("stream", "true")]
        let outcome = try await rpc.call("pin/ls", query, idempotent: true) { response -> Bool in
            var other = false, lines = 0
            try await forEachLine(response, "pin/ls") { bytes in
                lines += 1
                guard lines <= maxNamedPins else { throw RemoteError(.remote, "pin/ls lists more than \(maxNamedPins) pins of \(pin.cid)") }
                let line = try decode(Line.self, bytes, "pin/ls")
                if let text = line.Cid, (try? CID(text))?.multihash == pin.cid.multihash, (line.Name ?? "") != name { other = true }
            }
            return other
        }
        guard case .value(let other) = outcome else { return false }
        return other
    }

    /// `pin/rm?arg=CID` (with `name`, `&name=N`), whose answer must name the CID
    /// (`{"Pins":[CID]}`, as pin/add's): an answer that does not is an error, never an unpin
    /// reported that did not happen.
    private func unpin(_ cid: CID, name: String?) async throws {
        struct Answer: Decodable, Sendable { var Pins: [String] }
        var query = [("arg", cid.description)]
        if let name { query.append(("name", name)) }
        guard case .value(let answer) = try await rpc.json(Answer.self, "pin/rm", query, idempotent: false),
              answer.Pins.contains(where: { (try? CID($0))?.multihash == cid.multihash }) else {
            throw RemoteError(.remote, "pin/rm on \(base) did not confirm the removal of the pin of \(cid)")
        }
    }

    /// `pin/ls?type=recursive&names=true&stream=true`, filtered by exact name here: the server's
    /// own `name` filter is a substring match (ipfs/kubo core/commands/pin/pin.go). Takes both
    /// the streamed `{"Cid","Name","Type"}` lines and the one `{"Keys":{…}}` object.
    public func pins(_ name: String) async throws -> [RemotePin] {
        try await require([0, 26], for: "pin names")
        struct Line: Decodable, Sendable {
            var Cid: String?; var Name: String?; var type: String?
            var Keys: [String: PinEntry]?
            enum CodingKeys: String, CodingKey { case Cid, Name, type = "Type", Keys }
        }
        let outcome = try await rpc.call(
            "pin/ls", [("type", "recursive"), ("names", "true"), ("stream", "true")], idempotent: true
        ) { [base = rpc.http.base] response in
            // Each CID once, and at most `maxNamedPins` of them: a listing that repeats a line
            // for ever, or names millions of pins, cannot grow the client without bound.
            var found: [RemotePin] = []
            var seen: Set<CID> = []
            try await forEachLine(response, "pin/ls") { bytes in
                let line = try decode(Line.self, bytes, "pin/ls")
                var entries: [(String, String, String)] = []
                if let cid = line.Cid { entries.append((cid, line.Name ?? "", line.type ?? "")) }
                for (cid, entry) in line.Keys ?? [:] { entries.append((cid, entry.Name ?? "", entry.type)) }
                // An indirect entry is no pin of its own (it cannot be removed by name): only
                // recursive and direct ones are listed, whatever else a listing sends.
                for (text, pinName, type) in entries where pinName == name && (type == "recursive" || type == "direct") {
                    guard let cid = try? CID(text) else { throw RemoteError(.remote, "pin/ls: '\(text)' is not a CID") }
                    guard seen.insert(cid).inserted else { continue }
                    guard found.count < maxNamedPins else {
                        throw RemoteError(.remote, "pin/ls on \(base) lists more than \(maxNamedPins) pins named '\(name)'")
                    }
                    found.append(RemotePin(cid: cid, name: pinName, recursive: type == "recursive"))
                }
            }
            return found
        }
        guard case .value(let found) = outcome else { return [] }
        return found
    }

    // MARK: Fetch

    /// `dag/export?arg=ROOT&offline=true`: a CARv1 in depth-first order without duplicates,
    /// verified block by block (`DAGVerifier`).
    public func fetch(_ root: CID, scope: FetchScope, into body: @escaping @Sendable (Block) throws -> Void) async throws {
        let verifier = DAGVerifier(root: root, scope: scope, order: .dfs, duplicates: false, maxHeldLinks: rpc.http.settings.maxHeldLinks,
                                    keysInMemory: rpc.http.settings.receivedKeysInMemory)
        _ = try await rpc.call(
            "dag/export", [("arg", root.description), ("offline", "true")], idempotent: false,
            timeout: .seconds(3600), headTimeout: rpc.http.settings.callTimeout
        ) { response in
            try await verifier.consume(response, "dag/export", body)
        }
    }
}

/// The most pins of one name a listing may give (each CID counted once).
let maxNamedPins = 100_000

/// One pin in `pin/ls`'s `Keys` map (ipfs/kubo core/commands/pin/pin.go `PinLsType`).
struct PinEntry: Decodable, Sendable {
    var type: String
    var Name: String?
    enum CodingKeys: String, CodingKey { case type = "Type", Name }
}
