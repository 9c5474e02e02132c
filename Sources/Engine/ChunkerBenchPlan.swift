public import Chunking
import Foundation

import CairnSystem

/// A chunker of the plan, and the sweep points it stands for (from `--sweep`; one spec can be
/// a point of two sweeps).
public struct BenchChunker: Hashable, Sendable {
    public var spec: ChunkerSpec
    public var sweeps: [SweepPoint]

    public init(spec: ChunkerSpec, sweep: SweepPoint? = nil) {
        self.spec = spec
        self.sweeps = sweep.map { [$0] } ?? []
    }

    /// The plan without repeats: each spec once, at its first place, with the sweep points of
    /// all its occurrences.
    public static func merged(_ planned: [BenchChunker]) -> [BenchChunker] {
        var result: [BenchChunker] = []
        for chunker in planned {
            if let index = result.firstIndex(where: { $0.spec == chunker.spec }) {
                result[index].sweeps += chunker.sweeps.filter { !result[index].sweeps.contains($0) }
            } else {
                result.append(chunker)
            }
        }
        return result
    }

    /// One point of a sweep: the parameter varied and its value.
    public struct SweepPoint: Hashable, Sendable {
        public var parameter: String
        public var value: Int
    }

    /// `size-262144`, `size-1048576`, `rabin`, `buzhash`, `fastcdc-16384-65536-262144`, `fastcdc`.
    public static let defaults: [BenchChunker] = [
        "size-262144", "size-1048576", "rabin", "buzhash", "fastcdc-16384-65536-262144", "fastcdc",
    ].map { BenchChunker(spec: try! ChunkerSpec(parsing: $0)) }

    /// The chunkers of a `--sweep` spec:
    /// - `fastcdc:avg=LO..HI`: FastCDC with every power-of-two average from LO to HI, minimum
    ///   average/4, maximum average×4, normalization 1;
    /// - `normalization=LO..HI` (or `fastcdc:normalization=…`): the default FastCDC sizes
    ///   (65536-262144-1048576) at each normalization level.
    /// Sizes take the binary suffixes K, M and G.
    public static func sweep(_ text: String) throws -> [BenchChunker] {
        func fail(_ reason: String) -> EngineError { EngineError(.invalidInput, "--sweep \(text): \(reason)") }
        var body = Substring(text)
        if body.hasPrefix("fastcdc:") { body = body.dropFirst("fastcdc:".count) }
        guard let equals = body.firstIndex(of: "="), let dots = body.range(of: "..") else {
            throw fail("expected fastcdc:avg=LO..HI or normalization=LO..HI")
        }
        let parameter = String(body[..<equals])
        guard let low = size(body[body.index(after: equals)..<dots.lowerBound]),
              let high = size(body[dots.upperBound...]), low <= high else {
            throw fail("expected a range LO..HI of numbers with LO ≤ HI")
        }
        var points: [BenchChunker] = []
        switch parameter {
        case "avg":
            guard low.nonzeroBitCount == 1 else { throw fail("the averages must be powers of two") }
            var average = low
            while average <= high {
                let spec = ChunkerSpec.fastCDC(minimum: average / 4, average: average, maximum: average * 4, normalization: 1)
                do { _ = try ChunkerSpec(parsing: spec.description) } catch { throw fail(error.description) }
                points.append(BenchChunker(spec: spec, sweep: SweepPoint(parameter: "avg", value: average)))
                average *= 2
            }
        case "normalization":
            guard high <= 3 else { throw fail("normalization levels are 0…3") }
            for level in low...high {
                let spec = ChunkerSpec.fastCDC(minimum: 65_536, average: 262_144, maximum: 1_048_576, normalization: level)
                points.append(BenchChunker(spec: spec, sweep: SweepPoint(parameter: "normalization", value: level)))
            }
        default:
            throw fail("unknown parameter '\(parameter)' (avg or normalization)")
        }
        return points
    }

    /// A decimal number with an optional binary suffix K, M or G.
    static func size(_ text: Substring) -> Int? {
        var digits = text
        var scale = 1
        switch text.last {
        case "K", "k": scale = 1 << 10
        case "M", "m": scale = 1 << 20
        case "G", "g": scale = 1 << 30
        default: break
        }
        if scale != 1 { digits = digits.dropLast() }
        guard let value = Int(digits), value >= 0, value <= Int.max / scale else { return nil }
        return value * scale
    }
}
