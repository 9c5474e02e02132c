import BlockStore
import CSodium
import Foundation
import Hummingbird
import Multiformats
import NIOCore

/// `version`, `id`, `refs/local`, `repo/gc` (ipfs/kubo version.go, core/commands/id.go,
/// refs.go, repo.go).
enum RPCInfo {
    /// The Kubo version claimed: recent enough for named pins (0.26+) and `pin/ls` name
    /// filters (0.29+), which clients gate on.
    static let kuboVersion = "0.32.0"

    static func version(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        RPCOutput.once(.object([
            ("Version", .string(kuboVersion)), ("Commit", .string("cairn")), ("Repo", .string("16")),
            ("System", .string(system + " cairn")), ("Golang", .string("none (Cairn, Swift)")),
        ]))
    }

    static func id(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        let identity = PeerIdentity.shared
        var addresses: [JSONValue] = []
        if let api = state.configuration.api { addresses.append(.string(api.multiaddr + "/p2p/" + identity.id)) }
        return RPCOutput.once(.object([
            ("ID", .string(identity.id)), ("PublicKey", .string(identity.publicKey)),
            ("Addresses", .array(addresses)), ("AgentVersion", .string("kubo/\(kuboVersion)/cairn")),
            ("Protocols", .array([])),
        ]))
    }

    static var system: String {
        #if arch(x86_64)
        let arch = "amd64"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "unknown"
        #endif
        #if os(Linux)
        return arch + "/linux"
        #else
        return arch + "/darwin"
        #endif
    }

    /// `{"Ref":"<cid>","Err":""}` for every stored block, streamed from the index.
    static func localRefs(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        try await RPCOutput.stream(state: state, contentType: "application/json", chunked: true, bytes: false) { [store = state.store] pipe in
            let lines = NDJSONBatcher(pipe: pipe)
            try store.list { cid, _ in try lines.append(.object([("Ref", .string(cid.description)), ("Err", .string(""))])) }
            try lines.flush()
        }
    }

    /// Garbage collection, streamed: `{"Key":{"/":CID}}` for each block removed, sent as each
    /// sweep batch commits (nothing listed up front, constant memory). The CID is the block's
    /// multihash as a raw CIDv1, as Kubo reports it (boxo/gc walks a blockstore whose keys are
    /// raw CIDv1). The one-writer gate is held for the whole collection.
    static func collectGarbage(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        let quiet = try request.bool("quiet", default: false)
        return try await RPCOutput.stream(state: state, contentType: "application/json", chunked: true, bytes: false,
                                          gate: state.writeGate) { [store = state.store] pipe in
            let lines = NDJSONBatcher(pipe: pipe)
            _ = try store.write { writer in
                try writer.collectGarbage { multihash in
                    guard !quiet else { return }
                    try lines.append(.object([("Key", .link(CID.v1(codec: .raw, multihash: multihash).description))]))
                }
            }
            try lines.flush()
        }
    }
}

/// NDJSON lines gathered into writes of about 64 KiB on a pipe (streamed listings).
final class NDJSONBatcher {
    private let pipe: BytePipe
    private var batch = ""

    init(pipe: BytePipe) { self.pipe = pipe }

    func append(_ value: JSONValue) throws {
        value.write(into: &batch)
        batch += "\n"
        if batch.utf8.count >= 64 << 10 { try flush() }
    }

    func flush() throws {
        guard !batch.isEmpty else { return }
        try pipe.sendBlocking(ByteBuffer(string: batch))
        batch = ""
    }
}

/// The peer identity `id` reports: an Ed25519 key made at start-up (libsodium); the server has
/// no peer-to-peer side, so the key signs nothing and lives only as long as the process.
struct PeerIdentity: Sendable {
    let id: String
    let publicKey: String

    static let shared = PeerIdentity()

    private init() {
        var publicKey = [UInt8](repeating: 0, count: 32)
        var secretKey = [UInt8](repeating: 0, count: 64)
        _ = sodium_init()
        crypto_sign_keypair(&publicKey, &secretKey)
        // libp2p's PublicKey protobuf: field 1 KeyType = 1 (Ed25519), field 2 Data.
        let encoded: [UInt8] = [0x08, 0x01, 0x12, 0x20] + publicKey
        let multihash = try! Multihash(code: .identity, digest: encoded)
        id = Multibase.base58btc.encodeWithoutPrefix(multihash.bytes)  // Kubo's `12D3KooW…` form
        self.publicKey = Data(encoded).base64EncodedString()
    }
}
