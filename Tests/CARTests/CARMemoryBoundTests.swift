import CairnTestSupport
import Foundation
import Hashing
import Testing

/// Issue 15, item 14: the memory of reading a pathological CAR is bounded. A 30 MB header of
/// 2.5 million roots took about 17 bytes of memory per header byte (every root a `CID` value,
/// then every root's text); the roots are now kept in their binary form and printed in pieces.
/// A million tiny blocks took 12 bytes per file byte (a `CID` per distinct block, per-block
/// state for a whole 16 MiB buffer at once); now a 32-byte key per block and batches of at
/// most 4096 sections.
/// Peak RSS of the `cairn` process is measured by GNU time (a bound on memory, not a timing).
/// Skipped under a sanitizer: ASan's shadow memory and quarantine (TSan's shadow too) multiply
/// peak RSS by design, so the bounds hold for the plain build only.
@Suite(.disabled(if: Sanitizer.active != nil, "peak RSS under a sanitizer is not the program's"))
struct CARMemoryBoundTests {
    /// Runs `cairn ARGUMENTS` under GNU time (Debian package `time`), stdout and stderr on
    /// /dev/null; returns its exit status and peak RSS in bytes (`%M`, the child's ru_maxrss).
    /// GNU time forks a small process to exec cairn; spawning cairn straight from this big test
    /// process would charge the test's own peak to the child (Linux carries `maxrss` across
    /// the exec of a vfork child).
    static func peakRSS(_ arguments: [String], report: String) throws -> (status: Int32, bytes: Int)? {
        let time = URL(fileURLWithPath: "/usr/bin/time")
        guard FileManager.default.isExecutableFile(atPath: time.path) else { return nil }
        let binary = try #require(CairnProcess.binary)
        let process = Process()
        process.executableURL = time
        process.arguments = ["-f", "%M", "-o", report, binary.path] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = try String(contentsOfFile: report, encoding: .utf8)
        let kilobytes = try #require(text.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        return (process.terminationStatus, kilobytes * 1024)
    }

    /// A CARv1 whose header lists `count` identity roots (12 bytes each in the header) and that
    /// holds one raw block.
    static func manyRootsCAR(count: Int, to path: String) throws {
        var header: [UInt8] = [0xa2, 0x65] + Array("roots".utf8) + [0x9a]
        header += withUnsafeBytes(of: UInt32(count).bigEndian, Array.init)
        header.reserveCapacity(header.count + 12 * count + 16)
        for i in 0..<count {
            // tag 42, bytes(9): 0x00, CIDv1 raw identity of 4 bytes
            header += [0xd8, 0x2a, 0x49, 0x00, 0x01, 0x55, 0x00, 0x04]
            header += withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
        }
        header += [0x67] + Array("version".utf8) + [0x01]
        var car = varint(header.count) + header
        // One raw identity block as the only section: 8-byte CID + 4 bytes of data.
        let block: [UInt8] = [0x01, 0x55, 0x00, 0x04, 0, 0, 0, 7, 0, 0, 0, 7]
        car += varint(block.count) + block
        try Data(car).write(to: URL(fileURLWithPath: path))
    }

    static func varint(_ value: Int) -> [UInt8] {
        var value = UInt64(value), out: [UInt8] = []
        while value >= 0x80 { out.append(UInt8(value & 0x7f) | 0x80); value >>= 7 }
        out.append(UInt8(value))
        return out
    }

    @Test func aHeaderOfMillionsOfRootsStaysSmall() throws {
        let directory = try makeTemporaryDirectory("car-many-roots")
        defer { try? FileManager.default.removeItem(at: directory) }
        let car = directory.appendingPathComponent("roots.car").path
        let count = 2_500_000
        try Self.manyRootsCAR(count: count, to: car)
        let size = try FileManager.default.attributesOfItem(atPath: car)[.size] as! Int
        #expect(size > 29_000_000 && size < 32 << 20)
        guard let (status, peak) = try Self.peakRSS(["car", "verify", car], report: directory.appendingPathComponent("rss").path) else {
            Issue.record("no /usr/bin/time (Debian package `time`): cannot measure the peak RSS")
            return
        }
        #expect(status == 0)
        // Before: about 17× the file (503 MB measured with today's main), then 4×. Now the read
        // buffer and the binary, whatever the number of roots (issue 15's target: 64 MiB).
        #expect(peak < 64 << 20, "peak RSS \(peak / 1_000_000) MB for a \(size / 1_000_000) MB header")
    }

