import Engine
import Chunking

/// `cairn bench chunkers --html`: one self-contained page (no network, no scripts) with inline
/// SVG charts — chunk sizes per chunker, dedup against throughput with the Pareto front, bytes
/// uploaded per version, the sweeps — and the "what to pick" paragraph (spec/cli.md).
///
/// Every mark carries its figures as `data-*` attributes (the tests read them back from the
/// browser's DOM and compare them with `--json`).
struct BenchChunkersReport {
    let rows: [ChunkerBenchRow]
    let chunkers: [BenchChunker]
    let versions: Bool
    let summaries: [ChunkerBenchSummary]

    init(rows: [ChunkerBenchRow], chunkers: [BenchChunker], versions: Bool) {
        self.rows = rows
        self.chunkers = chunkers.filter { chunker in rows.contains { $0.chunker == chunker } }
        self.versions = versions
        self.summaries = ChunkerBenchSummary.summaries(of: rows, chunkers: self.chunkers)
    }

    func html() -> String {
        var page = SVGText()
        page.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        page.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        page.raw("<title>cairn bench chunkers</title><style>\(Self.style)</style></head><body>\n")
        page.raw("<h1>Which chunker for this data?</h1>\n")
        let inputs = Self.inputs(of: rows)
        page.raw("<p class=\"meta\">")
        page.text("\(inputs.count) input(s)\(versions ? ", as successive versions" : ""): \(inputs.joined(separator: ", "))")
        page.raw("</p>\n<p id=\"pick\" class=\"pick\"><strong>What to pick.</strong> ")
        page.text(ChunkerBenchSummary.advice(summaries))
        page.raw("</p>\n")
        summaryTable(&page)
        histograms(&page)
        scatter(&page)
        uploads(&page, inputs: inputs)
        sweeps(&page)
        page.raw("<p class=\"meta\">Throughput is one core (read + cut, and read + cut + SHA-256 of every chunk). ")
        page.raw("Upload bytes: chunks not met in any earlier input nor earlier in the same input. Made by <code>cairn bench chunkers</code>.</p>\n")
        page.raw("</body></html>\n")
        return page.output
    }

    // MARK: - Parts

    private func color(_ chunker: BenchChunker) -> Int { (chunkers.firstIndex(of: chunker) ?? 0) % Self.paletteSize }

    /// The chunker's number in the table, the legends and the scatter's labels.
    private func number(_ chunker: BenchChunker) -> Int { (chunkers.firstIndex(of: chunker) ?? 0) + 1 }

    /// A saving axis around the values (5 points of margin), not below 0 unless a value is.
    static func zoomed(_ values: [Double]) -> SVGChart.Scale {
        let low = values.min() ?? 0, high = values.max() ?? 0
        return .linear(low >= 0 ? max(0, low - 0.05) : low - 0.05, max(high + 0.05, low + 0.1))
    }

    private func summaryTable(_ page: inout SVGText) {
        page.raw("<table id=\"summary\"><thead><tr><th>#</th><th>chunker</th><th>chunks</th><th>upload (MiB)</th><th>saved</th><th>add MB/s</th><th>Pareto</th></tr></thead><tbody>\n")
        for summary in summaries {
            page.raw("<tr><td>\(number(summary.chunker))</td><td><span class=\"swatch c\(color(summary.chunker))\"></span>")
            page.text(summary.chunker.spec.description)
            page.raw("</td><td>\(summary.chunks)</td><td>\(BenchChunkersOutput.mebibytes(summary.uploadBytes))</td>")
            page.raw("<td>\(BenchChunkersOutput.percent(summary.saving))</td><td>\(Int(summary.addMBps.rounded()))</td>")
            page.raw("<td>\(summary.onParetoFront ? "yes" : "")</td></tr>\n")
        }
        page.raw("</tbody></table>\n")
    }

