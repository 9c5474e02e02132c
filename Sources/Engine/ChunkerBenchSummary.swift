import Chunking

/// One chunker's figures over every input, and the choice they suggest (spec/cli.md, the
/// "what to pick" paragraph of `cairn bench chunkers --html`).
public struct ChunkerBenchSummary: Sendable {
    public var chunker: BenchChunker
    public var bytes = 0
    /// Bytes pushes of the inputs in order would upload (the sum of `newBytes`).
    public var uploadBytes = 0
    public var chunks = 0
    public var chunkSeconds = 0.0
    public var hashSeconds = 0.0
    /// On the Pareto front of (dedup saving, add throughput): no other chunker is at least as
    /// good on both and better on one.
    public var onParetoFront = false

    /// The fraction of the content bytes a push does not upload.
    public var saving: Double { bytes > 0 ? 1 - Double(uploadBytes) / Double(bytes) : 0 }
    public var addMBps: Double { chunkSeconds + hashSeconds > 0 ? Double(bytes) / 1e6 / (chunkSeconds + hashSeconds) : 0 }

    /// One summary per chunker, in the order of `chunkers`, over the rows measured.
    public static func summaries(of rows: [ChunkerBenchRow], chunkers: [BenchChunker]) -> [ChunkerBenchSummary] {
        var result = chunkers.map { ChunkerBenchSummary(chunker: $0) }
        for row in rows {
            guard let index = chunkers.firstIndex(of: row.chunker) else { continue }
            result[index].bytes += row.bytes
            result[index].uploadBytes += row.newBytes
            result[index].chunks += row.chunks
            result[index].chunkSeconds += row.chunkSeconds
            result[index].hashSeconds += row.hashSeconds
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

    /// The "what to pick" paragraph: the chunker that uploads least against the baseline
    /// (`size-262144` when measured, else the first chunker), with the price in blocks, then
    /// the fastest chunker on the Pareto front.
    public static func advice(_ summaries: [ChunkerBenchSummary]) -> String {
        guard let baseline = summaries.first(where: { $0.chunker.spec.description == "size-262144" }) ?? summaries.first,
              baseline.bytes > 0 else { return "Nothing was measured." }
        let best = summaries.min { ($0.uploadBytes, $0.chunks) < ($1.uploadBytes, $1.chunks) }!
        var text: String
        let saved = 1 - Double(best.uploadBytes) / Double(Swift.max(1, baseline.uploadBytes))
        if best.chunker == baseline.chunker || saved < 0.01 {
            text = "No chunker uploads even 1 % fewer bytes than \(baseline.chunker.spec) on this data: keep it."
        } else {
            let blocks = Double(best.chunks) / Double(Swift.max(1, baseline.chunks)) - 1
            let price = blocks >= 0 ? "\(percent(blocks)) more blocks" : "\(percent(-blocks)) fewer blocks"
            text = "\(best.chunker.spec) saves \(percent(saved)) of upload bytes for \(price) than \(baseline.chunker.spec)."
        }
        if let fastest = summaries.filter(\.onParetoFront).max(by: { $0.addMBps < $1.addMBps }), fastest.chunker != best.chunker {
            text += " The fastest chunker on the Pareto front is \(fastest.chunker.spec) (\(Int(fastest.addMBps.rounded())) MB/s on one core with hashing, \(percent(fastest.saving)) saved)."
        }
        return text
    }

    /// A fraction as a whole percentage, "41 %".
    public static func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded())) %" }
}
