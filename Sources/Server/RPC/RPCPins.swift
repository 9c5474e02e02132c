import Blocks
import BlockStore
import Engine
import Hummingbird
import Multiformats

/// `pin/add|rm|ls|update|verify` with names (ipfs/kubo core/commands/pin/pin.go).
enum RPCPins {
    /// Kubo's limit on a pin name (0.38: at most 255 bytes).
    static let maxNameBytes = 255

    static func add(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        guard !request.arguments.isEmpty else { throw RPCError.client("argument \"ipfs-path\" is required") }
        let cids = try await state.resolve(request.arguments)
        let recursive = try request.bool("recursive", default: true)
        let progress = try request.bool("progress", default: false)
        let name = request.text("name")
        if let name, name.utf8.count > maxNameBytes {
            throw RPCError.client("pin name is \(name.utf8.count) bytes; the most is \(maxNameBytes)")
        }
        // The index keeps names as text, which ends at a NUL: refused rather than cut short.
        if let name, name.utf8.contains(0) { throw RPCError.client("pin name must not contain a NUL byte") }
        try await WriterSession.with(state) { session in
            try await session.run { writer in
                for cid in cids {
                    do {
                        try writer.pin(cid, recursive: recursive, name: name)
                    } catch let error as BlockStoreError where error.code == .notFound || error.code == .invalidDAG || error.code == .refused {
                        throw RPCError.normal("pin: \(error.message)")
                    }
                }
            }
        }
        let pins = JSONValue.object([("Pins", .array(cids.map { .string($0.description) }))])
        guard progress else { return RPCOutput.once(pins) }
        // Kubo (core/commands/pin/pin.go, `AddPinOutput`) streams `{"Progress":N}` (the nodes
        // its recursive pin's graph walk has visited), then `{"Pins":[…]}`; a direct pin walks
        // nothing, so only the pins line is sent. The pin here is local: its final count is
        // the one progress line.
        var nodes = 0
        if recursive {
            nodes = try await state.read { store in
                try cids.reduce(0) { total, cid in
                    var count = 0
                    _ = try DAGWalk.walk(cid, in: store) { _, _ in count += 1 }
                    return total + count
                }
            }
        }
        return RPCOutput.values((nodes > 0 ? [.object([("Progress", .int(nodes))])] : []) + [pins])
    }

    /// `pin/verify` (Kubo's `verifyPinCmd`): every recursive pin's DAG walked with each block
    /// verified (`PinVerifier`, spec/engine.md §5); one `PinVerifyRes` per broken pin, and per
    /// complete one with `verbose` (`{"Cid","Ok":true}`); `quiet` leaves out the bad blocks
    /// (Kubo's `explain`). Both options at once are Kubo's error.
    static func verify(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        let verbose = try request.bool("verbose", default: false)
        let quiet = try request.bool("quiet", default: false)
        if verbose && quiet { throw RPCError.normal("the --verbose and --quiet options can not be used at the same time") }
        let results: [PinVerification] = try await state.read { store in
            let roots = try store.pins().filter(\.recursive).map(\.cid)
            var reported: [PinVerification] = []
            try PinVerifier(blocks: store).verify(roots) { result in
                if !result.isComplete || verbose { reported.append(result) }
            }
            return reported
        }
        return RPCOutput.values(results.map { result in
            var fields: [(String, JSONValue)] = [("Cid", .string(result.root.description))]
            if result.isComplete {
                fields.append(("Ok", .bool(true)))
            } else if !quiet {
                fields.append(("BadNodes", .array(result.badNodes.map { node in
                    .object([("Cid", .string(node.cid.description)), ("Err", .string(node.error))])
                })))
            }
            return .object(fields)
        })
    }

    static func remove(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        guard !request.arguments.isEmpty else { throw RPCError.client("argument \"ipfs-path\" is required") }
        let cids = try await state.resolve(request.arguments)
        let recursive = try request.bool("recursive", default: true)
        // Cairn's extension (Kubo has one pin per CID, so no such option): a CID here may carry
        // pins of several names, and a client removing the pins of one name must not remove
        // the others (spec/serve.md, pin/rm).
        let name = request.text("name")
        try await WriterSession.with(state) { session in
            try await session.run { writer in
                for cid in cids {
                    do { try writer.unpin(cid, recursive: recursive, name: name) } catch let error as BlockStoreError {
                        switch error.code {
                        case .notFound: throw RPCError.normal("not pinned or pinned indirectly")
                        case .refused: throw RPCError.normal(error.message)  // "CID is pinned recursively"
                        default: throw error
                        }
                    }
                }
            }
        }
        return RPCOutput.once(.object([("Pins", .array(cids.map { .string($0.description) }))]))
    }

