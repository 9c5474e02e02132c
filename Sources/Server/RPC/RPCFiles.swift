import BlockStore
import CairnSystem
import Engine
import Foundation
import Hummingbird
import Multiformats
import NIOCore
import UnixFS

/// `add` and `cat` (ipfs/kubo core/commands/add.go, cat.go).
enum RPCFiles {
    /// The multipart files and directories are spooled (streamed, constant memory) into a
    /// private directory inside the store, then added by Engine's `Adder` exactly as
    /// `cairn add -r` adds them (the same CIDs, which are Kubo's), committed and pinned before
    /// the first `{"Name","Hash","Size"}` line is sent. The spool is removed afterwards.
    static func add(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        for refused in ["preserve-mode", "preserve-mtime"] where try request.bool(refused, default: false) {
            throw RPCError.client("\(refused) is not supported over the RPC: the multipart body carries no file metadata here")
        }
        var options = ImportOptions()
        for (key, value) in request.options.sorted(by: { $0.key < $1.key }) {
            guard let flag = ImportOptions.kuboFlag(named: "--" + key), flag.name == "--" + key else { continue }
            let given: String
            if flag.takesValue { given = value } else { given = try request.bool(key, default: true) ? "true" : "false" }
            try options.apply(flag, value: given)
        }
        var adder = Adder(parameters: try options.resolve())
        adder.walk = WalkSettings(recursive: true, hidden: true, emptyDirectories: true)
        adder.wrap = try request.bool("wrap-with-directory", default: false)
        let pin = try request.bool("pin", default: true)
        let pinName = request.options["pin-name"].flatMap { $0.isEmpty ? nil : $0 }
        let onlyHash = try request.bool("only-hash", default: false)
        let quieter = try request.bool("quieter", default: false)
        let silent = try request.bool("silent", default: false)
        if let pinName, pinName.utf8.count > RPCPins.maxNameBytes {
            throw RPCError.client("pin name is \(pinName.utf8.count) bytes; the most is \(RPCPins.maxNameBytes)")
        }
        let spool = try await state.pool.run { try Spool(root: state.configuration.store.root) }
        defer { spool.remove() }
        var reader = try MultipartReader(body: request.request.body, contentType: request.request.headers[.contentType],
                                         maxBytes: state.configuration.limits.maxBodyBytes)
        while let head = try await reader.nextPart() {
            let file = try await state.pool.run { try spool.begin(head) }
            while let chunk = try await reader.nextChunk() {
                if let file { try await state.pool.run { try file.write(chunk) } }
            }
            if let file { try await state.pool.run { try file.close() } }
        }
        let inputs = spool.topLevel.map { AddInput.path(spool.path + "/" + $0) }
        guard !inputs.isEmpty else { throw RPCError.client("file argument 'path' is required") }
        let configured = adder
        let store = state.store
        let run: @Sendable () throws -> [AddEvent] = {
            var events: [AddEvent] = []
            let destination: AddDestination = onlyHash ? .nothing : .store(store, pin: pin, pinName: pinName)
            try configured.add(inputs, to: destination) { events.append($0) }
            return events
        }
        let events: [AddEvent]
        if onlyHash { events = try await state.pool.run(run) } else { events = try await state.write { _ in try run() } }
        guard !silent else { return RPCOutput.values([]) }
        let shown = quieter ? Array(events.suffix(1)) : events
        return RPCOutput.values(shown.map { event in
            let hash = event.result.root.description
            var name = event.path.map { String(decoding: $0, as: UTF8.self) } ?? hash
            if let unnamed = spool.unnamed[String(name.prefix { $0 != "/" })] {
                name = name.count == unnamed.count ? hash : hash + name.dropFirst(unnamed.count)
            }
            return .object([("Name", .string(name)), ("Hash", .string(hash)), ("Size", .string(String(event.result.size)))])
        })
    }

    /// The file's bytes (several files one after another), `offset`/`length` as Kubo takes
    /// them; every block verified before any of its bytes is sent.
    static func cat(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        guard !request.arguments.isEmpty else { throw RPCError.client("argument \"ipfs-path\" is required") }
        let cids = try request.arguments.map(RPCRequest.cid)
        let offset = try request.int("offset", default: 0)
        let length = try request.int("length", default: -1)
        guard offset >= 0 else { throw RPCError.client("cannot specify negative offset") }
        guard length >= -1 else { throw RPCError.client("cannot specify negative length") }
        for cid in cids where cid.multihash.code != .identity {
            let present = try await state.read { try $0.has(cid) }
            if !present { throw RPCError.notFound(cid) }
        }
        return try await RPCOutput.stream(state: state, contentType: "text/plain", chunked: true, bytes: true) { [store = state.store] pipe in
            let exporter = Exporter(blocks: store)
            for cid in cids {
                try exporter.cat(cid, offset: UInt64(offset), length: length < 0 ? nil : UInt64(length)) { bytes in
                    try pipe.sendBlocking(ByteBuffer(bytes: bytes))
                }
            }
        }
    }
}

/// A request's files on disk while they are added: a fresh directory under
/// `<store>/uploads/`, names checked (no `..`, no absolute paths, no empty components), removed
/// when the request ends.
final class Spool: @unchecked Sendable {
    let path: String
    /// The top-level names in the order they first came.
    private(set) var topLevel: [String] = []
    /// Placeholder names given to parts without a file name (printed as their CID, as Kubo).
    private(set) var unnamed: [String: String] = [:]
    private var count = 0

    init(root: String) throws {
        let uploads = root + "/uploads"
        try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)
        path = uploads + "/" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Starts a part: creates its directory, or returns the file its body goes to.
    func begin(_ head: MultipartPartHead) throws -> SpoolFile? {
        count += 1
        var name = head.filename ?? ""
        if name.isEmpty {
            name = "unnamed-\(count)"
            unnamed[name] = name
        }
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.hasPrefix("/"), !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }), !name.contains("\0") else {
            throw RPCError.client("invalid file name \"\(name)\" in the multipart body")
        }
        let top = String(components[0])
        if !topLevel.contains(top) { topLevel.append(top) }
        let target = path + "/" + name
        if head.isDirectory {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            return nil
        }
        if components.count > 1 {
            try FileManager.default.createDirectory(atPath: path + "/" + components.dropLast().joined(separator: "/"),
                                                    withIntermediateDirectories: true)
        }
        return try SpoolFile(path: target)
    }
}

/// One spooled file being written.
final class SpoolFile: @unchecked Sendable {
    private let descriptor: Int32
    let path: String

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw RPCError.client("cannot create \(path): the name is used twice in the multipart body") }
    }

    func write(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { bytes in try SystemCall.writeAll(descriptor, bytes, path: path) }
    }

    func close() throws {
        SystemCall.close(descriptor)
    }
}
