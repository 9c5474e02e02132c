/// Count, mean, standard deviation (population), minimum and maximum of chunk lengths (Welford).
public struct ChunkStatistics: Sendable {
    public private(set) var count = 0
    public private(set) var mean = 0.0
    private var squares = 0.0
    public private(set) var minimum = 0
    public private(set) var maximum = 0

    public init() {}

    public mutating func add(_ length: Int) {
        if count == 0 {
            minimum = length
            maximum = length
        } else {
            minimum = min(minimum, length)
            maximum = max(maximum, length)
        }
        count += 1
        let delta = Double(length) - mean
        mean += delta / Double(count)
        squares += delta * (Double(length) - mean)
    }

    public var standardDeviation: Double { count > 0 ? (squares / Double(count)).squareRoot() : 0 }
}
