import ArgumentParser
import Chunking
import Engine
import Synchronization

import CairnSystem

/// `cairn bench chunkers CORPUS… [--chunkers LIST] [--versions] [--sweep SPEC]… [--json|--csv]
/// [--html OUT.html]`: every chunker measured on the user's data (spec/cli.md).
struct BenchChunkersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chunkers",
        abstract: "Compare chunkers on your data: chunk sizes, dedup, DAG size, speed.",
        discussion: """
            Each CORPUS argument is a file or a directory (walked as add -r walks it); an OCI \
            layout, oci-archive or docker-archive is measured layer by layer, each layer as \
            stored (e.g. IMAGE@layer-1 (gzip)) and as its tar (IMAGE@layer-1 (tar)). With \
            --versions the arguments are successive versions of one thing, and seen_bytes \
            counts what earlier ones hold. Chunkers run in parallel, one per core; throughput \
            is per core.
            """
    )

    @Argument(help: "Files, directories or image layouts to measure (with --versions: v1 v2 …).")
    var corpus: [String]

    @Option(name: .long, help: "Comma-separated chunker specs (default: size-262144,size-1048576,rabin,buzhash,fastcdc-16384-65536-262144,fastcdc).")
    var chunkers: String?

    @Flag(name: .long, help: "The arguments are successive versions: measure what each adds to the earlier ones.")
    var versions = false

    @Option(name: .long, help: "Add a sweep: fastcdc:avg=16K..1M (powers of two, min avg/4, max avg*4) or normalization=0..3. Repeatable.")
    var sweep: [String] = []

    @Flag(name: .long, help: "Print one JSON object per input and chunker.")
    var json = false

    @Flag(name: .long, help: "Print CSV (a header line, then one line per input and chunker).")
    var csv = false

    @Option(name: .long, help: "Also write a self-contained HTML report with charts to this file.")
    var html: String?

    @Option(name: .customLong("threads"), help: "Chunkers measured at once (default: the processors available).")
    var threads: Int?

    @Flag(name: .long, help: "Report progress on stderr even when it is not a terminal (one line per update).")
    var progress = false

    func validate() throws {
        guard !(json && csv) else { throw ValidationError("--json and --csv cannot be used together") }
        guard (threads ?? 1) >= 1 && (threads ?? 1) <= 256 else { throw ValidationError("--threads must be 1…256") }
        _ = try plannedChunkers()
        if let html {
            var info = stat()
            if stat(html, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                throw ValidationError("--html \(html) is a directory")
            }
        }
    }

    /// `--chunkers` (or the defaults), then each sweep's points; a spec given twice is measured once.
    func plannedChunkers() throws -> [BenchChunker] {
        var planned: [BenchChunker] = []
        if let chunkers {
            for text in chunkers.split(separator: ",", omittingEmptySubsequences: false) {
                do { planned.append(BenchChunker(spec: try ChunkerSpec(parsing: String(text)))) } catch {
                    throw ValidationError("--chunkers: \(error.description)")
                }
            }
        } else {
            planned = BenchChunker.defaults
        }
        for spec in sweep {
            do { planned += try BenchChunker.sweep(spec) } catch { throw ValidationError("\(error)") }
        }
        return BenchChunker.merged(planned)
    }

    func run() throws {
        let bench = ChunkerBench(inputs: try BenchChunkersInputs.inputs(corpus), chunkers: try plannedChunkers(),
                                 versions: versions, threads: threads)
        let files = try bench.inputFiles()
        var total = files.joined().reduce(0) { $0 + Self.size(of: $1) }
        for input in bench.inputs { if case .stream(_, let bytes?, _) = input { total += bytes } }
        let terminal = isatty(2) != 0
        let meter = terminal || progress ? BenchProgress(total: total * bench.chunkers.count, terminal: terminal) : nil
        var report: (@Sendable (Int) -> Void)?
        if let meter { report = { meter.advance($0) } }
        let outcome = bench.run(files: files, progress: report)
        meter?.finish()
        // What was measured is written even when a chunker stopped early (Ctrl-C included).
        var output = OutputBuffer()
        if json {
            BenchChunkersOutput.json(outcome.rows, into: &output)
        } else if csv {
            BenchChunkersOutput.csv(outcome.rows, into: &output)
        } else if html == nil || !outcome.rows.isEmpty {
            BenchChunkersOutput.table(outcome.rows, chunkers: bench.chunkers, into: &output)
        }
        try output.flush()
        if let html {
            let page = BenchChunkersReport(rows: outcome.rows, chunkers: bench.chunkers, versions: versions).html()
            do {
                try Array(page.utf8).withUnsafeBytes { try SystemCall.writeFileAtomically($0, to: html) }
            } catch {
                throw CLIError("cannot write \(html): \(error)")
            }
        }
        if let error = outcome.error { throw error }
    }

    static func size(of path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }
}

/// A progress meter on stderr, updated at most five times a second: one line redrawn on a
/// terminal, else (`--progress`) one line per update. The total is approximate (a layer's tar
/// length is not known before it is read), so the share is capped at 100 %.
final class BenchProgress: Sendable {
    let total: Int
    let terminal: Bool
    let state = Mutex<(done: Int, drawn: Double)>((0, 0))

    init(total: Int, terminal: Bool) {
        self.total = Swift.max(1, total)
        self.terminal = terminal
    }

    func advance(_ bytes: Int) {
        let line: String? = state.withLock { state in
            state.done += bytes
            let now = monotonicSeconds()
            guard now - state.drawn >= 0.2 else { return nil }
            state.drawn = now
            let text = "measuring: \(Swift.min(100, state.done * 100 / total)) % of \(total >> 20) MiB × chunkers"
            return terminal ? "\r" + text : text + "\n"
        }
        if let line { Self.write(line) }
    }

    func finish() { if terminal { Self.write("\r\u{1B}[K") } }

    private static func write(_ text: String) {
        var text = text
        text.withUTF8 { _ = try? SystemCall.writeAll(2, UnsafeRawBufferPointer($0), path: nil) }
    }
}
