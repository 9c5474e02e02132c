public import Multiformats
public import UnixFS
public import CAR
public import BlockStore
import Blocks
import Foundation

/// What to add: a path (a file, a symlink, or with `recursive` a directory), or standard input.
public enum AddInput: Hashable, Sendable {
    case path(String)
    case standardInput
}

/// Where the added blocks go.
public enum AddDestination: Sendable {
    /// The block store: each input committed durably and its root pinned (unless `pin` is
    /// false) before its events are delivered.
    case store(BlockStore, pin: Bool = true, pinName: String? = nil)
    /// A CAR file (one root), in place only when complete; events wait for it.
    case car(path: String, format: CARFormat = .v1)
    /// Nowhere: only the CIDs are computed (`--only-hash`).
    case nothing
}

/// One `added` event: what `ipfs add` prints one line for.
public struct AddEvent: Hashable, Sendable {
    /// The entry's path as printed (relative to the argument's parent); nil for standard input
    /// added without a name (Kubo then prints its CID as the name).
    public var path: [UInt8]?
    public var kind: AddedKind
    public var result: ImportResult
}

/// The walk settings: `recursive`, hidden files, ignore rules, empty directories, symlinks.
public struct WalkSettings: Sendable {
    public var recursive: Bool
    public var hidden: Bool
    public var emptyDirectories: Bool
    public var ignore: IgnoreRules
    public var symlinks: SymlinkPolicy

    public init(recursive: Bool = false, hidden: Bool = false, emptyDirectories: Bool = true,
                ignore: IgnoreRules = IgnoreRules(), symlinks: SymlinkPolicy = .store) {
        self.recursive = recursive
        self.hidden = hidden
        self.emptyDirectories = emptyDirectories
        self.ignore = ignore
        self.symlinks = symlinks
    }
}

/// `ipfs add` as a library call (spec/engine.md): walk, import, deliver the blocks, commit and
/// pin, and report Kubo's ordered `added` events — files as added, then the directories of the
/// same unit (one input, or all of them with `wrap`), children before parents, the wrapper last.
public struct Adder: Sendable {
    public var parameters: ImportParameters
    public var threads: Int?
    public var walk: WalkSettings
    /// Wrap every input in one directory (`-w`), added, committed and pinned last.
    public var wrap = false
    /// The name of standard input (its link name under `wrap`, and the printed path).
    public var standardInputName: String?
    /// Called with each input's display name; returns the importer's progress callback.
    public var progress: (@Sendable (String) -> (@Sendable (UInt64) -> Void))?

    public init(parameters: ImportParameters, threads: Int? = nil, walk: WalkSettings = WalkSettings()) {
        self.parameters = parameters
        self.threads = threads
        self.walk = walk
    }

