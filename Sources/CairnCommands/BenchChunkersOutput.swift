import Engine
import Chunking

/// The three text forms of `cairn bench chunkers`: a table for people, JSON lines and CSV for
/// scripts (the columns are listed in spec/cli.md and never renamed).
enum BenchChunkersOutput {
    /// The stable columns, in order, with each row's value as JSON text.
    static let columns: [(key: String, value: @Sendable (ChunkerBenchRow) -> String)] = [
        ("input", { json(string: $0.input) }),
        ("chunker", { json(string: $0.chunker.spec.description) }),
        ("bytes", { "\($0.bytes)" }),
        ("chunks", { "\($0.chunks)" }),
        ("mean", { ChunkCommand.format($0.mean) }),
        ("stddev", { ChunkCommand.format($0.stddev) }),
        ("p5", { "\($0.p5)" }),
        ("p50", { "\($0.p50)" }),
        ("p95", { "\($0.p95)" }),
        ("min", { "\($0.min)" }),
        ("max", { "\($0.max)" }),
        ("unique_bytes", { "\($0.uniqueBytes)" }),
        ("seen_bytes", { "\($0.seenBytes)" }),
        ("new_bytes", { "\($0.newBytes)" }),
        ("dag_bytes", { $0.dagBytes.map { "\($0)" } ?? "null" }),
        ("dag_blocks", { $0.dagBlocks.map { "\($0)" } ?? "null" }),
        ("blocks_per_gib", { ChunkCommand.format($0.blocksPerGiB) }),
        ("chunk_mb_s", { ChunkCommand.format($0.chunkMBps) }),
        ("add_mb_s", { ChunkCommand.format($0.addMBps) }),
    ]

    static func json(string: String) -> String { "\"\(AddOutput.jsonEscape(string))\"" }

    static func json(_ rows: [ChunkerBenchRow], into output: inout OutputBuffer) {
        for row in rows {
            output.append("{" + columns.map { "\"\($0.key)\":\($0.value(row))" }.joined(separator: ",") + "}\n")
        }
    }

    /// CSV: strings quoted only when they hold a comma, quote or line break; null is empty.
    static func csv(_ rows: [ChunkerBenchRow], into output: inout OutputBuffer) {
        output.append(columns.map(\.key).joined(separator: ",") + "\n")
        for row in rows {
            let fields = columns.map { column -> String in
                switch column.key {
                case "input": return csvField(row.input)
                case "chunker": return csvField(row.chunker.spec.description)
                default:
                    let value = column.value(row)
                    return value == "null" ? "" : value
                }
            }
            output.append(fields.joined(separator: ",") + "\n")
        }
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + String(text.flatMap { $0 == "\"" ? ["\"", "\""] : [$0] }) + "\""
    }

    /// One block per input; in each numeric column the best value is marked with `*`.
    static func table(_ rows: [ChunkerBenchRow], chunkers: [BenchChunker], into output: inout OutputBuffer) {
        let headers = ["chunker", "chunks", "mean", "p50", "p95", "unique", "seen", "upload", "DAG+", "blocks/GiB", "chunk MB/s", "add MB/s"]
        // For each marked column: the value compared, and whether higher is better.
        let marked: [Int: (value: (ChunkerBenchRow) -> Double?, higher: Bool)] = [
            5: ({ fraction($0.uniqueBytes, $0.bytes) }, false),
            6: ({ fraction($0.seenBytes, $0.bytes) }, true),
            7: ({ Double($0.newBytes) }, false),
            8: ({ $0.dagOverhead }, false),
            9: ({ $0.blocksPerGiB }, false),
            10: ({ $0.chunkMBps }, true),
            11: ({ $0.addMBps }, true),
        ]
        var inputs: [String] = []
        for row in rows where !inputs.contains(row.input) { inputs.append(row.input) }
        for input in inputs {
            let group = rows.filter { $0.input == input }
            output.append("\(input): \(mebibytes(group[0].bytes)) MiB\n")
            var lines = [headers]
            for row in group {
                var cells = [
                    row.chunker.spec.description, "\(row.chunks)", kibibytes(row.mean), kibibytes(Double(row.p50)),
                    kibibytes(Double(row.p95)), percent(fraction(row.uniqueBytes, row.bytes)), percent(fraction(row.seenBytes, row.bytes)),
                    "\(mebibytes(row.newBytes)) MiB", row.dagOverhead.map { percent($0, decimals: 2) } ?? "n/a",
                    "\(Int(row.blocksPerGiB.rounded()))", "\(Int(row.chunkMBps.rounded()))", "\(Int(row.addMBps.rounded()))",
                ]
                for (column, rule) in marked {
                    guard let mine = rule.value(row) else { continue }
                    let values = group.compactMap(rule.value)
                    let best = rule.higher ? values.max()! : values.min()!
                    if group.count > 1 && mine == best { cells[column] += "*" }
                }
                lines.append(cells)
            }
            let widths = headers.indices.map { column in lines.map { $0[column].count }.max()! }
            for line in lines {
                let cells = line.indices.map { column in
                    column == 0 ? pad(line[column], widths[column]) : leftPad(line[column], widths[column])
                }
                output.append("  " + cells.joined(separator: "  ") + "\n")
            }
        }
        if !rows.isEmpty {
            output.append("unique: bytes not repeated within the input; seen: bytes earlier inputs hold (--versions); ")
            output.append("upload: bytes a push would send; DAG+: dag-pb bytes beyond the content; * best in its column.\n")
            output.append(ChunkerBenchSummary.advice(ChunkerBenchSummary.summaries(of: rows, chunkers: chunkers)) + "\n")
        }
    }

    static func fraction(_ part: Int, _ whole: Int) -> Double { whole > 0 ? Double(part) / Double(whole) : 0 }

    static func percent(_ value: Double, decimals: Int = 1) -> String {
        let scale = decimals == 2 ? 100.0 : 10.0
        let scaled = (value * 100 * scale).rounded() / scale
        return "\(scaled) %"
    }

    static func kibibytes(_ bytes: Double) -> String { "\(Int((bytes / 1024).rounded()))K" }

    static func mebibytes(_ bytes: Int) -> String { "\((Double(bytes) / 1_048_576 * 10).rounded() / 10)" }

    static func leftPad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
