/// A multibase: a text encoding of bytes, named by a one-character prefix
/// (github.com/multiformats/multibase, multibase.csv; rules in spec/multiformats.md).
///
/// `Multibase.decode(_:)` reads the prefix and decodes the rest; `encode(_:)` writes the prefix
/// and the encoding. All work is done on UTF-8 bytes with table lookups.
public struct Multibase: Hashable, Sendable, CustomStringConvertible {
    @usableFromInline let index: UInt8

    @inlinable init(index: UInt8) { self.index = index }

    @usableFromInline var spec: BaseSpec { Multibase.specs[Int(index)] }

    /// The multibase name, e.g. `"base32"`.
    public var name: String { spec.name }
    /// The prefix character, e.g. `"b"` (`"\0"` for identity).
    public var prefix: Character { Character(Unicode.Scalar(spec.prefix)) }
    /// The prefix as its (ASCII) byte.
    public var prefixByte: UInt8 { spec.prefix }
    public var description: String { name }

    public static let identity = Multibase(index: 0)
    public static let base16 = Multibase(index: 1)
    public static let base16upper = Multibase(index: 2)
    public static let base32 = Multibase(index: 3)
    public static let base32upper = Multibase(index: 4)
    public static let base32pad = Multibase(index: 5)
    public static let base32padupper = Multibase(index: 6)
    public static let base32hex = Multibase(index: 7)
    public static let base32hexupper = Multibase(index: 8)
    public static let base32hexpad = Multibase(index: 9)
    public static let base32hexpadupper = Multibase(index: 10)
    public static let base32z = Multibase(index: 11)
    public static let base36 = Multibase(index: 12)
    public static let base36upper = Multibase(index: 13)
    public static let base58btc = Multibase(index: 14)
    public static let base58flickr = Multibase(index: 15)
    public static let base64 = Multibase(index: 16)
    public static let base64pad = Multibase(index: 17)
    public static let base64url = Multibase(index: 18)
    public static let base64urlpad = Multibase(index: 19)

    /// Every multibase this module implements.
    public static let allCases: [Multibase] = (0..<UInt8(specs.count)).map { Multibase(index: $0) }

    @usableFromInline
    static let specs: [BaseSpec] = {
        let b32 = "abcdefghijklmnopqrstuvwxyz234567"
        let b32hex = "0123456789abcdefghijklmnopqrstuv"
        let b36 = "0123456789abcdefghijklmnopqrstuvwxyz"
        let b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return [
            BaseSpec("identity", "\u{0}", .identity, ""),
            BaseSpec("base16", "f", .base16, "0123456789abcdef", caseInsensitive: true),
            BaseSpec("base16upper", "F", .base16, "0123456789ABCDEF", caseInsensitive: true),
            BaseSpec("base32", "b", .packed(bitsPerChar: 5), b32, caseInsensitive: true),
            BaseSpec("base32upper", "B", .packed(bitsPerChar: 5), b32.uppercased(), caseInsensitive: true),
            BaseSpec("base32pad", "c", .packed(bitsPerChar: 5), b32, padded: true, caseInsensitive: true),
            BaseSpec("base32padupper", "C", .packed(bitsPerChar: 5), b32.uppercased(), padded: true, caseInsensitive: true),
            BaseSpec("base32hex", "v", .packed(bitsPerChar: 5), b32hex, caseInsensitive: true),
            BaseSpec("base32hexupper", "V", .packed(bitsPerChar: 5), b32hex.uppercased(), caseInsensitive: true),
            BaseSpec("base32hexpad", "t", .packed(bitsPerChar: 5), b32hex, padded: true, caseInsensitive: true),
            BaseSpec("base32hexpadupper", "T", .packed(bitsPerChar: 5), b32hex.uppercased(), padded: true, caseInsensitive: true),
            BaseSpec("base32z", "h", .packed(bitsPerChar: 5), "ybndrfg8ejkmcpqxot1uwisza345h769"),
            BaseSpec("base36", "k", .radix(36), b36, caseInsensitive: true),
            BaseSpec("base36upper", "K", .radix(36), b36.uppercased(), caseInsensitive: true),
            BaseSpec("base58btc", "z", .radix(58), "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"),
            BaseSpec("base58flickr", "Z", .radix(58), "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"),
            BaseSpec("base64", "m", .packed(bitsPerChar: 6), b64),
            BaseSpec("base64pad", "M", .packed(bitsPerChar: 6), b64, padded: true),
            BaseSpec("base64url", "u", .packed(bitsPerChar: 6), b64url),
            BaseSpec("base64urlpad", "U", .packed(bitsPerChar: 6), b64url, padded: true),
        ]
    }()