    /// The checks `add` makes before any work, for callers that want them before opening the
    /// destination: some inputs; a name for standard input under `wrap`; one root for a CAR.
    public func check(_ inputs: [AddInput], toCAR: Bool) throws {
        guard !inputs.isEmpty else { throw EngineError(.invalidInput, "nothing was added") }
        if wrap && inputs.contains(.standardInput) && standardInputName == nil {
            throw EngineError(.invalidInput, "-w with standard input needs --stdin-name (the name of its link)")
        }
        if toCAR && inputs.count != 1 && !wrap {
            throw EngineError(.invalidInput, "--car writes one DAG: give one path, or wrap several with -w")
        }
        // Every path is there before anything is added, as Kubo opens its arguments first: a
        // missing last path must not leave the earlier ones added and pinned.
        for case .path(let path) in inputs {
            var info = stat()
            guard lstat(path, &info) == 0 else {
                throw EngineError(.invalidInput, "cannot open \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Adds `inputs` to `destination`, calling `events` in Kubo's order; returns the last root
    /// (the wrapper's with `wrap`). An error stops the add: with the store, the inputs whose
    /// events were delivered stay committed, nothing else; with a CAR, nothing is left.
    @discardableResult
    public func add(_ inputs: [AddInput], to destination: AddDestination, events: (AddEvent) throws -> Void) throws -> CID {
        if case .car = destination { try check(inputs, toCAR: true) } else { try check(inputs, toCAR: false) }
        let importer = try FileImporter(parameters: parameters, threads: threads)
        return try withoutActuallyEscaping(events) { events in
            try add(inputs, importer: importer, to: destination, events: events)
        }
    }

    private func add(
        _ inputs: [AddInput], importer: FileImporter, to destination: AddDestination, events: @escaping (AddEvent) throws -> Void
    ) throws -> CID {
        switch destination {
        case .nothing:
            var sink = DiscardingSink()
            var run = AddRun(adder: self, importer: importer, session: nil, events: events)
            return try run.addAll(inputs, into: &sink)
        case .store(let store, let pin, let pinName):
            let session = try AddStoreSession(store: store, pin: pin, pinName: pinName)
            defer { session.abandon() }
            var sink = AddStoreSink(writer: session.writer)
            var run = AddRun(adder: self, importer: importer, session: session, events: events)
            let root = try run.addAll(inputs, into: &sink)
            try session.close()
            return root
        case .car(let path, let format):
            // The events wait until the CAR is in place: an event promises the CAR holds it.
            var held: [AddEvent] = []
            let root = try CAROutputFile(path: path).write { out in
                var sink = try CARBlockSink(output: out, format: format, placeholderRoot: parameters.placeholderRoot)
                var run = AddRun(adder: self, importer: importer, session: nil) { held.append($0) }
                let root = try run.addAll(inputs, into: &sink)
                try sink.finish(root: root)
                return root
            }
            try held.forEach(events)
            return root
        }
    }
}

/// One `add` call's state: the directories held until the end of their unit, the wrapper's
/// entries.
private struct AddRun {
    let adder: Adder
    let importer: FileImporter
    let session: AddStoreSession?
    let events: (AddEvent) throws -> Void
    var pendingDirectories: [AddEvent] = []

    init(adder: Adder, importer: FileImporter, session: AddStoreSession?, events: @escaping (AddEvent) throws -> Void) {
        self.adder = adder
        self.importer = importer
        self.session = session
        self.events = events
    }

    mutating func addAll<Sink: BlockSink>(_ inputs: [AddInput], into sink: inout Sink) throws -> CID {
        let parameters = adder.parameters
        // Standard input has no stat: only custom --mode/--mtime apply to it.
        let stdinMetadata = parameters.metadata.metadata(isSymlink: false, permissions: nil, mtime: nil)
        var wrapped: [DirectoryEntry] = []
        var names = Set<[UInt8]>()
        var last: CID?
        for input in inputs {
            var files = importer
            let label: String
            switch input {
            case .standardInput: label = adder.standardInputName ?? "stdin"
            case .path(let path): label = String(decoding: TreeImporter.lastComponent(of: path), as: UTF8.self)
            }
            files.progress = adder.progress?(label)
            // Files now (or after the commit), directories at the end of the unit.
            var ready: [AddEvent] = []
            let top: AddedEntry
            switch input {
            case .standardInput:
                let result = try files.importFile(atPath: "-", into: &sink, metadata: stdinMetadata)
                let name = adder.standardInputName.map { Array($0.utf8) }
                ready.append(AddEvent(path: name, kind: .file, result: result))
                top = AddedEntry(path: name ?? [], kind: .file, result: result)
            case .path(let path):
                var tree = try TreeImporter(files: files, includeHidden: adder.walk.hidden)
                tree.ignoreRules = adder.walk.ignore
                tree.includeEmptyDirectories = adder.walk.emptyDirectories
                tree.symlinks = adder.walk.symlinks
                let deliverNow = session == nil
                var pending = pendingDirectories
                top = try tree.importPath(path, recursive: adder.walk.recursive, into: &sink) { entry in
                    let event = AddEvent(path: entry.path, kind: entry.kind, result: entry.result)
                    if entry.kind == .directory {
                        pending.append(event)
                    } else if deliverNow {
                        try events(event)
                    } else {
                        ready.append(event)
                    }
                }
                pendingDirectories = pending
            }
            last = top.result.root
            if let session { try session.commit(root: top.result.root, pinning: !adder.wrap) }
            try ready.forEach(events)
            if adder.wrap {
                guard names.insert(top.name).inserted else {
                    let shown = String(decoding: top.name, as: UTF8.self).unicodeScalars.map { $0.escaped(asASCII: false) }.joined()
                    throw EngineError(.invalidInput, "cannot wrap two entries named '\(shown)'")
                }
                wrapped.append(DirectoryEntry(name: top.name, cid: top.result.root, tsize: top.result.size))
            } else {
                try flushDirectories()
            }
        }
        if adder.wrap {
            let builder = try DirectoryBuilder(parameters: parameters)
            let wrapper = try builder.build(wrapped, metadata: stdinMetadata, into: &sink)
            try session?.commit(root: wrapper.root, pinning: true)
            pendingDirectories.append(AddEvent(path: [], kind: .directory, result: wrapper))
            last = wrapper.root
        }
        try flushDirectories()
        guard let last else { throw EngineError(.invalidInput, "nothing was added") }
        return last
    }

    private mutating func flushDirectories() throws {
        let directories = pendingDirectories
        pendingDirectories.removeAll()
        try directories.forEach(events)
    }
}