    private func histograms(_ page: inout SVGText) {
        page.raw("<section id=\"histograms\"><h2>Chunk sizes</h2><p>Share of chunks in each size class (all inputs), per chunker.</p><div class=\"grid\">\n")
        let used = rows.flatMap { row in row.histogram.indices.filter { row.histogram[$0] > 0 } }
        let low = used.min() ?? 10, high = used.max() ?? 20
        for chunker in chunkers {
            var counts = [Int](repeating: 0, count: ChunkerBenchRow.histogramClasses)
            for row in rows where row.chunker == chunker {
                for index in counts.indices { counts[index] += row.histogram[index] }
            }
            let total = max(1, counts.reduce(0, +))
            let peak = Double(counts.max() ?? 0) / Double(total)
            var chart = SVGChart(width: 320, height: 190, title: chunker.spec.description)
            chart.xScale = .linear(Double(low), Double(high + 1))
            chart.yScale = .linear(0, max(0.05, peak * 1.1))
            chart.begin(&page, id: nil, classes: "histogram", data: ["chunker": chunker.spec.description, "chunks": "\(total)"])
            chart.axes(&page, xLabel: "chunk size (bytes)", yLabel: "% of chunks",
                       xTicks: stride(from: low, through: high + 1, by: max(1, (high + 1 - low) / 5)).map { (Double($0), Self.binary(1 << $0)) },
                       yTicks: chart.yScale.ticks(4).map { ($0, "\(Int(($0 * 100).rounded()))") })
            for index in low...high {
                let share = Double(counts[index]) / Double(total)
                let x0 = chart.x(Double(index)) + 1, x1 = chart.x(Double(index + 1)) - 1
                let y = chart.y(share)
                page.raw("<rect class=\"bar c\(color(chunker))\" x=\"\(svgNumber(x0))\" y=\"\(svgNumber(y))\" width=\"\(svgNumber(max(0, x1 - x0)))\" height=\"\(svgNumber(chart.y(0) - y))\"")
                page.element(" data-class=\"\(index)\" data-count=\"\(counts[index])\"><title>", "\(Self.binary(1 << index))–\(Self.binary(1 << (index + 1))): \(counts[index]) chunks", close: "</title></rect>")
            }
            page.raw("</svg>\n")
        }
        page.raw("</div></section>\n")
    }

    private func scatter(_ page: inout SVGText) {
        page.raw("<section id=\"scatter\"><h2>Dedup against throughput</h2><p>Each point is a chunker over all inputs, numbered as in the table; ")
        page.raw("ringed points joined by the dashed line are the Pareto front (nothing is both faster and saves more).</p>\n")
        let speeds = summaries.map(\.addMBps), savings = summaries.map(\.saving)
        var chart = SVGChart(width: 760, height: 380, title: nil)
        chart.xScale = .linear(0, (speeds.max() ?? 1) * 1.15)
        chart.yScale = Self.zoomed(savings)
        chart.begin(&page, id: "scatter-chart", classes: "scatter", data: [:])
        chart.axes(&page, xLabel: "chunk + hash throughput, one core (MB/s)", yLabel: "upload bytes saved (%)",
                   xTicks: chart.xScale.ticks(6).map { ($0, "\(Int($0))") },
                   yTicks: chart.yScale.ticks(5).map { ($0, "\(Int(($0 * 100).rounded()))") })
        let front = summaries.filter(\.onParetoFront).sorted { $0.addMBps < $1.addMBps }
        let points = front.map { "\(svgNumber(chart.x($0.addMBps))),\(svgNumber(chart.y($0.saving)))" }.joined(separator: " ")
        page.raw("<polyline class=\"pareto\" points=\"\(points)\"/>")
        for summary in summaries {
            let x = chart.x(summary.addMBps), y = chart.y(summary.saving)
            if summary.onParetoFront { page.raw("<circle class=\"ring\" cx=\"\(svgNumber(x))\" cy=\"\(svgNumber(y))\" r=\"10\"/>") }
            page.raw("<circle class=\"point c\(color(summary.chunker))\" cx=\"\(svgNumber(x))\" cy=\"\(svgNumber(y))\" r=\"6\"")
            page.attributes(["chunker": summary.chunker.spec.description, "saving": "\(summary.saving)",
                             "mbps": "\(summary.addMBps)", "pareto": summary.onParetoFront ? "1" : "0",
                             "upload": "\(summary.uploadBytes)", "bytes": "\(summary.bytes)"])
            page.raw("><title>")
            page.text("\(summary.chunker.spec): \(BenchChunkersOutput.percent(summary.saving)) saved, \(Int(summary.addMBps.rounded())) MB/s")
            page.raw("</title></circle><text class=\"label\" x=\"\(svgNumber(x + 9))\" y=\"\(svgNumber(y - 7))\">")
            page.text("\(number(summary.chunker))")
            page.raw("</text>")
        }
        page.raw("</svg>")
        legend(&page, summaries.map(\.chunker))
        page.raw("</section>\n")
    }