    /// prefix byte -> index + 1 (0 = none).
    @usableFromInline
    static let prefixTable: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for (i, spec) in specs.enumerated() { table[Int(spec.prefix)] = UInt8(i + 1) }
        return table
    }()

    /// The multibase with this name (e.g. `"base58btc"`), or nil.
    public init?(name: some StringProtocol) {
        guard let i = Multibase.specs.firstIndex(where: { $0.name == name }) else { return nil }
        self.init(index: UInt8(i))
    }

    /// The multibase with this prefix character, or nil.
    public init?(prefix: Character) {
        guard let ascii = prefix.asciiValue else { return nil }
        self.init(prefixByte: ascii)
    }

    /// The multibase with this prefix byte, or nil.
    @inlinable
    public init?(prefixByte: UInt8) {
        let entry = Multibase.prefixTable[Int(prefixByte)]
        guard entry != 0 else { return nil }
        self.init(index: entry - 1)
    }

    // MARK: Sizes

    /// An upper bound for the length (without prefix) of the encoding of `byteCount` bytes.
    public func maxEncodedLength(byteCount: Int) -> Int { spec.maxEncodedLength(byteCount) }
    /// An upper bound for the number of bytes `characterCount` characters (without prefix) decode to.
    public func maxDecodedLength(characterCount: Int) -> Int { spec.maxDecodedLength(characterCount) }

    // MARK: Encoding

    /// Writes the encoding of `bytes` (without prefix) to `output`, which must hold at least
    /// `maxEncodedLength(byteCount:)` bytes; returns the number of bytes written.
    public func encode(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        spec.encode(bytes, into: output)
    }

    /// The multibase text of `bytes`: the prefix followed by the encoding.
    ///
    /// For `.identity` the result is the bytes read as UTF-8, so it is only faithful when the
    /// bytes are valid UTF-8 (invalid sequences become U+FFFD).
    public func encode(_ bytes: some Collection<UInt8>) -> String {
        encodeString(bytes, withPrefix: true)
    }

    /// The encoding of `bytes` without the prefix character.
    public func encodeWithoutPrefix(_ bytes: some Collection<UInt8>) -> String {
        encodeString(bytes, withPrefix: false)
    }

    func encodeString(_ bytes: some Collection<UInt8>, withPrefix: Bool) -> String {
        if let s = bytes.withContiguousStorageIfAvailable({ encodeString(UnsafeRawBufferPointer($0), withPrefix: withPrefix) }) {
            return s
        }
        return Array(bytes).withUnsafeBytes { encodeString($0, withPrefix: withPrefix) }
    }

    @usableFromInline
    func encodeString(_ bytes: UnsafeRawBufferPointer, withPrefix: Bool) -> String {
        let spec = self.spec
        let extra = withPrefix ? 1 : 0
        return String(unsafeUninitializedCapacity: spec.maxEncodedLength(bytes.count) + extra) { buffer in
            if withPrefix { buffer[0] = spec.prefix }
            let rest = UnsafeMutableBufferPointer(rebasing: buffer[extra...])
            return extra + spec.encode(bytes, into: rest)
        }
    }

    // MARK: Decoding

    /// Decodes `characters` (UTF-8, without prefix) into `output`, which must hold at least
    /// `maxDecodedLength(characterCount:)` bytes; returns the number of bytes written. Error
    /// offsets are `offsetBase` + the index into `characters`.
    public func decode(
        _ characters: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>, offsetBase: Int = 0
    ) throws(MultiformatsError) -> Int {
        try spec.decode(characters, into: output, offsetBase: offsetBase)
    }

    /// Decodes text in this base that has no prefix. Error offsets count UTF-8 bytes of `text`.
    public func decodeWithoutPrefix(_ text: some StringProtocol) throws(MultiformatsError) -> [UInt8] {
        try withUTF8(text) { (utf8) throws(MultiformatsError) in try decodeToArray(utf8, offsetBase: 0) }
    }

    /// Decodes multibase text: reads the prefix, then decodes the rest with that base.
    /// Error offsets count UTF-8 bytes from the start of `text` (the prefix is offset 0).
    public static func decode(_ text: some StringProtocol) throws(MultiformatsError) -> (Multibase, [UInt8]) {
        try withUTF8(text) { (utf8) throws(MultiformatsError) in
            let base = try Multibase.prefix(of: utf8, text: text)
            let bytes = try base.decodeToArray(UnsafeBufferPointer(rebasing: utf8[1...]), offsetBase: 1)
            return (base, bytes)
        }
    }

    /// The multibase named by the first byte of `utf8`; `text` is only used for the message.
    static func prefix(of utf8: UnsafeBufferPointer<UInt8>, text: some StringProtocol) throws(MultiformatsError) -> Multibase {
        guard let first = utf8.first else {
            throw MultiformatsError(.invalidLength, "empty multibase text (no prefix)", offset: 0)
        }
        guard let base = Multibase(prefixByte: first) else {
            let shown = text.first.map { $0.isASCII ? describeByte(first) : "'\($0)'" } ?? describeByte(first)
            throw MultiformatsError(.unknownMultibase, "unknown multibase prefix \(shown)", offset: 0)
        }
        return base
    }

    func decodeToArray(_ utf8: UnsafeBufferPointer<UInt8>, offsetBase: Int) throws(MultiformatsError) -> [UInt8] {
        let spec = self.spec
        var failure: MultiformatsError?
        let bytes = [UInt8](unsafeUninitializedCapacity: spec.maxDecodedLength(utf8.count)) { buffer, count in
            do throws(MultiformatsError) {
                count = try spec.decode(utf8, into: buffer, offsetBase: offsetBase)
            } catch {
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }
}

/// Runs `body` on the UTF-8 bytes of `text`, without copying when the string is contiguous.
@inlinable
func withUTF8<R>(
    _ text: some StringProtocol, _ body: (UnsafeBufferPointer<UInt8>) throws(MultiformatsError) -> R
) throws(MultiformatsError) -> R {
    let fast: Result<R, MultiformatsError>? = text.utf8.withContiguousStorageIfAvailable { utf8 in
        Result { () throws(MultiformatsError) in try body(utf8) }
    }
    if let fast { return try fast.get() }
    var copy = String(text)
    let result: Result<R, MultiformatsError> = copy.withUTF8 { utf8 in
        Result { () throws(MultiformatsError) in try body(utf8) }
    }
    return try result.get()
}
