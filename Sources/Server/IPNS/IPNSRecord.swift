import Blocks
import Foundation
import Hashing
import Multiformats

/// A failed IPNS check: one line, no stack.
public struct IPNSError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An IPNS name (spec/gateway.md §5.1): a CIDv1 with codec libp2p-key whose multihash is the
/// identity of a protobuf public key (Ed25519) or a hash of one (RSA: the record then carries it).
public struct IPNSName: Hashable, Sendable, CustomStringConvertible {
    public let cid: CID

    public init(_ text: String) throws(IPNSError) {
        guard let cid = try? CID(text), cid.version == .v1, cid.codec == .libp2pKey else {
            throw IPNSError("invalid IPNS name \"\(text)\": expected a CIDv1 with codec libp2p-key (k51…)")
        }
        self.cid = cid
    }

    /// The canonical text form: base36 (`k…`), as Kubo prints names.
    public var description: String { (try? cid.string(base: .base36)) ?? cid.description }
}

/// A signed IPNS record (ipfs/specs `ipns/IPNS.md`), checked against its name on creation.
public struct IPNSRecord: Sendable {
    /// The record exactly as received (served back byte for byte).
    public let bytes: [UInt8]
    /// The content path it points to (`/ipfs/…`).
    public let value: String
    /// End of validity (ValidityType 0, EOL).
    public let validity: Date
    public let sequence: UInt64
    /// Time to live in nanoseconds (0 when absent).
    public let ttl: UInt64

    /// Records larger than this are refused (the IPNS spec's 10 KiB limit).
    public static let maxSize = 10 * 1024

    /// Parses `bytes` and verifies them for `name`: a V2 signature (over
    /// `"ipns-signature:" ‖ data`) by the name's key, V1 fields (when present) equal to the
    /// signed CBOR data, and a validity still in the future at `now`. V1-only records are refused.
    public init(validating bytes: [UInt8], for name: IPNSName, now: Date = Date()) throws(IPNSError) {
        guard bytes.count <= IPNSRecord.maxSize else {
            throw IPNSError("IPNS record is \(bytes.count) bytes, more than the \(IPNSRecord.maxSize)-byte limit")
        }
        let fields = try IPNSRecord.protobufFields(bytes)
        guard let signature = fields[8] else {
            throw IPNSError(fields[2] == nil ? "IPNS record has no signature" : "IPNS record has only a V1 signature (V2 is required)")
        }
        guard let data = fields[9] else { throw IPNSError("IPNS record has a V2 signature but no data") }
        let signed = try IPNSRecord.signedData(data)
        // V1 fields, when present, must say what the signed data says.
        let v1: [(Int, [UInt8]?)] = [(1, signed.value), (4, signed.validity)]
        for (field, expected) in v1 where fields[field] != nil && fields[field] != expected {
            throw IPNSError("IPNS record field \(field) differs from its signed data")
        }
        for (field, expected) in [(3, signed.validityType), (5, signed.sequence), (6, signed.ttl)] {
            if let raw = fields[field], Varint.decodeAll(raw) != expected {
                throw IPNSError("IPNS record field \(field) differs from its signed data")
            }
        }
        let key = try IPNSRecord.publicKey(name, embedded: fields[7])
        let message = Array("ipns-signature:".utf8) + data
        let valid: Bool
        switch key.type {
        case 0: valid = SignatureVerifier.rsaSHA256(publicKeyDER: key.data, signature: signature, message: message)
        case 1: valid = SignatureVerifier.ed25519(publicKey: key.data, signature: signature, message: message)
        default: throw IPNSError("IPNS key type \(key.type) is not supported (Ed25519 or RSA)")
        }
        guard valid else { throw IPNSError("IPNS record signature does not verify against \(name)") }
        guard signed.validityType == 0, let validity = IPNSRecord.date(signed.validity) else {
            throw IPNSError("IPNS record has an unsupported validity (EOL with an RFC 3339 time is required)")
        }
        guard validity > now else {
            throw IPNSError("IPNS record for \(name) expired at \(String(decoding: signed.validity, as: UTF8.self))")
        }
        guard let path = String(validating: signed.value, as: UTF8.self), path.hasPrefix("/ipfs/") || path.hasPrefix("/ipns/") else {
            throw IPNSError("IPNS record value is not a content path")
        }
        self.bytes = bytes
        self.value = path
        self.validity = validity
        self.sequence = signed.sequence
        self.ttl = signed.ttl
    }

