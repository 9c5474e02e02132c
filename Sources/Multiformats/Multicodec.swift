/// A multicodec code: the number that names a hash function, a content type or a container
/// format. Any code a varint can hold is representable (so unknown codes read from a CID or a
/// multihash survive a round trip); the codes this module knows by name are static members.
///
/// Codes and names follow the multicodec table (github.com/multiformats/multicodec, table.csv).
public struct Multicodec: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The code. Always `<= Varint.maxValue`.
    public let rawValue: UInt64

    /// Fails for codes above `Varint.maxValue` (2^63 - 1), which cannot be varint-encoded.
    @inlinable
    public init?(rawValue: UInt64) {
        guard rawValue <= Varint.maxValue else { return nil }
        self.rawValue = rawValue
    }

    @inlinable
    init(unchecked rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// The code (same as `rawValue`).
    @inlinable public var code: UInt64 { rawValue }

    @inlinable
    public static func < (lhs: Multicodec, rhs: Multicodec) -> Bool { lhs.rawValue < rhs.rawValue }

    // MARK: Multihash functions (table tag `multihash`, `hash` for murmur3)
    public static let identity = Multicodec(unchecked: 0x00)
    public static let sha1 = Multicodec(unchecked: 0x11)
    public static let sha2_256 = Multicodec(unchecked: 0x12)
    public static let sha2_512 = Multicodec(unchecked: 0x13)
    public static let sha3_512 = Multicodec(unchecked: 0x14)
    public static let sha3_384 = Multicodec(unchecked: 0x15)
    public static let sha3_256 = Multicodec(unchecked: 0x16)
    public static let sha3_224 = Multicodec(unchecked: 0x17)
    public static let blake3 = Multicodec(unchecked: 0x1e)
    public static let sha2_384 = Multicodec(unchecked: 0x20)
    public static let murmur3_x64_64 = Multicodec(unchecked: 0x22)
    public static let sha2_224 = Multicodec(unchecked: 0x1013)
    public static let sha2_512_224 = Multicodec(unchecked: 0x1014)
    public static let sha2_512_256 = Multicodec(unchecked: 0x1015)
    public static let blake2b_256 = Multicodec(unchecked: 0xb220)
    public static let blake2b_512 = Multicodec(unchecked: 0xb240)
    public static let blake2s_256 = Multicodec(unchecked: 0xb260)

    // MARK: Content types and containers
    public static let cidv1 = Multicodec(unchecked: 0x01)
    public static let cbor = Multicodec(unchecked: 0x51)
    public static let raw = Multicodec(unchecked: 0x55)
    public static let dagPB = Multicodec(unchecked: 0x70)
    public static let dagCBOR = Multicodec(unchecked: 0x71)
    public static let libp2pKey = Multicodec(unchecked: 0x72)
    public static let dagJSON = Multicodec(unchecked: 0x0129)
    public static let json = Multicodec(unchecked: 0x0200)
    public static let car = Multicodec(unchecked: 0x0202)

    /// Every code this module knows by name, in ascending order.
    public static let allKnown: [Multicodec] = [
        .identity, .cidv1, .sha1, .sha2_256, .sha2_512, .sha3_512, .sha3_384, .sha3_256, .sha3_224,
        .blake3, .sha2_384, .murmur3_x64_64, .cbor, .raw, .dagPB, .dagCBOR, .libp2pKey, .dagJSON,
        .json, .car, .sha2_224, .sha2_512_224, .sha2_512_256, .blake2b_256, .blake2b_512, .blake2s_256,
    ]

    /// The table name (e.g. `"sha2-256"`, `"dag-pb"`), or nil for a code we do not know.
    public var name: String? {
        switch rawValue {
        case 0x00: return "identity"
        case 0x01: return "cidv1"
        case 0x11: return "sha1"
        case 0x12: return "sha2-256"
        case 0x13: return "sha2-512"
        case 0x14: return "sha3-512"
        case 0x15: return "sha3-384"
        case 0x16: return "sha3-256"
        case 0x17: return "sha3-224"
        case 0x1e: return "blake3"
        case 0x20: return "sha2-384"
        case 0x22: return "murmur3-x64-64"
        case 0x51: return "cbor"
        case 0x55: return "raw"
        case 0x70: return "dag-pb"
        case 0x71: return "dag-cbor"
        case 0x72: return "libp2p-key"
        case 0x0129: return "dag-json"
        case 0x0200: return "json"
        case 0x0202: return "car"
        case 0x1013: return "sha2-224"
        case 0x1014: return "sha2-512-224"
        case 0x1015: return "sha2-512-256"
        case 0xb220: return "blake2b-256"
        case 0xb240: return "blake2b-512"
        case 0xb260: return "blake2s-256"
        default: return nil
        }
    }

    /// The code with this table name (exact, lower case), or nil for a name we do not know.
    public init?(name: some StringProtocol) {
        guard let found = Multicodec.allKnown.first(where: { $0.name! == name }) else { return nil }
        self = found
    }

    /// Like `init?(name:)` but throws `.unknownCodec` with the name in the message.
    public static func named(_ name: some StringProtocol) throws(MultiformatsError) -> Multicodec {
        guard let codec = Multicodec(name: name) else {
            throw MultiformatsError(.unknownCodec, "unknown multicodec name '\(name)'")
        }
        return codec
    }

    /// The name, or `0x…` (lower-case hex) for an unknown code.
    public var description: String {
        name ?? "0x" + String(rawValue, radix: 16)
    }
}
