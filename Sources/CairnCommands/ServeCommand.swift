import ArgumentParser
import CairnSystem
import Server

/// `cairn serve`: the store over HTTP, as a Kubo RPC subset and a trustless gateway (spec/serve.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the store as a Kubo RPC subset and a trustless gateway."
    )

    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("Kubo RPC listen address (HOST:PORT or /ip4/HOST/tcp/PORT; 'none' for no RPC).",
                               valueName: "addr"))
    var api = "127.0.0.1:5001"

    @Option(help: ArgumentHelp("Trustless gateway listen address ('none' for no gateway).", valueName: "addr"))
    var gateway = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("Kubo API.Authorizations JSON file.", valueName: "file"))
    var authFile: String?

    @Flag(help: "Refuse every request that writes to the store.")
    var readOnly = false

    @Flag(help: "Allow a non-loopback listener without --auth-file.")
    var allowUnauthenticated = false

    func validate() throws {
        _ = try listen(api, "--api")
        _ = try listen(gateway, "--gateway")
    }

    private func listen(_ text: String, _ flag: String) throws -> ListenAddress? {
        if text == "none" { return nil }
        guard let address = ListenAddress(parsing: text) else {
            throw ValidationError("\(flag) takes HOST:PORT or /ip4/HOST/tcp/PORT, not '\(text)'")
        }
        return address
    }

    func run() async throws {
        let configuration = ServerConfiguration(
            store: store.layout, api: try listen(api, "--api"), gateway: try listen(gateway, "--gateway"),
            authFile: authFile, readOnly: readOnly, allowUnauthenticated: allowUnauthenticated)
        let server: CairnServer
        do {
            server = try CairnServer(configuration: configuration)
        } catch let error as ServerError {
            throw CLIError(error.message)
        }
        // SIGINT/SIGTERM set the process token (runMain); the watcher then ends the group, which
        // cancels the server: a graceful shutdown.
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await server.run(shutdownSignals: []) { name, address in
                        let label = name == "api" ? "RPC API server" : "Gateway server"
                        writeStandardOutput("\(label) listening on \(address.multiaddr)\n")
                    }
                }
                group.addTask {
                    while !CancellationToken.process.isCancelled, !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as ServerError {
            throw CLIError(error.message)
        }
    }
}
