/// A content identifier, version 0 or 1 (github.com/multiformats/cid).
///
/// * CIDv0: binary form is a bare sha2-256 multihash (`0x12 0x20` + 32 bytes, 34 bytes in all);
///   text form is that multihash in base58btc without a multibase prefix (`Qm…`, 46 characters).
///   Its codec is always dag-pb.
/// * CIDv1: binary form is `varint(1) varint(codec) multihash`; text form is any multibase.
///
/// The multihash is held inline (see `Multihash`), so parsing, copying, comparing and hashing a
/// CID allocate nothing beyond what parsing needs. Equality is over the binary form: a CIDv0 and
/// the CIDv1 made from it by `toV1()` are different values.
///
/// Not formally `LosslessStringConvertible`: that protocol's failable `init?(_:)` would clash
/// with the throwing `init(_:)`. Use `try? CID(text)` for an optional.
public struct CID: Hashable, Sendable, CustomStringConvertible {
    public enum Version: UInt64, Hashable, Sendable, Comparable {
        case v0 = 0
        case v1 = 1

        public static func < (lhs: Version, rhs: Version) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public let version: Version
    /// The content type (dag-pb for every CIDv0).
    public let codec: Multicodec
    public let multihash: Multihash

    @inlinable
    init(version: Version, codec: Multicodec, multihash: Multihash) {
        self.version = version
        self.codec = codec
        self.multihash = multihash
    }

    /// A CIDv1. Any codec and multihash are allowed.
    @inlinable
    public static func v1(codec: Multicodec, multihash: Multihash) -> CID {
        CID(version: .v1, codec: codec, multihash: multihash)
    }

    /// A CIDv0: only for a full 32-byte sha2-256 multihash (the codec is dag-pb).
    public static func v0(_ multihash: Multihash) throws(MultiformatsError) -> CID {
        guard multihash.code == .sha2_256 && multihash.length == 32 else {
            throw MultiformatsError(.invalidCID,
                "a CIDv0 needs a 32-byte sha2-256 multihash, not \(multihash.code) with \(multihash.length) bytes")
        }
        return CID(version: .v0, codec: .dagPB, multihash: multihash)
    }

    /// The same content as a CIDv1 (a CIDv1 is returned unchanged).
    @inlinable
    public func toV1() -> CID {
        CID(version: .v1, codec: codec, multihash: multihash)
    }

    /// The same content as a CIDv0; only possible for dag-pb with a 32-byte sha2-256 multihash.
    public func toV0() throws(MultiformatsError) -> CID {
        guard codec == .dagPB else {
            throw MultiformatsError(.invalidCID, "a CIDv0 must have codec dag-pb, not \(codec)")
        }
        return try CID.v0(multihash)
    }

    // MARK: Binary form

    /// The number of bytes of the binary form.
    @inlinable
    public var encodedLength: Int {
        switch version {
        case .v0: return multihash.encodedLength
        case .v1: return 1 + Varint.encodedLength(codec.rawValue) + multihash.encodedLength
        }
    }

    /// Writes the binary form to the start of `buffer` (at least `encodedLength` bytes);
    /// returns the number of bytes written.
    @inlinable
    public func encode(to buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= encodedLength, "CID buffer too small")
        switch version {
        case .v0:
            return multihash.encode(to: buffer)
        case .v1:
            buffer[0] = 1
            let n = 1 + Varint.encode(codec.rawValue, to: UnsafeMutableRawBufferPointer(rebasing: buffer[1...]))
            return n + multihash.encode(to: UnsafeMutableRawBufferPointer(rebasing: buffer[n...]))
        }
    }

