import CairnSystem
public import Multiformats
import Foundation
import Hashing

/// A set of `CIDKey`s, each with a 64-bit value (the verifier's link-list position; 0 when
/// unused), whose memory does not grow with its size: at most `memoryLimit` keys are
/// kept in memory; past that they are sorted and written as one run to a temporary file
/// (unlinked at once, so nothing outlives the process), with a `KeyFilter` in front so that a
/// key never inserted (the common case) costs no read. A look-up the filter lets through
/// binary-searches each run (spec/car.md, "Memory").
public final class SpillingKeySet {
    /// Keys kept in memory (2 MiB of keys, a 4 MiB hash table); tests lower it with
    /// `CAIRN_TEST_SPILL_KEYS`.
    public static let defaultMemoryLimit = testLimit ?? 1 << 16

    /// Keys kept in memory by the sets of DAG walks (export, fetch, push, the server's
    /// completeness walk): 2^20 (some 48 MiB at most). A walk asks again for every block its DAG
    /// links to more than once, and past the limit each such ask is a search of the runs on
    /// disk: with the limit at 2^16, an export of 75 783 distinct blocks linked a million times
    /// took 8 s against 1.4 s for 60 783. `CAIRN_TEST_SPILL_KEYS` lowers it too.
    public static let walkMemoryLimit = testLimit ?? 1 << 20

    /// `CAIRN_TEST_SPILL_KEYS`, at least 1, when set.
    private static let testLimit = ProcessInfo.processInfo.environment["CAIRN_TEST_SPILL_KEYS"]
        .flatMap { Int($0) }.map { max($0, 1) }

    private let memoryLimit: Int
    private var memory: [CIDKey: UInt64]
    private var filter = KeyFilter()
    private var fd: Int32 = -1
    private var path = ""
    private var runs: [(start: Int64, count: Int)] = []
    private var fileEnd: Int64 = 0
    /// Keys in the set.
    private(set) var count = 0
    /// Reads of the runs (test hook).
    private(set) var diskLookups = 0

    init(memoryLimit: Int = SpillingKeySet.defaultMemoryLimit) {
        self.memoryLimit = memoryLimit
        // Grown as keys come: most sets are small (a DAG walk per pinned root), and a table
        // reserved for the limit cost each one a 4 MiB allocation.
        memory = Dictionary(minimumCapacity: min(memoryLimit, 64))
    }

    deinit { if fd >= 0 { SystemCall.close(fd) } }

    /// Whether some key was written to disk.
    var hasSpilled: Bool { !runs.isEmpty }

    /// Inserts `key` with `value`; false if it was there already (its value is kept).
    func insert(_ key: CIDKey, value: UInt64 = 0) throws -> Bool {
        if try self.value(for: key) != nil { return false }
        memory[key] = value
        count += 1
        if memory.count >= memoryLimit { try spill() }
        return true
    }

    func contains(_ key: CIDKey) throws -> Bool {
        try value(for: key) != nil
    }

    /// The value inserted with `key`, nil if `key` is not in the set.
    func value(for key: CIDKey) throws -> UInt64? {
        if let value = memory[key] ?? recent[key] { return value }
        guard let value = try onDisk(key) else { return nil }
        // A key asked for again and again (a DAG's zero block, linked thousands of times) is
        // searched on disk once, not once per run per ask.
        if recent.count >= Self.recentLimit { recent.removeAll(keepingCapacity: true) }
        recent[key] = value
        return value
    }

    /// Keys lately found on disk, with their values (at most `recentLimit`).
    private var recent: [CIDKey: UInt64] = [:]
    private static let recentLimit = 4096

    /// One spilled entry: the key, then its value (40 bytes on disk).
    private struct Record {
        var key: CIDKey
        var value: UInt64
    }

    private func onDisk(_ key: CIDKey) throws -> UInt64? {
        guard !runs.isEmpty, withUnsafeBytes(of: key, { filter.mayContain($0) }) else { return nil }
        diskLookups += 1
        for run in runs {
            if let value = try search(run, for: key) { return value }
        }
        return nil
    }

    private func search(_ run: (start: Int64, count: Int), for key: CIDKey) throws -> UInt64? {
        var low = 0, high = run.count
        var probe = Record(key: .zero, value: 0)
        let size = MemoryLayout<Record>.stride
        while low < high {
            let middle = (low + high) / 2
            let n = try withUnsafeMutableBytes(of: &probe) { raw in
                try SystemCall.preadFull(fd, UnsafeMutableRawBufferPointer(rebasing: raw[0..<size]), at: run.start + Int64(middle * size), path: path)
            }
            guard n == size else {
                throw SystemError(code: EIO, call: "pread", path: path)
            }
            if probe.key == key { return probe.value }
            if probe.key < key { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// Writes the keys in memory as one sorted run and forgets them.
    private func spill() throws {
        if fd < 0 {
            path = FileManager.default.temporaryDirectory.path + "/cairn-keys-\(getpid())-\(UInt64.random(in: 0 ... .max))"
            fd = try SystemCall.open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
            _ = SystemCall.unlink(path)
        }
        let sorted = memory.map { Record(key: $0.key, value: $0.value) }.sorted { $0.key < $1.key }
        try sorted.withUnsafeBytes { raw in try SystemCall.pwriteAll(fd, raw, at: fileEnd, path: path) }
        for record in sorted { withUnsafeBytes(of: record.key) { filter.insert($0) } }
        runs.append((fileEnd, sorted.count))
        fileEnd += Int64(sorted.count * MemoryLayout<Record>.stride)
        memory.removeAll(keepingCapacity: true)
    }
}

/// A set of CIDs whose memory does not grow with its size (`SpillingKeySet` of their
/// `CIDKey`s): for walks over DAGs of any size that must visit each block once
/// (`PinVerifier` in Engine).
public final class SpillingCIDSet {
    private let keys: SpillingKeySet

    public init(memoryLimit: Int = SpillingKeySet.walkMemoryLimit) {
        keys = SpillingKeySet(memoryLimit: memoryLimit)
    }

    /// Inserts `cid`; false if it was there already.
    public func insert(_ cid: CID) throws -> Bool { try keys.insert(CIDKey(cid)) }

    public func contains(_ cid: CID) throws -> Bool { try keys.contains(CIDKey(cid)) }

    public var count: Int { keys.count }
}
