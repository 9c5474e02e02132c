import ArgumentParser
import BlockStore
import Foundation
import Multiformats

import CairnSystem

/// `cairn get CID -o PATH`: a UnixFS file, directory (basic or HAMT) or symlink from the store
/// onto disk. Everything is written under a temporary name next to PATH, created with
/// `O_EXCL`/`O_NOFOLLOW` relative to directory descriptors (so nothing is ever written outside
/// it, not even through a symlink the DAG itself created), and renamed to PATH only once
/// complete: an error leaves nothing behind.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Write a UnixFS file, directory or symlink from the store to PATH.")

    @OptionGroup var store: StoreOptions

    @Option(name: [.customShort("o"), .long], help: "Where to write it (must not exist; default: the CID).")
    var output: String?

    @Argument(help: "The CID to get.")
    var cid: String

    static let maxDepth = 256

    func run() async throws {
        let cid = try parseCID(cid)
        let path = output ?? cid.description
        guard !path.isEmpty else { throw CLIError("-o needs a path") }
        var info = stat()
        guard lstat(path, &info) != 0 else { throw CLIError("\(path) already exists") }
        let reader = UnixFSReader(store: try store.open(create: false))
        let url = URL(fileURLWithPath: path)
        let parent = url.deletingLastPathComponent().path
        let temporary = parent + "/.cairn-get-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        do {
            try storeCall {
                switch try reader.kind(of: cid) {
                case .file:
                    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
                    guard fd >= 0 else { throw GetCommand.failure("cannot create", temporary) }
                    defer { close(fd) }
                    try reader.readFile(cid) { try writeAll(fd, $0, name: path) }
                case .directory:
                    guard mkdir(temporary, 0o755) == 0 else { throw GetCommand.failure("cannot create", temporary) }
                    let fd = open(temporary, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    guard fd >= 0 else { throw GetCommand.failure("cannot open", temporary) }
                    defer { close(fd) }
                    try GetCommand.extractDirectory(cid, into: fd, path: path, reader: reader, depth: 0)
                case .symlink(let target):
                    try GetCommand.checkTarget(target, cid: cid)
                    try GetCommand.withCString(target) { target in
                        guard symlink(target, temporary) == 0 else { throw GetCommand.failure("cannot create", temporary) }
                    }
                }
            }
            guard rename(temporary, path) == 0 else { throw GetCommand.failure("cannot rename to", path) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    static func failure(_ what: String, _ path: String) -> CLIError {
        CLIError("\(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// Names that could escape the directory or clobber something are refused outright.
    static func checkName(_ name: [UInt8], in directory: CID) throws {
        let shown = String(decoding: name, as: UTF8.self)
        if name.isEmpty || name == [0x2E] || name == [0x2E, 0x2E] || name.contains(0x2F) || name.contains(0) {
            throw CLIError("refusing unsafe entry name '\(shown)' in directory \(directory)")
        }
    }

    static func checkTarget(_ target: [UInt8], cid: CID) throws {
        if target.isEmpty || target.contains(0) {
            throw CLIError("refusing symlink \(cid): its target is empty or contains NUL")
        }
    }

    static func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    static func extractDirectory(_ cid: CID, into directory: Int32, path: String, reader: UnixFSReader, depth: Int) throws {
        guard depth < maxDepth else { throw CLIError("directory \(cid) is nested more than \(maxDepth) levels deep") }
        try reader.forEachEntry(ofDirectory: cid) { entry in
            try checkName(entry.name, in: cid)
            let childPath = path + "/" + String(decoding: entry.name, as: UTF8.self)
            try withCString(entry.name) { name in
                switch try reader.kind(of: entry.cid) {
                case .file:
                    let fd = openat(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
                    guard fd >= 0 else { throw failure("cannot create", childPath) }
                    defer { close(fd) }
                    try reader.readFile(entry.cid) { try writeAll(fd, $0, name: childPath) }
                case .directory:
                    guard mkdirat(directory, name, 0o755) == 0 else { throw failure("cannot create", childPath) }
                    let fd = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    guard fd >= 0 else { throw failure("cannot open", childPath) }
                    defer { close(fd) }
                    try extractDirectory(entry.cid, into: fd, path: childPath, reader: reader, depth: depth + 1)
                case .symlink(let target):
                    try checkTarget(target, cid: entry.cid)
                    try withCString(target) { target in
                        guard symlinkat(target, directory, name) == 0 else { throw failure("cannot create", childPath) }
                    }
                }
            }
        }
    }
}
