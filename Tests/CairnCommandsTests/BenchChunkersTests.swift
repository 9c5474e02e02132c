import CairnTestSupport
import Foundation
import Testing

/// `cairn bench chunkers` through the built binary: known answers, agreement with `cairn chunk`
/// and `cairn add`, the three outputs, bad input (spec/cli.md, "`cairn bench chunkers`").
@Suite final class BenchChunkersTests {
    let directory: URL

    init() throws {
        directory = try makeTemporaryDirectory("bench-chunkers")
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    static let contentDefined = ["rabin", "buzhash", "fastcdc-16384-65536-262144", "fastcdc"]
    static let fixed = ["size-262144", "size-1048576"]

    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// The JSON lines of a run, each as a dictionary.
    static func rows(_ arguments: [String]) throws -> [[String: Any]] {
        let run = try CairnProcess.run(["bench", "chunkers", "--json"] + arguments)
        try #require(run.status == 0, "\(run.stderr)")
        return try run.stdoutText.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func int(_ row: [String: Any], _ key: String) -> Int { (row[key] as? NSNumber)?.intValue ?? -1 }

    static func row(_ rows: [[String: Any]], input: String, chunker: String) -> [String: Any]? {
        rows.first { $0["input"] as? String == input && ($0["chunker"] as? String)?.hasPrefix(chunker) == true }
    }

    // MARK: - Known answers

    /// One byte inserted at the front: fixed-size chunks all shift (nothing shared), content-
    /// defined chunkers find their cut points again after the first chunk.
    @Test func oneByteInsertedAtTheFront() throws {
        let original = SplitMix64.bytes(seed: 14, count: 32 << 20)
        let a = try file("v1", original)
        let b = try file("v2", [0x5A] + original)
        let rows = try Self.rows(["--versions", a, b])
        #expect(rows.count == 12)
        for chunker in Self.fixed + Self.contentDefined {
            let row = try #require(Self.row(rows, input: b, chunker: chunker == "rabin" ? "rabin-" : chunker == "fastcdc" ? "fastcdc-65536-262144-1048576" : chunker))
            let shared = Double(Self.int(row, "seen_bytes")) / Double(Self.int(row, "bytes"))
            if Self.fixed.contains(chunker) {
                #expect(shared < 0.01, "\(chunker): \(shared)")
            } else {
                #expect(shared >= 0.95, "\(chunker): \(shared)")
            }
            #expect(Self.int(row, "bytes") == original.count + 1)
            #expect(Self.int(row, "new_bytes") == Self.int(row, "bytes") - Self.int(row, "seen_bytes"), "random data repeats no chunk")
        }
    }

    /// Zeros: every chunker cuts the same chunk again and again (at its maximum, or its fixed
    /// size), so all but the first chunk and the tail repeat.
    @Test func zerosDeduplicateAlmostEntirely() throws {
        let zeros = try file("zeros", [UInt8](repeating: 0, count: 32 << 20))
        for row in try Self.rows([zeros]) {
            let dedup = 1 - Double(Self.int(row, "unique_bytes")) / Double(Self.int(row, "bytes"))
            #expect(dedup >= 0.95, "\(row["chunker"]!): \(dedup)")
            #expect(Self.int(row, "seen_bytes") == 0, "one input: nothing earlier")
        }
    }

    /// A random file against itself: the second version is entirely known, uploads nothing.
    @Test func randomAgainstItself() throws {
        let random = try file("random", SplitMix64.bytes(seed: 7, count: 6 << 20))
        let rows = try Self.rows(["--versions", random, random])
        #expect(rows.count == 12)
        for (index, row) in rows.enumerated() {
            let bytes = Self.int(row, "bytes")
            if index < 6 {
                #expect(Self.int(row, "unique_bytes") == bytes && Self.int(row, "new_bytes") == bytes, "\(row)")
            } else {
                #expect(Self.int(row, "seen_bytes") == bytes && Self.int(row, "new_bytes") == 0, "\(row)")
            }
        }
    }

    // MARK: - Agreement with `cairn chunk` and `cairn add`

    /// Chunk counts and sizes agree with `cairn chunk` (its list and its --stats), and the DAG
    /// size with the Size `cairn add --json -n` prints, for a file and for a directory.
    @Test func figuresAgreeWithChunkAndAdd() throws {
        let single = try file("single", SplitMix64.bytes(seed: 3, count: 5 << 20 + 123))
        let tree = directory.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let parts = [("b", SplitMix64.bytes(seed: 4, count: 1 << 20)), ("sub/a", SplitMix64.bytes(seed: 5, count: 3 << 20 + 7)),
                     ("a", [UInt8](repeating: 9, count: 700_000)), (".hidden", SplitMix64.bytes(seed: 6, count: 1000))]
        for (name, bytes) in parts { try Data(bytes).write(to: tree.appendingPathComponent(name)) }
        let walked = ["a", "b", "sub/a"].map { tree.appendingPathComponent($0).path }
        let specs = ["size-262144", "rabin-16384-65536-131072", "buzhash", "fastcdc-16384-65536-262144-2"]
        let rows = try Self.rows(["--chunkers", specs.joined(separator: ","), single, tree.path])
        #expect(rows.count == 8)
        for spec in specs {
            // The single file: count, mean, stddev, min, max from --stats; percentiles from the list.
            let row = try #require(Self.row(rows, input: single, chunker: spec))
            let stats = try CairnProcess.run(["chunk", "--chunker", spec, "--stats", "--json", single])
            let expected = try #require(try JSONSerialization.jsonObject(with: stats.stdout) as? [String: Any])
            #expect(Self.int(row, "chunks") == Self.int(expected, "count"))
            #expect(Self.int(row, "bytes") == Self.int(expected, "bytes"))
            for key in ["min", "max"] { #expect(Self.int(row, key) == Self.int(expected, key), "\(spec) \(key)") }
            for key in ["mean", "stddev"] {
                #expect((row[key] as? NSNumber)?.doubleValue == (expected[key] as? NSNumber)?.doubleValue, "\(spec) \(key)")
            }
            let lengths = try Self.lengths(spec, single).sorted()
            for percent in [5, 50, 95] {
                #expect(Self.int(row, "p\(percent)") == lengths[(lengths.count * percent + 99) / 100 - 1], "\(spec) p\(percent)")
            }
            #expect(Self.int(row, "dag_bytes") == (try Self.addSize(spec, single)), "\(spec)")

            // The directory: the files add -r walks (hidden one skipped), in its order.
            let dir = try #require(Self.row(rows, input: tree.path, chunker: spec))
            let treeLengths = try walked.flatMap { try Self.lengths(spec, $0) }
            #expect(Self.int(dir, "chunks") == treeLengths.count, "\(spec)")
            #expect(Self.int(dir, "bytes") == treeLengths.reduce(0, +), "\(spec)")
            #expect(Self.int(dir, "dag_bytes") == (try Self.addSize(spec, tree.path, recursive: true)), "\(spec)")
        }
    }

    /// The chunk lengths `cairn chunk` lists.
    static func lengths(_ spec: String, _ path: String) throws -> [Int] {
        let run = try CairnProcess.run(["chunk", "--chunker", spec, path])
        try #require(run.status == 0)
        return run.stdoutText.split(separator: "\n").map { Int($0.split(separator: " ")[1])! }
    }

    /// The Size of the last line `cairn add -n --json` prints (the argument's root).
    static func addSize(_ spec: String, _ path: String, recursive: Bool = false) throws -> Int {
        let run = try CairnProcess.run(["add", "-n", "--json", "--chunker", spec] + (recursive ? ["-r"] : []) + [path])
        try #require(run.status == 0, "\(run.stderr)")
        let last = try #require(run.stdoutText.split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        return Int(try #require(object["Size"] as? String))!
    }

    // MARK: - Outputs and errors

    /// CSV has the JSON keys as its header and the same values; the table marks a best value.
    @Test func csvAndTableCarryTheSameFigures() throws {
        let input = try file("input", SplitMix64.bytes(seed: 8, count: 2 << 20))
        let chunkers = ["--chunkers", "size-262144,fastcdc-4096-16384-65536-0"]
        let rows = try Self.rows(chunkers + [input])
        let csv = try CairnProcess.run(["bench", "chunkers", "--csv"] + chunkers + [input])
        #expect(csv.status == 0)
        let lines = csv.stdoutText.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(lines.count == 3)
        let header = lines[0]
        for key in ["input", "chunker", "bytes", "chunks", "mean", "stddev", "p5", "p50", "p95", "min", "max",
                    "unique_bytes", "seen_bytes", "dag_bytes", "chunk_mb_s", "add_mb_s"] {
            #expect(header.contains(key), "\(key)")
        }
        for (line, row) in zip(lines.dropFirst(), rows) {
            for (key, value) in zip(header, line) where !["chunk_mb_s", "add_mb_s"].contains(key) {
                #expect("\(row[key]!)" == value || (row[key] as? NSNumber)?.doubleValue == Double(value), "\(key)")
            }
        }
        let table = try CairnProcess.run(["bench", "chunkers"] + chunkers + [input])
        #expect(table.status == 0)
        #expect(table.stdoutText.contains("fastcdc-4096-16384-65536-0") && table.stdoutText.contains("*"))
        #expect(table.stderr.isEmpty, "no progress when stderr is not a terminal")
    }

    @Test func badInputIsOneLineAndNoReport() throws {
        let report = directory.appendingPathComponent("report.html").path
        let missing = try CairnProcess.run(["bench", "chunkers", "--html", report, directory.appendingPathComponent("nope").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("Error: ") && missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: report))
        let input = try file("x", [1, 2, 3])
        for arguments in [["--chunkers", "size-0"], ["--sweep", "fastcdc:avg=3K..8K"], ["--sweep", "wobble=1..2"], ["--json", "--csv"]] {
            let run = try CairnProcess.run(["bench", "chunkers"] + arguments + [input])
            #expect(run.status == 64, "\(arguments): \(run.stderr)")
        }
    }

    // MARK: - Interruption

    /// SIGINT once progress shows: the run stops with 130 and `Error: interrupted`, the row
    /// finished before (the first input) is printed as one complete JSON line, the report is a
    /// complete page written from it, and no temporary file is left. The second input is a
    /// FIFO fed without end, so the run cannot finish before the signal.
    @Test func interruptWritesWhatWasMeasured() throws {
        let first = try file("first", SplitMix64.bytes(seed: 21, count: 3 << 20))
        let fifo = directory.appendingPathComponent("endless").path
        try #require(mkfifo(fifo, 0o600) == 0)
        let report = directory.appendingPathComponent("report.html").path
        let output = directory.appendingPathComponent("out.json")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        signal(SIGPIPE, SIG_IGN)
        let feeding = Feeder(path: fifo)
        defer { feeding.stop() }

        let process = Process()
        process.executableURL = try #require(CairnProcess.binary)
        process.arguments = ["bench", "chunkers", "--json", "--progress", "--threads", "1", "--chunkers", "size-65536",
                             "--html", report, first, fifo]
        process.standardOutput = try FileHandle(forWritingTo: output)
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        var stderr = ""
        while !stderr.contains("measuring:") {
            let data = errors.fileHandleForReading.availableData
            if data.isEmpty { break }
            stderr += String(decoding: data, as: UTF8.self)
        }
        try #require(stderr.contains("measuring:"), "\(stderr)")
        process.interrupt()
        stderr += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        feeding.stop()

        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.hasSuffix("Error: interrupted\n"), "\(stderr)")
        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines.last == "", "\(lines)")
        let row = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(row["input"] as? String == first && row["chunker"] as? String == "size-65536")
        #expect(Self.int(row, "bytes") == 3 << 20 && Self.int(row, "chunks") == 48)
        let page = try String(contentsOfFile: report, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.hasSuffix("</html>\n"))
        #expect(page.contains("data-chunker=\"size-65536\""))
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(left == ["endless", "first", "out.json", "report.html"], "\(left)")
    }

    /// Writes to a FIFO until stopped, waiting a little whenever no reader has it open.
    final class Feeder: @unchecked Sendable {
        let path: String
        private let lock = NSLock()
        private var stopped = false

        init(path: String) {
            self.path = path
            Thread.detachNewThread { [self] in feed() }
        }

        private func feed() {
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { return }
            defer { close(fd) }
            let bytes = SplitMix64.bytes(seed: 22, count: 1 << 16)
            while !isStopped {
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 { usleep(1000) }
            }
        }

        var isStopped: Bool { lock.withLock { stopped } }

        func stop() {
            lock.withLock { stopped = true }
            // A writer still waiting in open() for a reader is released by one that comes and goes.
            let fd = open(path, O_RDONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
    }
}
