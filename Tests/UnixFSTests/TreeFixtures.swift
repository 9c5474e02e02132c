import CairnTestSupport
import Foundation
import UnixFS
import Blocks

import CairnSystem

/// Builds directory trees for the directory tests in fresh temporary folders.
enum TreeFixtures {
    static func remove(_ url: URL) { try? FileManager.default.removeItem(at: url) }

    /// `python3 shared/vectors/gen-tree.py [--prune-empty] TREE OUTDIR` into `parent/TREE`.
    static func generate(_ tree: String, pruned: Bool, in parent: URL) throws -> URL {
        let out = parent.appendingPathComponent(tree + (pruned ? "-pruned" : ""))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Vectors.directory.appendingPathComponent("gen-tree.py").path]
            + (pruned ? ["--prune-empty"] : []) + [tree, out.path]
        let err = Pipe()
        process.standardError = err
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("gen-tree.py \(tree) failed: \(message)")
        }
        return out
    }

    static func write(_ bytes: [UInt8], to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    static func symlink(_ url: URL, to target: String) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
    }

    /// Sets the permission bits of `url` (no symlinks).
    static func chmod(_ url: URL, _ mode: mode_t) throws {
        guard Glibc.chmod(url.path, mode) == 0 else { throw FixtureError("chmod \(url.path) failed") }
    }

    /// Sets mtime (and atime) of `url` without following a symlink.
    static func setMtime(_ url: URL, seconds: Int, nanoseconds: Int = 0) throws {
        var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
        guard utimensat(AT_FDCWD, url.path, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw FixtureError("utimensat \(url.path) failed")
        }
    }

    /// Imports `url` recursively; returns every entry keyed by its path below the top
    /// (`/` for the top, `/a/b` below it), as the `dirs/*.paths.tsv` files name them.
    static func importTree(_ url: URL, parameters: ImportParameters = .kuboDefault, includeHidden: Bool = false)
        throws -> [String: AddedEntry]
    {
        let importer = try TreeImporter(parameters: parameters, threads: 2, includeHidden: includeHidden)
        var sink = DiscardingSink()
        var entries: [String: AddedEntry] = [:]
        try importer.importPath(url.path, recursive: true, into: &sink) { entry in
            let path = String(decoding: entry.path, as: UTF8.self)
            let relative = path.firstIndex(of: "/").map { String(path[$0...]) } ?? "/"
            entries[relative] = entry
        }
        return entries
    }

    /// One file's root, computed from bytes in memory.
    static func fileRoot(_ bytes: [UInt8], parameters: ImportParameters = .kuboDefault) throws -> ImportResult {
        var sink = DiscardingSink()
        return try FileImporter(parameters: parameters, threads: 1).importBytes(bytes, into: &sink)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// ChaCha20 keystream (RFC 8439 §2.3–2.4, nonce 0, counter from 0): Kubo's test/cli
/// `DeterministicRandomReader` (external-vectors.md §A.3): key = SHA-256(seed text).
struct ChaCha20Stream {
    private var state: [UInt32]
    private var block: [UInt8] = []
    private var offset = 64

    init(seed: String) {
        var sha = TestSHA256()
        sha.update(Array(seed.utf8))
        let key = sha.finalize()
        state = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]
        for i in 0..<8 {
            state.append(UInt32(key[4 * i]) | UInt32(key[4 * i + 1]) << 8 | UInt32(key[4 * i + 2]) << 16 | UInt32(key[4 * i + 3]) << 24)
        }
        state += [0, 0, 0, 0]  // counter, nonce
    }

    mutating func next(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            if offset == 64 { refill() }
            let take = min(64 - offset, count - out.count)
            out += block[offset..<(offset + take)]
            offset += take
        }
        return out
    }

    private mutating func refill() {
        var x = state
        func quarter(_ a: Int, _ b: Int, _ c: Int, _ d: Int) {
            x[a] &+= x[b]; x[d] ^= x[a]; x[d] = (x[d] << 16) | (x[d] >> 16)
            x[c] &+= x[d]; x[b] ^= x[c]; x[b] = (x[b] << 12) | (x[b] >> 20)
            x[a] &+= x[b]; x[d] ^= x[a]; x[d] = (x[d] << 8) | (x[d] >> 24)
            x[c] &+= x[d]; x[b] ^= x[c]; x[b] = (x[b] << 7) | (x[b] >> 25)
        }
        for _ in 0..<10 {
            quarter(0, 4, 8, 12); quarter(1, 5, 9, 13); quarter(2, 6, 10, 14); quarter(3, 7, 11, 15)
            quarter(0, 5, 10, 15); quarter(1, 6, 11, 12); quarter(2, 7, 8, 13); quarter(3, 4, 9, 14)
        }
        block = []
        for i in 0..<16 {
            let word = x[i] &+ state[i]
            block += [UInt8(truncatingIfNeeded: word), UInt8(truncatingIfNeeded: word >> 8),
                      UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 24)]
        }
        state[12] &+= 1
        offset = 0
    }
}