    private func uploads(_ page: inout SVGText, inputs: [String]) {
        page.raw("<section id=\"uploads\"><h2>Bytes uploaded per version</h2><p>")
        page.text(versions ? "What a push of each version sends when the earlier versions are already there."
                           : "What a push of each input sends on its own (give --versions to count earlier inputs).")
        page.raw("</p>\n")
        let peak = Double(rows.map(\.newBytes).max() ?? 0) / 1_048_576
        var chart = SVGChart(width: 760, height: 340, title: nil)
        chart.xScale = .linear(0, Double(max(1, inputs.count)))
        chart.yScale = .linear(0, max(0.1, peak * 1.1))
        chart.begin(&page, id: "uploads-chart", classes: "bars", data: [:])
        chart.axes(&page, xLabel: versions ? "version" : "input", yLabel: "uploaded (MiB)",
                   xTicks: inputs.indices.map { (Double($0) + 0.5, Self.shortName(inputs[$0])) },
                   yTicks: chart.yScale.ticks(5).map { ($0, Self.trimmed($0)) })
        let slot = (chart.x(1) - chart.x(0)) * 0.8 / Double(max(1, chunkers.count))
        for (group, input) in inputs.enumerated() {
            for (index, chunker) in chunkers.enumerated() {
                guard let row = rows.first(where: { $0.input == input && $0.chunker == chunker }) else { continue }
                let x = chart.x(Double(group)) + (chart.x(1) - chart.x(0)) * 0.1 + Double(index) * slot
                let y = chart.y(Double(row.newBytes) / 1_048_576)
                page.raw("<rect class=\"bar c\(color(chunker))\" x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" width=\"\(svgNumber(max(1, slot - 1)))\" height=\"\(svgNumber(chart.y(0) - y))\"")
                page.attributes(["chunker": chunker.spec.description, "input": input, "bytes": "\(row.newBytes)"])
                page.element("><title>", "\(input), \(chunker.spec): \(BenchChunkersOutput.mebibytes(row.newBytes)) MiB", close: "</title></rect>")
            }
        }
        page.raw("</svg>")
        legend(&page, chunkers)
        page.raw("</section>\n")
    }

    private func sweeps(_ page: inout SVGText) {
        page.raw("<section id=\"sweep\"><h2>Sweep</h2>\n")
        let parameters = chunkers.flatMap { $0.sweeps.map(\.parameter) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if parameters.isEmpty {
            page.raw("<p>No sweep was asked for (try <code>--sweep fastcdc:avg=16K..1M</code> or <code>--sweep normalization=0..3</code>).</p>")
        }
        for parameter in parameters {
            let points = summaries.compactMap { summary -> (Double, ChunkerBenchSummary)? in
                guard let point = summary.chunker.sweeps.first(where: { $0.parameter == parameter }) else { return nil }
                return (parameter == "avg" ? Double(point.value.trailingZeroBitCount) : Double(point.value), summary)
            }.sorted { $0.0 < $1.0 }
            guard let first = points.first, let last = points.last else { continue }
            let isAverage = parameter == "avg"
            page.raw("<p>")
            page.text(isAverage ? "FastCDC, average chunk size swept (min = avg/4, max = avg×4): upload bytes saved and blocks per GiB."
                                : "FastCDC 64K-256K-1M, normalization level swept: upload bytes saved and blocks per GiB.")
            page.raw("</p>\n")
            let savings = points.map(\.1.saving)
            var chart = SVGChart(width: 760, height: 320, title: nil)
            chart.xScale = .linear(first.0 - 0.3, last.0 + 0.3)
            chart.yScale = Self.zoomed(savings)
            chart.begin(&page, id: "sweep-\(parameter)", classes: "sweep", data: ["parameter": parameter])
            chart.axes(&page, xLabel: isAverage ? "average chunk size (bytes, log scale)" : "normalization level",
                       yLabel: "upload bytes saved (%)",
                       xTicks: points.map { ($0.0, isAverage ? Self.binary(1 << Int($0.0)) : "\(Int($0.0))") },
                       yTicks: chart.yScale.ticks(5).map { ($0, "\(Int(($0 * 100).rounded()))") })
            page.raw("<polyline class=\"line\" points=\"\(points.map { "\(svgNumber(chart.x($0.0))),\(svgNumber(chart.y($0.1.saving)))" }.joined(separator: " "))\"/>")
            for (x, summary) in points {
                let value = summary.chunker.sweeps.first { $0.parameter == parameter }!.value
                let blocks = Double(summary.chunks) * Double(1 << 30) / Double(max(1, summary.bytes))
                page.raw("<circle class=\"point c\(color(summary.chunker))\" cx=\"\(svgNumber(chart.x(x)))\" cy=\"\(svgNumber(chart.y(summary.saving)))\" r=\"5\"")
                page.attributes(["chunker": summary.chunker.spec.description, "value": "\(value)", "saving": "\(summary.saving)"])
                page.raw("><title>")
                page.text("\(summary.chunker.spec): \(BenchChunkersOutput.percent(summary.saving)) saved, \(Int(blocks.rounded())) blocks/GiB")
                page.raw("</title></circle><text class=\"label\" x=\"\(svgNumber(chart.x(x)))\" y=\"\(svgNumber(chart.y(summary.saving) - 10))\" text-anchor=\"middle\">")
                page.text("\(Int(blocks.rounded())) blk/GiB")
                page.raw("</text>")
            }
            page.raw("</svg>\n")
        }
        page.raw("</section>\n")
    }

    private func legend(_ page: inout SVGText, _ chunkers: [BenchChunker]) {
        page.raw("<ul class=\"legend\">")
        for chunker in chunkers {
            page.element("<li><span class=\"swatch c\(color(chunker))\"></span>", "\(number(chunker)) \(chunker.spec)", close: "</li>")
        }
        page.raw("</ul>")
    }

    // MARK: - Helpers

    static func inputs(of rows: [ChunkerBenchRow]) -> [String] {
        rows.map(\.input).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    static func shortName(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return trimmed.split(separator: "/").last.map(String.init) ?? trimmed
    }

    /// 65536 → "64K", 1048576 → "1M".
    static func binary(_ bytes: Int) -> String {
        if bytes >= 1 << 30 { return "\(bytes >> 30)G" }
        if bytes >= 1 << 20 { return "\(bytes >> 20)M" }
        if bytes >= 1 << 10 { return "\(bytes >> 10)K" }
        return "\(bytes)"
    }

    static func trimmed(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))" : "\((value * 10).rounded() / 10)"
    }

