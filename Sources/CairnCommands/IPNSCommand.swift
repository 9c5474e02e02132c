import ArgumentParser
import Foundation
import Server

/// `cairn ipns`: signed IPNS records kept beside the store (spec/gateway.md §5).
struct IPNSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipns",
        abstract: "Keep signed IPNS records in the store for the gateway to serve.",
        subcommands: [IPNSImportCommand.self]
    )
}

/// `cairn ipns import NAME RECORD_FILE`: verify a signed record against its name, then store it.
struct IPNSImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Verify a signed IPNS record against its name and store it (replacing the name's record).",
        discussion: """
            The record must carry a V2 signature by the name's key (Ed25519 or RSA) and be valid \
            now; expired, wrongly signed or V1-only records are refused and nothing is stored.
            """
    )

    @Argument(help: "The IPNS name (a libp2p-key CIDv1, e.g. k51…).")
    var name: String

    @Argument(help: "The signed record (IPNS protobuf), as `ipfs routing get` writes it.")
    var recordFile: String

    @OptionGroup var store: StoreOptions

    func run() throws {
        let record: IPNSRecord
        let ipnsName: IPNSName
        do {
            ipnsName = try IPNSName(name)
            guard let data = FileManager.default.contents(atPath: recordFile) else {
                throw CLIError("cannot read \(recordFile)")
            }
            record = try IPNSRecord(validating: [UInt8](data), for: ipnsName)
        } catch let error as IPNSError {
            throw CLIError("\(recordFile): \(error.message)")
        }
        do {
            try IPNSRecordStore(layout: store.layout).put(record, for: ipnsName)
        } catch {
            throw CLIError("cannot store the record for \(ipnsName): \(error)")
        }
        writeStandardOutput("imported IPNS record for \(ipnsName): \(record.value) (sequence \(record.sequence))\n")
    }
}
