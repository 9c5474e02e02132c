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
    /// Plain files (the first part a file at the top level, no `wrap-with-directory`, no
    /// `only-hash`) stream from the body straight into Engine's `Adder.addStreams`, one file
    /// per part, with no copy on disk. Directories (and those two options) are spooled
    /// (streamed, constant memory) into a private directory inside the store, then added by
    /// `Adder` exactly as `cairn add -r` adds them. Either way the CIDs are Kubo's, and
    /// everything is committed and pinned before the first `{"Name","Hash","Size"}` line is
    /// sent. The spool is removed afterwards.
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
        // Symlink parts are stored as symlinks, never followed (a target may name any path
        // of the server's).
        adder.walk.symlinks = .store
        adder.wrap = try request.bool("wrap-with-directory", default: false)
        let pin = try request.bool("pin", default: true)
        let pinName = request.text("pin-name")
        let onlyHash = try request.bool("only-hash", default: false)
        let quieter = try request.bool("quieter", default: false)
        let silent = try request.bool("silent", default: false)
        if let pinName, pinName.utf8.count > RPCPins.maxNameBytes {
            throw RPCError.client("pin name is \(pinName.utf8.count) bytes; the most is \(RPCPins.maxNameBytes)")
        }
        var reader = try MultipartReader(body: request.request.body, contentType: request.request.headers[.contentType],
                                         maxBytes: state.configuration.limits.maxBodyBytes)
        let first = try await reader.nextPart()
        if let first, !first.isDirectory, !first.isSymlink, !(first.filename ?? "").contains("/"), !adder.wrap, !onlyHash {
            let files = try await streamFiles(first: first, &reader, adder: adder, pin: pin, pinName: pinName, state: state)
            guard !silent else { return RPCOutput.values([]) }
            let shown = quieter ? Array(files.suffix(1)) : files
            return RPCOutput.values(shown.map { name, result in
                let hash = result.root.description
                return .object([("Name", .string(name ?? hash)), ("Hash", .string(hash)), ("Size", .string(String(result.size)))])
            })
        }
        let spool = try await state.pool.run { try Spool(root: state.configuration.store.root) }
        defer { spool.remove() }
        var next = first
        while let head = next {
            let file = try await state.pool.run { try spool.begin(head) }
            while let chunk = try await reader.nextChunk() {
                if let file { try await state.pool.run { try file.write(chunk) } }
            }
            if let file { try await state.pool.run { try file.close() } }
            next = try await reader.nextPart()
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

    /// Each part a top-level file, streamed through a pipe into `Adder.addStreams` running on
    /// the pool under the one-writer gate (one writer, one commit with the pins). Returns each
    /// file's name (nil for a part without one) and result, in order.
    private static func streamFiles<Body: AsyncSequence & Sendable>(
        first: MultipartPartHead, _ reader: inout MultipartReader<Body>, adder: Adder, pin: Bool, pinName: String?,
        state: ServerState
    ) async throws -> [(String?, ImportResult)] where Body.Element == ByteBuffer {
        let feed = PartFeed()
        let job = Task {
            do {
                return try await state.write { store in
                    try adder.addStreams(to: store, pin: pin, pinName: pinName,
                                         next: { _ in try feed.nextBlocking().map { PipeByteSource(pipe: $0) } }, check: { _, _ in })
                }
            } catch {
                feed.fail(error)
                throw error
            }
        }
        var names: [String?] = []
        do {
            var head: MultipartPartHead? = first
            while let part = head {
                let name = part.filename.flatMap { $0.isEmpty ? nil : $0 }
                guard !part.isDirectory, !part.isSymlink, !(name ?? "").contains("/") else {
                    throw RPCError.client("a directory or symlink part after a top-level file: send directories and symlinks first, or files alone")
                }
                names.append(name)
                let pipe = BytePipe()
                try feed.push(pipe)
                do {
                    while let chunk = try await reader.nextChunk() { try await pipe.send(chunk) }
                    pipe.finish()
                } catch {
                    pipe.fail(error)
                    throw error
                }
                head = try await reader.nextPart()
            }
            feed.finish()
        } catch {
            feed.fail(error)
            _ = try? await job.value
            throw error
        }
        let results = try await job.value
        return Array(zip(names, results))
    }

    /// The file's bytes (several files one after another), `offset`/`length` as Kubo takes
    /// them; every block verified before any of its bytes is sent.
    static func cat(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        guard !request.arguments.isEmpty else { throw RPCError.client("argument \"ipfs-path\" is required") }
        let cids = try await state.resolve(request.arguments)
        let offset = try request.int("offset", default: 0)
        let length = try request.int("length", default: -1)
        guard offset >= 0 else { throw RPCError.client("cannot specify negative offset") }
        guard length >= -1 else { throw RPCError.client("cannot specify negative length") }
        for cid in cids where cid.multihash.code != .identity {
            let present = try await state.read { try $0.has(cid) }
            if !present { throw RPCError.notFound(cid) }
        }
        return try await RPCOutput.stream(state: state, contentType: "text/plain", chunked: true, bytes: true) { [store = state.store] pipe in
            let exporter = Exporter(blocks: OfflineBlocks(store: store))
            for cid in cids {
                try exporter.cat(cid, offset: UInt64(offset), length: length < 0 ? nil : UInt64(length)) { bytes in
                    try pipe.sendBlocking(ByteBuffer(bytes: bytes))
                }
            }
        }
    }
}