    static let paletteSize = 12

    /// Okabe–Ito colours (told apart with colour-vision deficiencies), darker on light pages,
    /// as given on dark ones; axes and text follow the page's foreground.
    static let style = """
        :root{color-scheme:light dark;--fg:#1b1d21;--bg:#ffffff;--muted:#5b6068;--grid:#d9dce1;
        --c0:#0072b2;--c1:#d55e00;--c2:#009e73;--c3:#cc79a7;--c4:#b8860b;--c5:#56b4e9;--c6:#7a5195;--c7:#6b6b6b;
        --c8:#8c2d04;--c9:#1b7837;--c10:#c51b7d;--c11:#2d2d8f}
        @media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--bg:#16181c;--muted:#a0a6ad;--grid:#3a3f46;
        --c0:#56b4e9;--c1:#f28e2b;--c2:#3fcf9f;--c3:#e59fc8;--c4:#f0e442;--c5:#9ad0f5;--c6:#b39ddb;--c7:#bdbdbd;
        --c8:#ff9d76;--c9:#a6dba0;--c10:#ff7eb6;--c11:#9fa8ff}}
        @media print{:root{--fg:#000;--bg:#fff;--muted:#333;--grid:#bbb}section{break-inside:avoid}}
        body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);
        max-width:1040px;margin:1.5em auto;padding:0 1.2em}
        h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.6em 0 .3em}
        .meta{color:var(--muted);font-size:.9em}.pick{font-size:1.1em;border-left:4px solid var(--c2);padding:.4em .8em}
        table{border-collapse:collapse;margin:1em 0}th,td{padding:.25em .7em;border-bottom:1px solid var(--grid);text-align:right}
        th:first-child,td:first-child{text-align:left}
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:.5em}
        svg{display:block;max-width:100%;height:auto;overflow:visible}svg text{fill:var(--fg);font-size:12px}
        svg .title{font-weight:600;font-size:13px}svg .axis{stroke:var(--fg);stroke-width:1}svg .gridline{stroke:var(--grid);stroke-width:1}
        svg .axis-label{fill:var(--muted)}svg .label{font-size:11px}
        .pareto{fill:none;stroke:var(--fg);stroke-width:1.5;stroke-dasharray:6 4}.ring{fill:none;stroke:var(--fg);stroke-width:1.5}
        .line{fill:none;stroke:var(--fg);stroke-width:2}
        .legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4em 1.2em;font-size:.9em}
        .swatch{display:inline-block;width:.9em;height:.9em;margin-right:.4em;vertical-align:-.1em;border-radius:2px}
        .c0{fill:var(--c0);background:var(--c0)}.c1{fill:var(--c1);background:var(--c1)}.c2{fill:var(--c2);background:var(--c2)}
        .c3{fill:var(--c3);background:var(--c3)}.c4{fill:var(--c4);background:var(--c4)}.c5{fill:var(--c5);background:var(--c5)}
        .c6{fill:var(--c6);background:var(--c6)}.c7{fill:var(--c7);background:var(--c7)}
        .c8{fill:var(--c8);background:var(--c8)}.c9{fill:var(--c9);background:var(--c9)}
        .c10{fill:var(--c10);background:var(--c10)}.c11{fill:var(--c11);background:var(--c11)}
        """
}