    static func update(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        guard request.arguments.count == 2 else { throw RPCError.client("argument \"from-path\" and \"to-path\" are required") }
        let from = try await state.resolve(request.arguments[0])
        let to = try await state.resolve(request.arguments[1])
        let unpin = try request.bool("unpin", default: true)
        try await WriterSession.with(state) { session in
            try await session.run { writer in
                do { try writer.updatePin(from: from, to: to, unpinOld: unpin) } catch let error as BlockStoreError where error.code == .notFound {
                    throw RPCError.normal("'from' cid was not recursively pinned already")
                }
            }
        }
        return RPCOutput.once(.object([("Pins", .array([.string(from.description), .string(to.description)]))]))
    }

    /// One listed pin.
    struct Listed: Sendable {
        var cid: CID
        var type: String
        var name: String
    }

    /// Direct, recursive and (for `type=all|indirect`) indirect pins; `name` keeps the pins
    /// whose name contains it (case-sensitive, as Kubo's filter) and implies `names`.
    static func list(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        let type = request.options["type"] ?? "all"
        guard ["all", "direct", "recursive", "indirect"].contains(type) else {
            throw RPCError.client("invalid type '\(type)', must be one of {direct, indirect, recursive, all}")
        }
        let filter = request.text("name")
        let names = try request.bool("names", default: false) || filter != nil
        let stream = try request.bool("stream", default: false)
        let quiet = try request.bool("quiet", default: false)
        let wanted = try await state.resolve(request.arguments)
        let listed: [Listed] = try await state.read { store in
            var listed: [Listed] = []
            let pins = try store.pins()
            for pin in pins where type == "all" || type == (pin.recursive ? "recursive" : "direct") {
                if let filter, !(pin.name ?? "").contains(filter) { continue }
                listed.append(Listed(cid: pin.cid, type: pin.recursive ? "recursive" : "direct", name: pin.name ?? ""))
            }
            if (type == "all" || type == "indirect") && filter == nil {
                let pinned = Set(pins.map(\.cid))
                for cid in try indirect(store, roots: pins.filter(\.recursive).map(\.cid)) where !pinned.contains(cid) {
                    listed.append(Listed(cid: cid, type: "indirect", name: ""))
                }
            }
            return listed
        }
        var shown = listed
        if !wanted.isEmpty {
            shown = listed.filter { wanted.contains($0.cid) }
            if let missing = wanted.first(where: { cid in !listed.contains { $0.cid == cid } }) {
                throw RPCError.normal("path '\(missing)' is not pinned")
            }
        }
        if stream {
            return RPCOutput.values(shown.map { pin in
                var fields: [(String, JSONValue)] = [("Cid", .string(pin.cid.description))]
                if names { fields.append(("Name", .string(pin.name))) }
                if !quiet { fields.append(("Type", .string(pin.type))) }
                return .object(fields)
            })
        }
        // Kubo has one pin per CID: a CID pinned under several names shows its first name
        // (names sort after the unnamed pin, which shows only when it is the only one).
        var order: [CID] = []
        var chosen: [CID: Listed] = [:]
        for pin in shown {
            if let current = chosen[pin.cid] {
                if current.name.isEmpty && !pin.name.isEmpty { chosen[pin.cid] = pin }
            } else {
                order.append(pin.cid)
                chosen[pin.cid] = pin
            }
        }
        let keys: [(String, JSONValue)] = order.map { cid in
            let pin = chosen[cid]!
            var fields: [(String, JSONValue)] = [("Type", .string(quiet ? "" : pin.type))]
            if names { fields.append(("Name", .string(pin.name))) }
            return (cid.description, .object(fields))
        }
        return RPCOutput.once(.object([("Keys", .object(keys))]))
    }

    /// Every block below the recursive pins' roots (the roots themselves excluded), each once.
    private static func indirect(_ store: BlockStore, roots: [CID]) throws -> [CID] {
        var seen = Set<CID>(roots)
        var stack = roots
        var found: [CID] = []
        while let cid = stack.popLast() {
            guard let bytes = try store.getIfPresent(cid, verify: true) else { continue }
            for child in try links(of: cid, bytes) where seen.insert(child).inserted {
                found.append(child)
                stack.append(child)
            }
        }
        return found
    }
}
