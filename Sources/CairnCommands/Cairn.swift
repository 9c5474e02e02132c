import ArgumentParser

/// The `cairn` root command. Subcommands live in their own files, one per command family.
public struct Cairn: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Content-addressed blocks: chunk, hash, build UnixFS DAGs with Kubo's CIDs.",
        version: "0.1.0",
        subcommands: [
            AddCommand.self, CatCommand.self, GetCommand.self,
            BlockCommand.self, PinCommand.self, GCCommand.self, StoreCommand.self,
            CarCommand.self, ChunkCommand.self, HashCommand.self, CIDCommand.self, BenchCommand.self,
            ServeCommand.self, IPNSCommand.self,
            PushCommand.self, FetchCommand.self,
            OCICommand.self,
        ]
    )

    public init() {}
}
