import ArgumentParser
import Remote

/// `cairn pin remote ls|rm --name N --from ADDRESS`: the pins a remote holds under a name
/// (exactly that name; spec/remote.md §7).
struct PinRemoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "List or remove a remote node's pins named exactly --name.",
        subcommands: [PinRemoteLsCommand.self, PinRemoteRmCommand.self]
    )
}

/// What both `pin remote` commands take.
struct PinRemoteOptions: ParsableArguments {
    @OptionGroup var remote: RemoteOptions

    @Option(name: .long, help: ArgumentHelp("The remote (else $IPFS_PATH/api).", valueName: "address"))
    var from: String?

    @Option(name: .long, help: "The pin name (matched exactly).")
    var name: String

    /// Runs `body` with the remote and the name.
    func run<T: Sendable>(_ body: @escaping @Sendable (any RemoteBlockHolder, String) async throws -> T) async throws -> T {
        let name = self.name
        return try await remote.withRemote(try RemoteOptions.address(from)) { try await body($0, name) }
    }
}

struct PinRemoteLsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the remote pins named exactly --name.")

    @OptionGroup var options: PinRemoteOptions

    func run() async throws {
        let pins = try await options.run { try await $0.pins($1) }
        writeStandardOutput(pins.map { "\($0.cid) \($0.recursive ? "recursive" : "direct") \($0.name)\n" }.joined())
    }
}

struct PinRemoteRmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove every remote pin named exactly --name.")

    @OptionGroup var options: PinRemoteOptions

    func run() async throws {
        let removed = try await options.run { try await $0.unpinAll($1) }
        writeStandardOutput(removed.map { "unpinned \($0)\n" }.joined())
    }
}
