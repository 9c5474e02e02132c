@_exported public import CairnErrors

/// The one error type of the `Multiformats` module.
///
/// `code` says what kind of problem it is (stable, for `switch`/comparison), `offset` says where
/// (a byte offset into the input the failing call was given, when there is one), and
/// `description` is a one-line message for people, e.g.
/// `invalid base32 character 'x' at offset 7`.
public struct MultiformatsError: CairnError {
    /// The kind of failure. A struct with static members so new codes can be added without
    /// breaking exhaustive `switch`es in callers.
    public struct Code: ErrorCode {
        public let rawValue: UInt8
        @inlinable init(_ raw: UInt8) { self.rawValue = raw }

        /// A varint ended (the input ran out) while its last byte still had the continuation bit.
        public static let varintTruncated = Code(1)
        /// A varint was not in its shortest form (a trailing `0x00` group).
        public static let varintNotMinimal = Code(2)
        /// A varint was longer than 9 bytes, i.e. its value is 2^63 or more.
        public static let varintOverflow = Code(3)
        /// A multibase prefix or name that is not in our table.
        public static let unknownMultibase = Code(4)
        /// A character that is not in the alphabet of the base being decoded.
        public static let invalidCharacter = Code(5)
        /// Missing, misplaced, excess or forbidden `=` padding.
        public static let invalidPadding = Code(6)
        /// An input whose length is impossible for what is being decoded.
        public static let invalidLength = Code(7)
        /// A text encoding whose unused trailing bits are not zero (two texts would decode alike).
        public static let nonCanonical = Code(8)
        /// A multicodec name that is not in our table.
        public static let unknownCodec = Code(9)
        /// A multihash digest length that is wrong for its hash function.
        public static let digestLength = Code(10)
        /// Bytes or text that are not a valid CID.
        public static let invalidCID = Code(11)
        /// A CID version other than 0 and 1.
        public static let unsupportedCIDVersion = Code(12)
        /// Bytes left over after a complete value that must fill the whole input.
        public static let trailingBytes = Code(13)
        /// A request that the value cannot satisfy (e.g. a CIDv0 in base32).
        public static let unsupportedEncoding = Code(14)
        /// A CID whose hash function or digest length Kubo refuses as insecure (go-verifcid).
        public static let insecureCID = Code(15)

        public static let names = [
            "varintTruncated", "varintNotMinimal", "varintOverflow", "unknownMultibase",
            "invalidCharacter", "invalidPadding", "invalidLength", "nonCanonical", "unknownCodec",
            "digestLength", "invalidCID", "unsupportedCIDVersion", "trailingBytes",
            "unsupportedEncoding", "insecureCID",
        ]
    }

    /// What went wrong.
    public var code: Code
    /// The byte offset into the input where the problem was found, when it has a position.
    public var offset: Int?
    /// The message without the position.
    public var message: String

    public init(_ code: Code, _ message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { return "\(message) at offset \(offset)" }
        return message
    }

    /// The same error with its offset moved by `delta` (used when a nested decoder reports an
    /// offset relative to a sub-range).
    @inlinable
    func shifted(by delta: Int) -> MultiformatsError {
        var copy = self
        if let offset { copy.offset = offset + delta }
        return copy
    }
}

/// Shows a byte of text input in an error message: the character for printable ASCII,
/// otherwise its hex value.
@usableFromInline
func describeByte(_ byte: UInt8) -> String {
    if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    let digits = Array("0123456789abcdef")
    return "byte 0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])"
}
