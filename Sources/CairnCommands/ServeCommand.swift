import ArgumentParser
import CairnSystem
import Logging
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

    @Option(help: ArgumentHelp("Largest request body in bytes (default 64 GiB).", valueName: "bytes"))
    var maxBodyBytes: Int64?

    @Option(help: ArgumentHelp("Request bodies taken at once; more are refused with 503 (default 8).", valueName: "n"))
    var maxUploads: Int?

    @Option(help: ArgumentHelp("Long answers (dag/export, cat, gateway CARs) produced at once; more wait for a turn (default 8).", valueName: "n"))
    var maxStreams: Int?

    @Option(help: ArgumentHelp("Seconds a connection may stay silent before it is closed (default 60).", valueName: "seconds"))
    var idleTimeout: Int64?

    @Option(help: ArgumentHelp("Bytes per second a request body must keep up while the server waits for it, after --idle-timeout seconds of slack; 0: only silence is cut (default 16384).",
                               valueName: "bytes"))
    var uploadMinRate: Int64?

    func validate() throws {
        if let maxBodyBytes, maxBodyBytes < 1 { throw ValidationError("--max-body-bytes must be at least 1") }
        // Upper bounds too: a count or a time this large is a typo, and no value may reach
        // arithmetic that traps (a server that dies on its first connection).
        if let maxUploads, !(1...1_000_000).contains(maxUploads) { throw ValidationError("--max-uploads must be from 1 to 1000000") }
        if let maxStreams, !(1...1_000_000).contains(maxStreams) { throw ValidationError("--max-streams must be from 1 to 1000000") }
        if let idleTimeout, !(1...100_000_000).contains(idleTimeout) { throw ValidationError("--idle-timeout must be from 1 to 100000000 seconds") }
        if let uploadMinRate, uploadMinRate < 0 { throw ValidationError("--upload-min-rate must be 0 or more") }
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
        var limits = ServerLimits()
        if let maxBodyBytes { limits.maxBodyBytes = maxBodyBytes }
        if let maxUploads { limits.concurrentUploads = maxUploads }
        if let maxStreams { limits.concurrentStreams = maxStreams }
        if let idleTimeout { limits.idleTimeoutSeconds = idleTimeout }
        if let uploadMinRate { limits.minimumUploadBytesPerSecond = uploadMinRate }
        let configuration = ServerConfiguration(
            store: store.layout, api: try listen(api, "--api"), gateway: try listen(gateway, "--gateway"),
            authFile: authFile, readOnly: readOnly, allowUnauthenticated: allowUnauthenticated, limits: limits)
        // Logs go to stderr (stdout carries only the listening lines).
        LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        let logger = Logger(label: "cairn.serve")
        let server: CairnServer
        do {
            server = try CairnServer(configuration: configuration, logger: logger)
        } catch let error as ServerError {
            throw CLIError(error.message)
        }
        // The first SIGINT/SIGTERM asks for a graceful shutdown (requests in flight finish, their
        // commits included) and the command exits 0, as Kubo's daemon does; a second one
        // cancels the requests still running (the process token: each stops cleanly, nothing
        // half-stored), a third ends the process at once.
        CancellationToken.deferFirstSignal()
        do {
            try await server.run(shutdownSignals: [], ready: { name, address in
                let label = name == "api" ? "RPC API server" : "Gateway server"
                writeStandardOutput("\(label) listening on \(address.multiaddr)\n")
            }, stop: {
                while CancellationToken.shutdownSignal == nil, !CancellationToken.process.isCancelled, !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(50))
                }
                // A signal, not the server's own end (a listener that failed cancels this task).
                if Self.signalled {
                    logger.notice("Received interrupt signal, shutting down...")
                }
            })
        } catch let error as ServerError {
            throw CLIError(error.message)
        }
        if Self.signalled {
            logger.notice("shut down cleanly")
            CairnSystem.exit(0)
        }
    }

    /// Whether a signal (the shutdown's, or the one that cancels) has come.
    private static var signalled: Bool { CancellationToken.shutdownSignal != nil || CancellationToken.process.signal != nil }
}
