import Multiformats

/// How `cairn add` writes the CIDs it prints: Kubo's `--cid-base` and
/// `--upgrade-cidv0-in-output`, as `cmdenv.GetCidEncoder` (ipfs/kubo
/// `core/commands/cmdenv/cidbase.go`) sets up a go-cidutil `cidenc.Encoder`:
///
/// - the base is `--cid-base` (a multibase name, or its one-character prefix, as go-multibase's
///   `EncoderByName` accepts), else base32;
/// - a CIDv0 is upgraded to CIDv1 (same codec dag-pb, same multihash) when
///   `--upgrade-cidv0-in-output` says so, else whenever `--cid-base` is given (any base,
///   base58btc included, then prints `zdj7…`); without either it stays `Qm…`;
/// - a CIDv0 that is not upgraded is always base58btc, whatever the base.
///
/// Only the text changes: blocks, links and stored CIDs are the same.
struct CIDTextEncoder: Sendable {
    var base: Multibase = .base32
    var upgradeV0 = false

    /// Kubo's defaults: CIDv1 in base32, CIDv0 as is.
    static let kubo = CIDTextEncoder()

    /// From the flags; an unknown base or the identity base is a usage error.
    init(cidBase: String?, upgradeV0: Bool?) throws(CIDBaseError) {
        if let cidBase {
            guard let known = Multibase(name: cidBase)
                ?? (cidBase.count == 1 ? Multibase(prefix: cidBase.first!) : nil)
            else {
                let names = Multibase.allCases.filter { $0 != .identity }.map(\.name).joined(separator: ", ")
                throw CIDBaseError("unknown multibase '\(cidBase)' for --cid-base (known: \(names))")
            }
            guard known != .identity else {
                throw CIDBaseError("--cid-base identity cannot write a CID as text")
            }
            base = known
            self.upgradeV0 = true
        }
        if let upgradeV0 { self.upgradeV0 = upgradeV0 }
    }

    init() {}

    func string(_ cid: CID) -> String {
        if cid.version == .v0 {
            if !upgradeV0 { return cid.description }
            return (try? cid.toV1().string(base: base)) ?? cid.description
        }
        return (try? cid.string(base: base)) ?? cid.description
    }
}

struct CIDBaseError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