    /// Length-delimited and varint fields of a protobuf message by number (varints kept as
    /// their encoded bytes); a repeated field keeps its last value.
    static func protobufFields(_ bytes: [UInt8]) throws(IPNSError) -> [Int: [UInt8]] {
        do {
            return try bytes.withUnsafeBytes { raw throws(WireError) -> [Int: [UInt8]] in
                var reader = WireReader(raw)
                var fields: [Int: [UInt8]] = [:]
                while !reader.isAtEnd {
                    let (field, type) = try reader.readKey()
                    switch type {
                    case 0:
                        let start = reader.position
                        _ = try reader.readVarint("field \(field)")
                        fields[Int(field)] = Array(reader.slice(start..<reader.position))
                    case 2:
                        fields[Int(field)] = Array(reader.slice(try reader.readLengthDelimited("field \(field)")))
                    default:
                        throw reader.fail("unexpected wire type \(type)")
                    }
                }
                return fields
            }
        } catch let error as WireError {
            throw IPNSError("invalid IPNS record: \(error.reason) at byte \(error.offset)")
        } catch {
            throw IPNSError("invalid IPNS record: \(error)")
        }
    }

    /// The signed CBOR map: Value, Validity, ValidityType, Sequence, TTL.
    private static func signedData(_ data: [UInt8]) throws(IPNSError) -> (value: [UInt8], validity: [UInt8], validityType: UInt64, sequence: UInt64, ttl: UInt64) {
        var value: [UInt8]?, validity: [UInt8]?, validityType: UInt64?, sequence: UInt64?, ttl: UInt64?
        do {
            var reader = CBORReader(data)
            let (major, count) = try reader.head()
            guard major == 5 else { throw IPNSError("IPNS record data is not a CBOR map") }
            for _ in 0..<count {
                switch try reader.text() {
                case "Value": value = try reader.byteString()
                case "Validity": validity = try reader.byteString()
                case "ValidityType": validityType = try reader.unsigned()
                case "Sequence": sequence = try reader.unsigned()
                case "TTL": ttl = try reader.unsigned()
                default: try reader.skip()
                }
            }
        } catch let error as DagCBORError {
            throw IPNSError("IPNS record data is not valid dag-cbor: \(error.detail)")
        } catch let error as IPNSError {
            throw error
        } catch {
            throw IPNSError("IPNS record data: \(error)")
        }
        guard let value, let validity, let validityType, let sequence, let ttl else {
            throw IPNSError("IPNS record data lacks one of Value, Validity, ValidityType, Sequence, TTL")
        }
        return (value, validity, validityType, sequence, ttl)
    }

    /// The key that signs for `name`: inlined in the name (identity multihash), or the record's
    /// `pubKey` field when it hashes to the name's multihash. Returns the libp2p KeyType and Data.
    private static func publicKey(_ name: IPNSName, embedded: [UInt8]?) throws(IPNSError) -> (type: UInt64, data: [UInt8]) {
        let protobuf: [UInt8]
        if name.cid.multihash.code == .identity {
            protobuf = name.cid.multihash.digest
        } else {
            guard let embedded else { throw IPNSError("IPNS record for \(name) lacks the public key its name hashes") }
            guard embedded.withUnsafeBytes({ BlockVerifier.verdict(name.cid, $0) }) == .valid else {
                throw IPNSError("IPNS record's public key does not match the name \(name)")
            }
            protobuf = embedded
        }
        let fields = try protobufFields(protobuf)
        guard let type = fields[1].flatMap(Varint.decodeAll), let data = fields[2] else {
            throw IPNSError("IPNS name \(name) does not hold a valid libp2p public key")
        }
        return (type, data)
    }

    /// An RFC 3339 time with any number of fractional digits (Go writes nanoseconds).
    static func date(_ bytes: [UInt8]) -> Date? {
        guard var text = String(validating: bytes, as: UTF8.self) else { return nil }
        var fraction = 0.0
        if let dot = text.firstIndex(of: "."),
           let end = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            fraction = Double("0" + text[dot..<end]) ?? 0
            text.removeSubrange(dot..<end)
        }
        return ISO8601DateFormatter().date(from: text).map { $0.addingTimeInterval(fraction) }
    }
}

extension Varint {
    /// The value of bytes that are exactly one varint, nil otherwise.
    static func decodeAll(_ bytes: [UInt8]) -> UInt64? {
        guard let decoded = try? Varint.decode(bytes), decoded.length == bytes.count else { return nil }
        return decoded.value
    }
}