/// The parts of an upload handed one by one to the import job on the pool: the async side
/// pushes each part's pipe, the job takes them in order (waiting), nil after `finish`.
final class PartFeed: @unchecked Sendable {
    private let condition = NSCondition()
    private var pipes: [BytePipe] = []
    /// Every pipe pushed, so that a failure reaches the one being read too.
    private var pushed: [BytePipe] = []
    private var finished = false
    private var failure: (any Error)?

    func push(_ pipe: BytePipe) throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        pipes.append(pipe)
        pushed.append(pipe)
        condition.broadcast()
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Ends the feed with an error; its pipes fail too (the one being read included).
    func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        let left = pushed
        condition.broadcast()
        condition.unlock()
        for pipe in left { pipe.fail(error) }
    }

    func nextBlocking() throws -> BytePipe? {
        condition.lock()
        defer { condition.unlock() }
        while pipes.isEmpty && !finished && failure == nil { condition.wait() }
        if let failure { throw failure }
        return pipes.isEmpty ? nil : pipes.removeFirst()
    }
}

/// A request's files on disk while they are added: a fresh directory under
/// `<store>/uploads/`, names checked (no `..`, no absolute paths, no empty components), removed
/// when the request ends.
final class Spool: @unchecked Sendable {
    let path: String
    /// The top-level names in the order they first came.
    private(set) var topLevel: [String] = []
    /// The names in `topLevel` (a look-up in the array for each part was quadratic in the parts).
    private var topLevelNames: Set<String> = []
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
            throw RPCError.client("invalid file name \"\(Self.shown(name))\" in the multipart body")
        }
        // Linux's limits (NAME_MAX, PATH_MAX less the spool's own path): refused up front, so
        // the system's error (and the spool's path) never reaches the answer.
        guard components.allSatisfy({ $0.utf8.count <= 255 }), name.utf8.count <= 3072 else {
            throw RPCError.client("file name \"\(Self.shown(name))\" in the multipart body is too long")
        }
        let top = String(components[0])
        if topLevelNames.insert(top).inserted { topLevel.append(top) }
        try makeDirectories(head.isDirectory ? components[...] : components.dropLast(), for: name)
        guard !head.isDirectory else { return nil }
        return try SpoolFile(path: path + "/" + name, name: Self.shown(name), symlink: head.isSymlink)
    }

    /// Creates the directories `components` below the spool (each may exist already as a
    /// directory); a component that is already a file is the client's error, named without
    /// the spool's path.
    private func makeDirectories(_ components: ArraySlice<Substring>, for name: String) throws {
        var directory = path
        for component in components {
            directory += "/" + component
            if mkdir(directory, 0o700) == 0 { continue }
            let error = errno
            var status = stat()
            // lstat: a symlink part is never a directory to put a later part in (its target
            // may lie anywhere; nothing is ever written through it).
            if error == EEXIST, lstat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { continue }
            if error == EEXIST {
                throw RPCError.client("file name \"\(Self.shown(name))\" in the multipart body is below a file of the same body")
            }
            throw Self.failed(Self.shown(name), error)
        }
    }

    /// A part's name as an answer shows it (`oneLine`, at most 200 characters).
    static func shown(_ name: String) -> String { oneLine(name, limit: 200) }

    /// A part the system would not spool (the answer names the part and the reason, never the
    /// spool's path).
    static func failed(_ shownName: String, _ code: Int32) -> RPCError {
        RPCError.normal("cannot spool \"\(shownName)\": \(String(cString: strerror(code)))")
    }
}

/// One spooled file being written.
/// Closed by `close()`, or when let go of: a body that fails part-way leaves no descriptor
/// open (the spool's directory is removed, and an open file would keep its space).
final class SpoolFile: @unchecked Sendable {
    private var descriptor: Int32
    let path: String
    private let name: String
    /// A symlink part: its target, gathered until `close` makes the link (nil: a file).
    private var target: [UInt8]?

    /// `symlink`: the part's body is a symlink's target (at most 4095 bytes, no NUL), made
    /// into a symlink at `path` when the part ends; the importer stores it as a UnixFS symlink
    /// and never follows it (spec/serve.md §5.3, `add`).
    init(path: String, name: String, symlink: Bool = false) throws {
        self.path = path
        self.name = name
        if symlink {
            descriptor = -1
            target = []
            return
        }
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            let error = errno
            if error == EEXIST || error == EISDIR {
                throw RPCError.client("file name \"\(name)\" is used twice in the multipart body")
            }
            throw Spool.failed(name, error)
        }
    }

    func write(_ buffer: ByteBuffer) throws {
        if target != nil {
            target!.append(contentsOf: buffer.readableBytesView)
            guard target!.count < 4096, !target!.contains(0) else {
                throw RPCError.client("symlink \"\(name)\" in the multipart body has a target over 4095 bytes or with a NUL")
            }
            return
        }
        // The system's error without the spool's path (the answer goes to the client).
        do {
            try buffer.withUnsafeReadableBytes { bytes in try SystemCall.writeAll(descriptor, bytes, path: nil) }
        } catch let error as SystemError {
            throw Spool.failed(name, error.code)
        }
    }

    func close() throws {
        if let link = target {
            target = nil
            guard !link.isEmpty else { throw RPCError.client("symlink \"\(name)\" in the multipart body has an empty target") }
            guard symlink(String(decoding: link, as: UTF8.self), path) == 0 else {
                let error = errno
                if error == EEXIST { throw RPCError.client("file name \"\(name)\" is used twice in the multipart body") }
                throw Spool.failed(name, error)
            }
            return
        }
        guard descriptor >= 0 else { return }
        SystemCall.close(descriptor)
        descriptor = -1
    }

    deinit {
        if descriptor >= 0 { SystemCall.close(descriptor) }
    }
}
