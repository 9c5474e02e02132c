import CairnSystem

/// A parsed and validated `--chunker` string.
///
/// Accepted forms (Kubo's `chunker.FromString` plus FastCDC):
///
/// | text | meaning |
/// |---|---|
/// | `""`, `default` | `size-262144` |
/// | `size-N` | fixed size, 1 ≤ N ≤ 2096896 |
/// | `rabin` | `rabin-262144` |
/// | `rabin-AVG` | min = AVG/3, max = AVG + AVG/2 (max ≤ 2096896, min ≥ 16) |
/// | `rabin-MIN-AVG-MAX` | 16 ≤ MIN < AVG < MAX ≤ 2096896; parts may carry `min:`/`avg:`/`max:` labels |
/// | `buzhash` | Kubo's buzhash (128 KiB … 512 KiB) |
/// | `fastcdc` | `fastcdc-65536-262144-1048576-1` |
/// | `fastcdc-AVG` | min = AVG/4, max = AVG·4, normalization 1 |
/// | `fastcdc-MIN-AVG-MAX[-NC]` | the `fastcdc` crate's bounds, MIN ≤ AVG ≤ MAX, NC in 0…3 (default 1) |
public enum ChunkerSpec: Hashable, Sendable {
    /// Consecutive chunks of `size` bytes; the last one holds the remainder.
    case fixed(size: Int)
    /// boxo's rabin chunker (whyrusleeping/chunker, 16-byte window).
    case rabin(minimum: Int, average: Int, maximum: Int)
    /// boxo's buzhash chunker (32-byte window, 128 KiB … 512 KiB, 17-bit mask).
    case buzhash
    /// FastCDC 2020 as the `fastcdc` crate's `v2020` module cuts.
    case fastCDC(minimum: Int, average: Int, maximum: Int, normalization: Int)

    /// Kubo's default chunker, `size-262144`.
    public static let kuboDefault = ChunkerSpec.fixed(size: Chunking.kuboDefaultChunkSize)

    /// `fastcdc` with no numbers: 65536-262144-1048576, normalization level 1.
    public static let fastCDCDefault = ChunkerSpec.fastCDC(
        minimum: 65_536, average: 262_144, maximum: 1_048_576, normalization: 1)

    /// The largest chunk this spec can produce.
    public var maximumChunkLength: Int {
        switch self {
        case .fixed(let size): return size
        case .rabin(_, _, let maximum): return maximum
        case .buzhash: return BuzhashChunker.maximum
        case .fastCDC(_, _, let maximum, _): return maximum
        }
    }

    /// The boundary finder for this spec.
    public func makeChunker() -> Chunker {
        switch self {
        case .fixed(let size):
            return .fixed(FixedSizeChunker(size: size))
        case .rabin(let minimum, let average, let maximum):
            return .rabin(RabinChunker(minimum: minimum, average: average, maximum: maximum))
        case .buzhash:
            return .buzhash(BuzhashChunker())
        case .fastCDC(let minimum, let average, let maximum, let normalization):
            return .fastCDC(
                FastCDCChunker(minimum: minimum, average: average, maximum: maximum, normalization: normalization))
        }
    }
}

extension ChunkerSpec: CustomStringConvertible {
    /// The canonical spec text, accepted back by ``init(parsing:)``.
    public var description: String {
        switch self {
        case .fixed(let size): return "size-\(size)"
        case .rabin(let minimum, let average, let maximum): return "rabin-\(minimum)-\(average)-\(maximum)"
        case .buzhash: return "buzhash"
        case .fastCDC(let minimum, let average, let maximum, let normalization):
            return "fastcdc-\(minimum)-\(average)-\(maximum)-\(normalization)"
        }
    }
}

/// A `--chunker` string that cannot be used; `description` is a one-line message naming the problem.
public struct ChunkerSpecError: CairnError {
    public struct Code: ErrorCode {
        public let rawValue: UInt8
        init(_ raw: UInt8) { self.rawValue = raw }
        /// The text names no chunker, or its parameters are malformed or out of bounds.
        public static let invalidSpec = Code(1)
        public static let names = ["invalidSpec"]
    }

    /// Always `.invalidSpec` today; compare codes, not messages.
    public var code: Code { .invalidSpec }
    /// The text that was rejected.
    public var spec: String
    /// What is wrong with it.
    public var reason: String

    public init(spec: String, reason: String) {
        self.spec = spec
        self.reason = reason
    }

    public var message: String { "invalid chunker \"\(spec)\": \(reason)" }
    public var description: String { message }
}

extension ChunkerSpec {
    /// The bounds the `fastcdc` crate (v2020) asserts on.
    public enum FastCDCBounds {
        public static let minimum: ClosedRange<Int> = 64...1_048_576
        public static let average: ClosedRange<Int> = 256...4_194_304
        public static let maximum: ClosedRange<Int> = 1024...16_777_216
        public static let normalization: ClosedRange<Int> = 0...3
    }

    /// The smallest minimum boxo's rabin accepts (its window length).
    public static let rabinMinimumFloor = RabinChunker.windowLength

