import ArgumentParser
import Chunking

import CairnSystem

/// `cairn chunk [--chunker SPEC] [--threads N] [--stats] [--json] FILE|-`: the chunk boundaries of a file.
///
/// Default output is one `OFFSET LENGTH` line per chunk (decimal), the format of
/// `shared/vectors/chunks/*.txt`. `--stats` prints a summary instead; `--json` switches either to
/// JSON.
public struct ChunkCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "chunk",
        abstract: "Print the chunk boundaries of a file as Kubo's --chunker would cut it.",
        discussion: """
            SPEC is one of: size-N, rabin, rabin-AVG, rabin-MIN-AVG-MAX, buzhash, fastcdc, \
            fastcdc-AVG, fastcdc-MIN-AVG-MAX, fastcdc-MIN-AVG-MAX-NC (see spec/chunking.md).
            """
    )

    @Option(name: [.short, .long], help: "The chunker spec, as Kubo's --chunker.")
    public var chunker: String = ChunkerSpec.kuboDefault.description

    @Flag(help: "Print the chunk count, mean, standard deviation, minimum and maximum instead of the list.")
    public var stats = false

    @Flag(help: "Print JSON.")
    public var json = false

    @Option(help: "Threads cutting a regular file at once (the parallel chunker: the same cuts); default: the processors available.")
    public var threads: Int?

    @Flag(help: "After the output, print the parallel chunker's own figures to stderr (regular files only).")
    public var parallelStats = false

    @Argument(help: "The file to chunk, or - for standard input.")
    public var file: String

    public init() {}

    public func validate() throws {
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be from 1 to 1024") }
    }

    /// The parsed arguments as plain values.
    package var arguments: Arguments {
        Arguments(chunker: chunker, stats: stats, json: json, threads: threads, parallelStats: parallelStats, file: file)
    }

    public func run() throws { try Self.run(arguments) }

    /// The command's arguments as plain values: what ``run(_:)`` needs, whether they came from
    /// ArgumentParser or from ``quickArguments(_:)``.
    package struct Arguments: Equatable, Sendable {
        package var chunker = ChunkerSpec.kuboDefault.description
        package var stats = false
        package var json = false
        package var threads: Int?
        package var parallelStats = false
        package var file = ""

        package init(chunker: String = ChunkerSpec.kuboDefault.description, stats: Bool = false, json: Bool = false,
                     threads: Int? = nil, parallelStats: Bool = false, file: String = "") {
            self.chunker = chunker
            self.stats = stats
            self.json = json
            self.threads = threads
            self.parallelStats = parallelStats
            self.file = file
        }
    }

    /// The arguments after `chunk` read without ArgumentParser, for the forms people and scripts
    /// type: `--chunker SPEC`, `--chunker=SPEC`, `-c SPEC`, `--threads N`, `--threads=N`
    /// (N ≥ 1, digits only), `--stats`, `--json`, `--parallel-stats`, each at most once, and one
    /// FILE (`-` or a path not starting with `-`), in any order. Anything else (help, version,
    /// `--`, an unknown or repeated option, a bad value, a second FILE, `help`) gives nil and
    /// the caller parses with ArgumentParser, whose messages stay the only ones users see.
    /// Why: ArgumentParser builds the whole command tree by reflection first, about a third of a
    /// small `cairn chunk` run's CPU time and serial time before the chunk threads can start
    /// (spec/chunking.md, "Start-up"). `ChunkCommandTests` checks that wherever this answers, it
    /// answers as ArgumentParser does.
    package static func quickArguments(_ words: [String]) -> Arguments? {
        var result = Arguments()
        var seen: Set<String> = []
        var file: String?
        var i = 0
        func value(_ word: String) -> String? {
            guard !word.hasPrefix("-") else { return nil }
            return word
        }
        while i < words.count {
            let word = words[i]
            i += 1
            var name = word
            var inline: String?
            if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                inline = String(word[word.index(after: equals)...])
            }
            if name == "-c" { name = "--chunker" }
            guard word == "-" || !word.hasPrefix("-") else {
                guard seen.insert(name).inserted else { return nil }
                switch name {
                case "--chunker", "--threads":
                    let given: String
                    if let inline {
                        guard !inline.isEmpty else { return nil }
                        given = inline
                    } else {
                        guard i < words.count, let next = value(words[i]) else { return nil }
                        given = next
                        i += 1
                    }
                    if name == "--chunker" {
                        result.chunker = given
                    } else {
                        guard given.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                              let threads = Int(given), threads >= 1 else { return nil }
                        result.threads = threads
                    }
                case "--stats" where inline == nil: result.stats = true
                case "--json" where inline == nil: result.json = true
                case "--parallel-stats" where inline == nil: result.parallelStats = true
                default: return nil
                }
                continue
            }
            guard file == nil, word != "help" else { return nil }
            file = word
        }
        guard let file else { return nil }
        result.file = file
        return result
    }

    package static func run(_ arguments: Arguments) throws {
        let file = arguments.file
        let spec: ChunkerSpec
        do {
            spec = try ChunkerSpec(parsing: arguments.chunker)
        } catch {
            writeErrorLine(error.description)
            throw ExitCode.validationFailure
        }
        let fd: Int32
        if file == "-" {
            fd = 0
        } else {
            if let kind = InputFile.specialKind(file) {
                writeErrorLine("\(file) is \(kind), not a regular file (to read it, pipe it to standard input: -)")
                throw ExitCode.failure
            }
            if InputFile.isDirectory(file) {
                writeErrorLine("\(file) is a directory: cairn chunk cuts one file")
                throw ExitCode.failure
            }
            fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                writeErrorLine("cannot open \(file): \(String(cString: strerror(errno)))")
                throw ExitCode.failure
            }
        }
        defer { if fd != 0 { close(fd) } }
        var output = OutputBuffer()
        do {
            // A regular file is cut in place from a memory map (no copy); anything else streams.
            var info = stat()
            let regular = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
            let size = Int(info.st_size)
            let mapped = try regular ? MappedFile.withMapping(fd, size: size) { region in
                try Self.render(spec: spec, region: region, threads: Processors.threads(arguments.threads), stats: arguments.stats, json: arguments.json, into: &output)
            } : nil
            if let mapped, arguments.parallelStats { Self.printStatistics(mapped.result) }
            if let mapped {
                var after = stat()
                if mapped.damaged || fstat(fd, &after) != 0 || Int(after.st_size) != size {
                    writeErrorLine("\(file): changed size while it was being read")
                    throw ExitCode.failure
                }
            } else {
                var source = FileDescriptorSource(fileDescriptor: fd)
                try Self.render(spec: spec, source: &source, stats: arguments.stats, json: arguments.json, into: &output)
            }
            try output.flush()
        } catch let error as ChunkingError {
            writeErrorLine("\(file == "-" ? "standard input" : file): \(error.description)")
            throw ExitCode.failure
        }
    }

    /// Chunks `source` and appends the command's output to `output`.
    package static func render<Source: ByteSource, Output: ByteSink>(
        spec: ChunkerSpec, source: inout Source, stats: Bool, json: Bool, into output: inout Output
    ) throws {
        let reader = ChunkReader(finder: spec.makeChunker())
        try render(spec: spec, stats: stats, json: json, into: &output) { body in
            try reader.forEachChunk(from: &source) { offset, chunk in try body(offset, chunk.count) }
        }
    }

    /// Chunks bytes in memory (a mapped file) on `threads` threads, a window of
    /// ``windowBytesPerThread`` per thread at a time; each thread releases its segment's pages
    /// as soon as it has chunked them (in parallel, not after the window).
    @discardableResult
    package static func render<Output: ByteSink>(
        spec: ChunkerSpec, region: UnsafeRawBufferPointer, threads: Int, stats: Bool, json: Bool, into output: inout Output
    ) throws -> ParallelChunkingStatistics {
        let chunker = ParallelChunker(finder: spec.makeChunker(), threads: threads)
        var statistics = ParallelChunkingStatistics()
        try render(spec: spec, stats: stats, json: json, into: &output) { body in
            var start = 0
            let window = threads * windowBytesPerThread(chunker.finder.maximumChunkLength)
            while start < region.count {
                let ends = chunker.cuts(in: region, from: start, to: start + window, releasingPages: true, statistics: &statistics)
                for end in ends {
                    try body(start, end - start)
                    start = end
                }
            }
            return region.count
        }
        return statistics
    }

    /// `--parallel-stats`: one line on stderr.
    static func printStatistics(_ s: ParallelChunkingStatistics) {
        let edges = s.resynchronised
        let share = s.bytes == 0 ? 0 : Double(s.resynchronisationBytes) / Double(s.bytes) * 100
        var line = Array(("parallel: segments \(s.segments) resynchronised \(edges) mean-distance \(format(s.meanResynchronisationBytes)) "
            + "repeated-bytes \(s.resynchronisationBytes) repeated-percent \(format(share)) serial-bytes \(s.serialBytes) bytes \(s.bytes)\n").utf8)
        _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// Bytes each thread cuts per window of a mapped file: long windows (one per thread reaches
    /// 512 MiB for the large-chunk specs) so that the threads meet rarely, each window's cut list
    /// bounded by 1024 maximum chunks per thread (at least 64 MiB). The pages stay few: each
    /// thread drops those behind it as it goes.
    static func windowBytesPerThread(_ maximumChunk: Int) -> Int {
        Swift.min(512 << 20, Swift.max(64 << 20, 1024 * maximumChunk))
    }

    /// Prints the chunks that `chunks` reports (`body(offset, length)` per chunk; it returns the
    /// total byte count): the list, or `--stats`; text or `--json`.
    static func render<Output: ByteSink>(
        spec: ChunkerSpec, stats: Bool, json: Bool, into output: inout Output,
        chunks: (_ body: (Int, Int) throws -> Void) throws -> Int
    ) throws {
        var summary = ChunkStatistics()
        if stats {
            let total = try chunks { _, length in summary.add(length) }
            if json {
                output.append("{\"chunker\":\"\(spec)\",\"bytes\":\(total),\"count\":\(summary.count),")
                output.append("\"mean\":\(format(summary.mean)),\"stddev\":\(format(summary.standardDeviation)),")
                output.append("\"min\":\(summary.minimum),\"max\":\(summary.maximum)}\n")
            } else {
                output.append("chunker \(spec)\nbytes \(total)\ncount \(summary.count)\n")
                output.append("mean \(format(summary.mean))\nstddev \(format(summary.standardDeviation))\n")
                output.append("min \(summary.minimum)\nmax \(summary.maximum)\n")
            }
            return
        }
        if json { output.append("{\"chunker\":\"\(spec)\",\"chunks\":[") }
        var first = true
        _ = try chunks { offset, length in
            if json {
                output.append(first ? "\n{\"offset\":" : ",\n{\"offset\":")
                output.appendDecimal(offset)
                output.append(",\"length\":")
                output.appendDecimal(length)
                output.append(UInt8(ascii: "}"))
            } else {
                output.appendDecimal(offset)
                output.append(UInt8(ascii: " "))
                output.appendDecimal(length)
                output.append(UInt8(ascii: "\n"))
            }
            first = false
            try output.flushIfFull()
        }
        if json { output.append(first ? "]}\n" : "\n]}\n") }
    }

    /// A number with two decimals (no Foundation).
    static func format(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

}

/// Where the command writes: a file descriptor in production, memory in tests.
package protocol ByteSink {
    mutating func append(_ byte: UInt8)
    mutating func append(_ text: String)
    mutating func appendDecimal(_ value: Int)
    mutating func flushIfFull() throws
}

/// Standard output collected in large blocks (never a syscall per line), written through
/// `StandardOutput`.
package struct OutputBuffer: ByteSink {
    package private(set) var bytes: [UInt8] = []
    let threshold = 1 << 20

    package init() {
        bytes.reserveCapacity(threshold + 4096)
    }

    package mutating func append(_ byte: UInt8) { bytes.append(byte) }

    package mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    package mutating func appendDecimal(_ value: Int) { Self.appendDecimal(value, to: &bytes) }

    package mutating func flushIfFull() throws {
        if bytes.count >= threshold { try flush() }
    }

    package mutating func flush() throws {
        try bytes.withUnsafeBytes { try StandardOutput.write($0) }
        bytes.removeAll(keepingCapacity: true)
    }

    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendDecimal(-value, to: &bytes)
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            } while v > 0
            bytes.append(contentsOf: d[(20 - count)...])
        }
    }
}

/// Output kept in memory (tests, embedding).
package struct MemorySink: ByteSink {
    package var bytes: [UInt8] = []
    package init() {}
    package mutating func append(_ byte: UInt8) { bytes.append(byte) }
    package mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
    package mutating func appendDecimal(_ value: Int) { OutputBuffer.appendDecimal(value, to: &bytes) }
    package mutating func flushIfFull() throws {}
    package var text: String { String(decoding: bytes, as: UTF8.self) }
}
