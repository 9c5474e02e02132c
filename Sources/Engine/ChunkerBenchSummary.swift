import Chunking

/// One chunker's figures over every input, and the choice they suggest (spec/cli.md, the
/// "what to pick" paragraph of `cairn bench chunkers --html`).
public struct ChunkerBenchSummary: Sendable {
    public var chunker: BenchChunker
    public var bytes = 0
    /// Bytes pushes of the inputs in order would upload (the sum of `newBytes`).
    public var uploadBytes = 0
    public var chunks = 0
    public var addSeconds = 0.0
    public var addSampleBytes = 0
    /// On the Pareto front of (dedup saving, add throughput): no other chunker is at least as
    /// good on both and better on one.
    public var onParetoFront = false

    /// The fraction of the content bytes a push does not upload.
    public var saving: Double { bytes > 0 ? 1 - Double(uploadBytes) / Double(bytes) : 0 }
    public var addMBps: Double { addSeconds > 0 ? Double(addSampleBytes) / 1e6 / addSeconds : 0 }

    /// One summary per chunker, in the order of `chunkers`, over the rows measured.
    public static func summaries(of rows: [ChunkerBenchRow], chunkers: [BenchChunker]) -> [ChunkerBenchSummary] {
        var result = chunkers.map { ChunkerBenchSummary(chunker: $0) }
        for row in rows {
            guard let index = chunkers.firstIndex(of: row.chunker) else { continue }
            result[index].bytes += row.bytes
            result[index].uploadBytes += row.newBytes
            result[index].chunks += row.chunks
            result[index].addSeconds += row.addSeconds
            result[index].addSampleBytes += row.addSampleBytes
        }
        result.removeAll { $0.bytes == 0 && $0.chunks == 0 }
        for index in result.indices {
            let me = result[index]
            result[index].onParetoFront = !result.contains { other in
                other.saving >= me.saving && other.addMBps >= me.addMBps
                    && (other.saving > me.saving || other.addMBps > me.addMBps)
            }
        }
        return result
    }

    /// The "what to pick" paragraph. The baseline is `size-262144` when measured, else the first
    /// chunker. The pick is the chunker that uploads least among those with at most
    /// `blockBudget` times the baseline's blocks, with its price in blocks; if another uploads
    /// less still (for more blocks), a second sentence names it; then the fastest chunker on
    /// the Pareto front if it is another one.
    public static func advice(_ summaries: [ChunkerBenchSummary], blockBudget: Double = 1.5) -> String {
        guard let baseline = summaries.first(where: { $0.chunker.spec.description == "size-262144" }) ?? summaries.first,
              baseline.bytes > 0 else { return "Nothing was measured." }
        func saved(_ summary: ChunkerBenchSummary) -> Double {
            1 - Double(summary.uploadBytes) / Double(Swift.max(1, baseline.uploadBytes))
        }
        func blocks(_ summary: ChunkerBenchSummary) -> Double { Double(summary.chunks) / Double(Swift.max(1, baseline.chunks)) }
        let order: (ChunkerBenchSummary, ChunkerBenchSummary) -> Bool = { ($0.uploadBytes, $0.chunks) < ($1.uploadBytes, $1.chunks) }
        let pick = summaries.filter { blocks($0) <= blockBudget }.min(by: order) ?? baseline
        var text: String
        if pick.chunker == baseline.chunker || saved(pick) < 0.01 {
            text = "No chunker with at most \(blockBudget)× its blocks uploads even 1 % fewer bytes than \(baseline.chunker.spec) on this data: keep it."
        } else {
            let change = blocks(pick) - 1
            let price = change >= 0 ? "\(percent(change)) more blocks" : "\(percent(-change)) fewer blocks"
            text = "\(pick.chunker.spec) saves \(percent(saved(pick))) of upload bytes for \(price) than \(baseline.chunker.spec)."
        }
        if let least = summaries.min(by: order), least.uploadBytes < pick.uploadBytes, saved(least) - saved(pick) >= 0.01 {
            text += " If blocks are cheap, \(least.chunker.spec) saves \(percent(saved(least))) for \(ratio(blocks(least)))× the blocks."
        }
        if let fastest = summaries.filter(\.onParetoFront).max(by: { $0.addMBps < $1.addMBps }), fastest.chunker != pick.chunker {
            text += " The fastest chunker on the Pareto front is \(fastest.chunker.spec) (\(Int(fastest.addMBps.rounded())) MB/s on one core with hashing, \(percent(fastest.saving)) of all bytes saved)."
        }
        return text
    }

    static func ratio(_ value: Double) -> String { "\((value * 10).rounded() / 10)" }

    /// A fraction as a whole percentage, "41 %".
    public static func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded())) %" }
}