    @Test func aMillionTinyBlocksStaySmall() throws {
        let directory = try makeTemporaryDirectory("car-tiny-blocks")
        defer { try? FileManager.default.removeItem(at: directory) }
        let car = directory.appendingPathComponent("tiny.car").path
        let count = 1_000_000
        var payload: [UInt8] = []
        payload.reserveCapacity(42 * count)
        var first: [UInt8] = []
        for i in 0..<count {
            let data = withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
            let cid = [0x01, 0x55, 0x12, 0x20] + HashAlgorithm.sha2_256.hash(data).bytes
            if i == 0 { first = cid }
            payload += Self.varint(cid.count + data.count) + cid + data
        }
        let header: [UInt8] = [0xa2, 0x65] + Array("roots".utf8) + [0x81, 0xd8, 0x2a, 0x58, UInt8(first.count + 1), 0x00]
            + first + [0x67] + Array("version".utf8) + [0x01]
        try Data(Self.varint(header.count) + header + payload).write(to: URL(fileURLWithPath: car))
        let size = payload.count
        for arguments in [["car", "verify", car], ["car", "verify", "--complete", car]] {
            guard let (status, peak) = try Self.peakRSS(arguments, report: directory.appendingPathComponent("rss").path) else {
                Issue.record("no /usr/bin/time (Debian package `time`): cannot measure the peak RSS")
                return
            }
            #expect(status == 0)
            // Before: 491 MB for this 41 MB CAR with today's main, then 145 MB. Now the read
            // buffer, 65 536 keys and a Bloom filter, whatever the block count (target: 64 MiB).
            #expect(peak < 64 << 20, "\(arguments): peak RSS \(peak / 1_000_000) MB for \(size / 1_000_000) MB of sections")
        }
    }

    /// A CARv2 (MultihashIndexSorted index) holding a chain of `count` dag-pb nodes of one link
    /// each, down to one raw block, the top node first (as `scripts/pathological-car.py chain`).
    static func chainCAR(count: Int, to path: String) throws {
        func cid(_ prefix: [UInt8], _ bytes: [UInt8]) -> [UInt8] { prefix + HashAlgorithm.sha2_256.hash(bytes).bytes }
        let leaf = withUnsafeBytes(of: UInt64(count).bigEndian, Array.init)
        var child = cid([0x01, 0x55, 0x12, 0x20], leaf)
        var sections: [([UInt8], [UInt8])] = [(child, leaf)]
        sections.reserveCapacity(count + 1)
        for _ in 0..<count {
            let link: [UInt8] = [0x0a] + varint(child.count) + child
            let node: [UInt8] = [0x12] + varint(link.count) + link
            child = cid([0x01, 0x70, 0x12, 0x20], node)
            sections.append((child, node))
        }
        sections.reverse()
        let header: [UInt8] = [0xa2, 0x65] + Array("roots".utf8) + [0x81, 0xd8, 0x2a, 0x58, UInt8(child.count + 1), 0x00]
            + child + [0x67] + Array("version".utf8) + [0x01]
        var payload = varint(header.count) + header
        var entries: [([UInt8], UInt64)] = []
        for (cid, data) in sections {
            entries.append((Array(cid[4...]), UInt64(payload.count)))
            payload += varint(cid.count + data.count) + cid + data
        }
        entries.sort { $0.0.lexicographicallyPrecedes($1.0) }
        func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        var index = varint(0x0401) + le(UInt32(1)) + le(UInt64(0x12)) + le(UInt32(1)) + le(UInt32(40)) + le(UInt64(40 * entries.count))
        for (digest, offset) in entries { index += digest + le(offset) }
        let pragma: [UInt8] = [0x0a, 0xa1, 0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x02]
        let dataOffset = UInt64(pragma.count + 40)
        let v2Header = [UInt8](repeating: 0, count: 16) + le(dataOffset) + le(UInt64(payload.count)) + le(dataOffset + UInt64(payload.count))
        try Data(pragma + v2Header + payload + index).write(to: URL(fileURLWithPath: path))
    }

    /// Issue 15, item 14, the rest: the links `--complete` follows and the sections the CARv2
    /// index check matches were kept per block in memory (about 540 bytes per node of this
    /// chain: 160 MB for 300 000 nodes); they now spill past a bound (spec/car.md, "Memory").
    @Test func aLongChainWithAnIndexStaysSmall() throws {
        let directory = try makeTemporaryDirectory("car-chain")
        defer { try? FileManager.default.removeItem(at: directory) }
        let car = directory.appendingPathComponent("chain.car").path
        let count = 300_000
        try Self.chainCAR(count: count, to: car)
        let size = try FileManager.default.attributesOfItem(atPath: car)[.size] as! Int
        guard let (status, peak) = try Self.peakRSS(["car", "verify", "--complete", car], report: directory.appendingPathComponent("rss").path) else {
            Issue.record("no /usr/bin/time (Debian package `time`): cannot measure the peak RSS")
            return
        }
        #expect(status == 0)
        // Measured: 68.4 MiB (before: 168.5 MiB with today's main). The issue's 64 MiB target is
        // not met yet for this CAR: five bounded structures (two key sets, two Bloom filters,
        // the link buffer, the section records) add up on top of the read buffer.
        #expect(peak < 80 << 20, "peak RSS \(peak / 1_000_000) MB for a \(size / 1_000_000) MB chain of \(count) nodes")
    }
}