    /// Parses and validates a chunker string.
    public init(parsing text: String) throws(ChunkerSpecError) {
        func fail(_ reason: String) -> ChunkerSpecError { ChunkerSpecError(spec: text, reason: reason) }

        if text.isEmpty || text == "default" {
            self = .kuboDefault
            return
        }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let limit = Chunking.kuboChunkSizeLimit

        /// Parses one decimal part; `label` is the optional `name:` prefix Kubo allows on rabin parts.
        func number(_ part: String, what: String, label: String? = nil) throws(ChunkerSpecError) -> Int {
            var digits = Substring(part)
            if let colon = part.firstIndex(of: ":") {
                guard let label else { throw fail("\(what) \"\(part)\" is not a number") }
                let given = part[..<colon]
                guard given == label else { throw fail("\(what) label must be \"\(label):\", not \"\(given):\"") }
                digits = part[part.index(after: colon)...]
            }
            guard !digits.isEmpty else { throw fail("\(what) is missing") }
            var value = 0
            for byte in digits.utf8 {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                    throw fail("\(what) \"\(digits)\" is not a number")
                }
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw fail("\(what) \(digits) is too large") }
                value = next
            }
            return value
        }

        switch parts[0] {
        case "size":
            guard parts.count == 2 else { throw fail("expected size-N with one number") }
            let size = try number(parts[1], what: "size")
            guard size >= 1 else { throw fail("size must be at least 1") }
            guard size <= limit else { throw fail("size \(size) exceeds Kubo's limit of \(limit) bytes") }
            self = .fixed(size: size)

        case "rabin":
            switch parts.count {
            case 1:
                self = .rabin(minimum: 262_144 / 3, average: 262_144, maximum: 262_144 + 262_144 / 2)
            case 2:
                let average = try number(parts[1], what: "rabin average")
                let (maximum, overflow) = average.addingReportingOverflow(average / 2)
                guard !overflow, maximum <= limit else {
                    throw fail("rabin average \(average) gives a maximum above Kubo's limit of \(limit) bytes")
                }
                guard average / 3 >= Self.rabinMinimumFloor else {
                    throw fail("rabin average \(average) gives a minimum (average/3) below \(Self.rabinMinimumFloor)")
                }
                self = .rabin(minimum: average / 3, average: average, maximum: maximum)
            case 4:
                let minimum = try number(parts[1], what: "rabin minimum", label: "min")
                let average = try number(parts[2], what: "rabin average", label: "avg")
                let maximum = try number(parts[3], what: "rabin maximum", label: "max")
                guard minimum >= Self.rabinMinimumFloor else {
                    throw fail("rabin minimum \(minimum) is below \(Self.rabinMinimumFloor)")
                }
                guard minimum < average, average < maximum else {
                    throw fail("rabin sizes must satisfy minimum < average < maximum, got \(minimum)-\(average)-\(maximum)")
                }
                guard maximum <= limit else {
                    throw fail("rabin maximum \(maximum) exceeds Kubo's limit of \(limit) bytes")
                }
                self = .rabin(minimum: minimum, average: average, maximum: maximum)
            default:
                throw fail("expected rabin, rabin-AVG or rabin-MIN-AVG-MAX")
            }

        case "buzhash":
            guard parts.count == 1 else { throw fail("buzhash takes no parameters") }
            self = .buzhash

        case "fastcdc":
            var minimum: Int, average: Int, maximum: Int, normalization = 1
            switch parts.count {
            case 1:
                self = .fastCDCDefault
                return
            case 2:
                average = try number(parts[1], what: "fastcdc average")
                guard Self.FastCDCBounds.average.contains(average) else {
                    throw fail("fastcdc average \(average) is outside \(Self.FastCDCBounds.average)")
                }
                minimum = average / 4
                maximum = average * 4
            case 4, 5:
                minimum = try number(parts[1], what: "fastcdc minimum")
                average = try number(parts[2], what: "fastcdc average")
                maximum = try number(parts[3], what: "fastcdc maximum")
                if parts.count == 5 {
                    normalization = try number(parts[4], what: "fastcdc normalization level")
                }
            default:
                throw fail("expected fastcdc, fastcdc-AVG, fastcdc-MIN-AVG-MAX or fastcdc-MIN-AVG-MAX-NC")
            }
            guard Self.FastCDCBounds.minimum.contains(minimum) else {
                throw fail("fastcdc minimum \(minimum) is outside \(Self.FastCDCBounds.minimum)")
            }
            guard Self.FastCDCBounds.average.contains(average) else {
                throw fail("fastcdc average \(average) is outside \(Self.FastCDCBounds.average)")
            }
            guard Self.FastCDCBounds.maximum.contains(maximum) else {
                throw fail("fastcdc maximum \(maximum) is outside \(Self.FastCDCBounds.maximum)")
            }
            guard minimum <= average, average <= maximum else {
                throw fail("fastcdc sizes must satisfy minimum ≤ average ≤ maximum, got \(minimum)-\(average)-\(maximum)")
            }
            guard Self.FastCDCBounds.normalization.contains(normalization) else {
                throw fail("fastcdc normalization level \(normalization) is outside 0...3")
            }
            self = .fastCDC(minimum: minimum, average: average, maximum: maximum, normalization: normalization)

        default:
            throw fail("unknown chunker \"\(parts[0])\" (expected size-N, rabin…, buzhash or fastcdc…)")
        }
    }
}
