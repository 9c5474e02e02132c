import ArgumentParser
import Multiformats

/// `cairn cid`: look inside CIDs and re-encode them.
struct CIDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cid",
        abstract: "Inspect and re-encode CIDs.",
        subcommands: [Inspect.self, Format.self]
    )

    /// Parses a CID given on the command line, with a one-line error naming the problem.
    static func parse(_ text: String) throws -> CID {
        do {
            return try CID(text)
        } catch {
            throw CLIError("invalid CID '\(text)': \(error)")
        }
    }

    /// The multibase a CID string is written in (a CIDv0 is bare base58btc).
    static func base(of text: String, cid: CID) -> Multibase {
        if cid.version == .v0 { return .base58btc }
        return text.utf8.first.flatMap { Multibase(prefixByte: $0) } ?? .base32
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a CID's version, codec, multihash and base."
        )

        @Flag(name: .long, help: "Print one JSON object.")
        var json = false

        @Argument(help: "The CID.")
        var cid: String

        func run() async throws {
            let parsed = try CIDCommand.parse(cid)
            let base = CIDCommand.base(of: cid, cid: parsed)
            let multihash = parsed.multihash
            let codecName = parsed.codec.name ?? "unknown"
            let hashName = multihash.code.name ?? "unknown"
            let hex = multihash.digest.map { byte in
                let digits = Array("0123456789abcdef")
                return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
            }.joined()
            if json {
                writeStandardOutput(
                    """
                    {"cid":"\(cid)","version":\(parsed.version.rawValue),"codec":"\(codecName)",\
                    "codecCode":\(parsed.codec.rawValue),"multihash":"\(hashName)",\
                    "multihashCode":\(multihash.code.rawValue),"digestLength":\(multihash.digest.count),\
                    "digest":"\(hex)","base":"\(base.name)"}

                    """
                )
                return
            }
            writeStandardOutput(
                """
                version: \(parsed.version.rawValue)
                codec: \(codecName) (0x\(String(parsed.codec.rawValue, radix: 16)))
                multihash: \(hashName) (0x\(String(multihash.code.rawValue, radix: 16)))
                digest length: \(multihash.digest.count)
                digest: \(hex)
                base: \(base.name)

                """
            )
        }
    }

    struct Format: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encode a CID in another multibase, or as CIDv1."
        )

        @Option(name: .long, help: "Multibase of the output (default: base32 for v1, base58btc for v0).")
        var base: String?

        @Flag(name: .long, help: "Convert a CIDv0 to CIDv1.")
        var v1 = false

        @Argument(help: "The CID.")
        var cid: String

        func validate() throws {
            if let base, Multibase(name: base) == nil {
                throw ValidationError("unknown multibase '\(base)'")
            }
        }

        func run() async throws {
            var parsed = try CIDCommand.parse(cid)
            let wanted = base.flatMap { Multibase(name: $0) }
            if v1 || (parsed.version == .v0 && wanted != nil && wanted != .base58btc) {
                if parsed.version == .v0 && !v1 {
                    throw CLIError("a CIDv0 is always base58btc; add --v1 to re-encode it as CIDv1")
                }
                parsed = parsed.toV1()
            }
            let text: String
            do {
                text = try parsed.string(base: wanted ?? (parsed.version == .v0 ? .base58btc : .base32))
            } catch {
                throw CLIError("cannot format \(cid): \(error)")
            }
            writeStandardOutput(text + "\n")
        }
    }
}
