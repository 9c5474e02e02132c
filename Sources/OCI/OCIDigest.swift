import Hashing

/// A content digest as the image spec writes it: `algorithm:encoded` (descriptor.md,
/// "Digests"). Cairn verifies the two registered algorithms, `sha256` (64 lower-case hex
/// digits) and `sha512` (128); any other string is refused when read.
public struct OCIDigest: Hashable, Sendable, CustomStringConvertible {
    public enum Algorithm: String, Hashable, Sendable {
        case sha256, sha512

        var hashAlgorithm: HashAlgorithm { self == .sha256 ? .sha2_256 : .sha2_512 }
        var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    public let algorithm: Algorithm
    /// The lower-case hex encoding.
    public let hex: String

    /// Parses and checks `algorithm:hex`; `context` names where the string was found.
    public init(_ text: String, context: String = "digest") throws(OCIError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw OCIError(.invalidLayout, "\(context): '\(text)' is not a digest (algorithm:hex)") }
        guard let algorithm = Algorithm(rawValue: String(parts[0])) else {
            throw OCIError(.invalidLayout, "\(context): unsupported digest algorithm '\(parts[0])' in '\(text)'")
        }
        let hex = parts[1].utf8
        guard hex.count == algorithm.hexLength, hex.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw OCIError(.invalidLayout, "\(context): '\(text)' is not \(algorithm.hexLength) lower-case hex digits after '\(algorithm.rawValue):'")
        }
        self.algorithm = algorithm
        self.hex = String(parts[1])
    }

    /// The digest of a finished hash.
    init(algorithm: Algorithm, digest: Digest) {
        self.algorithm = algorithm
        self.hex = digest.hex
    }

    public var description: String { "\(algorithm.rawValue):\(hex)" }

    /// Where the blob lives in an image layout: `blobs/<alg>/<hex>`.
    public var blobPath: String { "blobs/\(algorithm.rawValue)/\(hex)" }

    /// The digest of bytes in memory.
    static func of(_ bytes: [UInt8], algorithm: Algorithm = .sha256) -> OCIDigest {
        OCIDigest(algorithm: algorithm, digest: bytes.withUnsafeBytes { algorithm.hashAlgorithm.hash($0) })
    }
}