    /// Appends the binary form to `output`.
    @inlinable
    public func encode(into output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: encodedLength))
        output.withUnsafeMutableBytes { raw in
            _ = encode(to: UnsafeMutableRawBufferPointer(rebasing: raw[start...]))
        }
    }

    /// The binary form.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: encodedLength) { buffer, n in
            n = encode(to: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Decodes the CID at the start of `buffer`; bytes after it are left alone (as in a CAR
    /// section or a dag-pb link). Returns the CID and the number of bytes it occupied.
    ///
    /// A leading `0x12` means a CIDv0 (`0x12 0x20` and 32 digest bytes); otherwise the first
    /// varint is the version, which must be 1.
    public static func decode(prefixOf buffer: UnsafeRawBufferPointer) throws(MultiformatsError) -> (cid: CID, length: Int) {
        guard let first = buffer.first else {
            throw MultiformatsError(.invalidCID, "empty CID", offset: 0)
        }
        if first == 0x12 {
            guard buffer.count >= 34 && buffer[1] == 0x20 else {
                throw MultiformatsError(.invalidCID,
                    "a CIDv0 must be 34 bytes starting 12 20 (a 32-byte sha2-256 multihash)", offset: 0)
            }
            let multihash = Multihash(unchecked: .sha2_256, digest: UnsafeRawBufferPointer(rebasing: buffer[2..<34]))
            return (CID(version: .v0, codec: .dagPB, multihash: multihash), 34)
        }
        let (version, versionLength) = try Varint.decode(buffer)
        guard version == 1 else {
            if version == 0 {
                throw MultiformatsError(.invalidCID, "CID version 0 must not be written as a varint", offset: 0)
            }
            throw MultiformatsError(.unsupportedCIDVersion, "unsupported CID version \(version)", offset: 0)
        }
        let (rawCodec, codecLength): (UInt64, Int)
        do {
            (rawCodec, codecLength) = try Varint.decode(UnsafeRawBufferPointer(rebasing: buffer[versionLength...]))
        } catch {
            throw error.shifted(by: versionLength)
        }
        let start = versionLength + codecLength
        let (multihash, multihashLength): (Multihash, Int)
        do {
            (multihash, multihashLength) = try Multihash.decode(prefixOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        } catch {
            throw error.shifted(by: start)
        }
        return (CID(version: .v1, codec: Multicodec(unchecked: rawCodec), multihash: multihash), start + multihashLength)
    }

    /// Decodes a binary CID that fills all of `buffer`.
    public init(bytes buffer: UnsafeRawBufferPointer) throws(MultiformatsError) {
        let (cid, length) = try CID.decode(prefixOf: buffer)
        guard length == buffer.count else {
            throw MultiformatsError(.trailingBytes, "\(buffer.count - length) bytes after the CID", offset: length)
        }
        self = cid
    }

    /// Decodes a binary CID that fills all of `bytes`.
    public init(bytes: some Collection<UInt8>) throws(MultiformatsError) {
        self = try withContiguousBytes(bytes) { (buffer) throws(MultiformatsError) in try CID(bytes: buffer) }
    }

    // MARK: Text form

    /// Parses CID text: a CIDv0 (46 characters starting `Qm`, bare base58btc) or a CIDv1 in any
    /// multibase we implement. A multibase text whose bytes start with `0x12` (a CIDv0 in a
    /// multibase) is rejected, as the CID spec requires.
    ///
    /// Errors in the text carry the UTF-8 offset into `text`; errors in the decoded bytes say
    /// which byte in their message and carry no offset.
    public init(_ text: some StringProtocol) throws(MultiformatsError) {
        self = try withUTF8(text) { (utf8) throws(MultiformatsError) in try CID.parse(utf8, text: text) }
    }

    static func parse(_ utf8: UnsafeBufferPointer<UInt8>, text: some StringProtocol) throws(MultiformatsError) -> CID {
        let isV0 = utf8.count == 46 && utf8[0] == UInt8(ascii: "Q") && utf8[1] == UInt8(ascii: "m")
        let base: Multibase
        let characters: UnsafeBufferPointer<UInt8>
        if isV0 {
            base = .base58btc
            characters = utf8
        } else {
            base = try Multibase.prefix(of: utf8, text: text)
            characters = UnsafeBufferPointer(rebasing: utf8[1...])
        }
        let capacity = base.maxDecodedLength(characterCount: characters.count)
        let result: Result<CID, MultiformatsError> = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(capacity, 1)) { scratch in
            Result { () throws(MultiformatsError) -> CID in
                let count = try base.decode(characters, into: scratch, offsetBase: isV0 ? 0 : 1)
                let binary = UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(scratch)[0..<count])
                if isV0 {
                    guard count == 34 && binary[0] == 0x12 && binary[1] == 0x20 else {
                        throw MultiformatsError(.invalidCID,
                            "a 46-character Qm… CIDv0 must decode to 12 20 and a 32-byte digest")
                    }
                } else if count > 0 && binary[0] == 0x12 {
                    throw MultiformatsError(.invalidCID,
                        "a CIDv0 must be bare base58btc, not \(base.name) with a multibase prefix")
                }
                do throws(MultiformatsError) {
                    return try CID(bytes: binary)
                } catch {
                    let at = error.offset.map { " (decoded byte \($0))" } ?? ""
                    throw MultiformatsError(error.code, error.message + at)
                }
            }
        }
        return try result.get()
    }

    /// The text form in `base`. A CIDv0 can only be written in base58btc (its text has no
    /// multibase prefix); for any other base call `toV1()` first, as Kubo's `--cid-base` does.
    /// The identity multibase is refused (binary CIDs are not UTF-8 text).
    public func string(base: Multibase = .base32) throws(MultiformatsError) -> String {
        switch version {
        case .v0:
            guard base == .base58btc else {
                throw MultiformatsError(.unsupportedEncoding,
                    "a CIDv0 is always base58btc; use toV1() to write it in \(base.name)")
            }
        case .v1:
            guard base != .identity else {
                throw MultiformatsError(.unsupportedEncoding, "a CID cannot be written in the identity multibase")
            }
        }
        return format(base)
    }

    /// Formats without checks; `withPrefix` is false only for CIDv0.
    @usableFromInline
    func format(_ base: Multibase) -> String {
        let withPrefix = version == .v1
        let length = encodedLength
        return withUnsafeTemporaryAllocation(byteCount: length, alignment: 1) { scratch in
            let n = encode(to: scratch)
            return base.encodeString(UnsafeRawBufferPointer(rebasing: scratch[0..<n]), withPrefix: withPrefix)
        }
    }

    /// CIDv0 in base58btc (`Qm…`), CIDv1 in base32 (`b…`): the forms Kubo prints.
    public var description: String {
        format(version == .v0 ? .base58btc : .base32)
    }
}
