public import Hummingbird
import HummingbirdCore
public import Logging
import ServiceLifecycle
public import UnixSignals
import NIOCore

/// `cairn serve`: the Kubo RPC subset and the trustless gateway over one store, each on its own
/// listener, run together until a graceful shutdown (SIGINT/SIGTERM or cancellation).
public struct CairnServer: Sendable {
    public let configuration: ServerConfiguration
    public var logger: Logger

    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "cairn.serve")) throws {
        self.configuration = configuration
        self.logger = logger
        for listener in [configuration.api, configuration.gateway].compactMap({ $0 })
            where !listener.isLoopback && configuration.authFile == nil && !configuration.allowUnauthenticated {
            throw ServerError(.unauthenticated, "refusing to listen on \(listener) without --auth-file (pass --allow-unauthenticated to do it anyway)")
        }
    }

    /// Runs both listeners until shutdown: one of `shutdownSignals`, `stop` returning, or the
    /// task being cancelled. A graceful shutdown stops accepting connections, lets requests in
    /// flight finish (their commits included), then returns. `ready` is called once per
    /// listener with its name (`"api"` or `"gateway"`) and the address it is bound to (the
    /// real port when 0 was asked).
    public func run(
        shutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        ready: @escaping @Sendable (String, ListenAddress) async -> Void = { _, _ in },
        stop: (@Sendable () async -> Void)? = nil
    ) async throws {
        ProcessMemory.bound()
        let listeners = [("api", configuration.api), ("gateway", configuration.gateway)].compactMap { name, address in
            address.map { (name, $0) }
        }
        // Each fixed address is tried before anything starts, so that a port in use (a Kubo
        // daemon on 5001, say) is one clear error rather than a listener that started and
        // another that failed beside it.
        for (name, address) in listeners where address.port != 0 {
            try await Self.checkListenable(address, name: name)
        }
        let state = try ServerState(configuration: configuration, logger: logger)
        var services: [any Service] = []
        if let api = configuration.api {
            let rpc = RPCResponder(state: state)
            services.append(application(name: "api", address: api, authorizations: state.authorizations, ready: ready) { request, context in
                try await rpc.respond(to: request, context: context)
            })
        }
        if let gateway = configuration.gateway {
            let responder = GatewayResponder(state: state)
            services.append(application(name: "gateway", address: gateway, ready: ready) { request, context in
                try await responder.respond(to: request, context: context)
            })
        }
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: shutdownSignals, logger: logger))
        do {
            // `stop` returning starts a graceful shutdown; the group then ends by itself once the
            // requests in flight are done (cancelling it instead would cut them off).
            try await withThrowingTaskGroup(of: Bool.self) { tasks in
                tasks.addTask { try await group.run(); return true }
                if let stop {
                    tasks.addTask {
                        await stop()
                        if !Task.isCancelled { await group.triggerGracefulShutdown() }
                        return false
                    }
                }
                while let groupEnded = try await tasks.next() {
                    if groupEnded { tasks.cancelAll() }
                }
            }
        } catch {
            await state.pool.shutdown()
            throw error
        }
        await state.pool.shutdown()
    }

    private func application(
        name: String, address: ListenAddress, authorizations: Authorizations? = nil,
        ready: @escaping @Sendable (String, ListenAddress) async -> Void,
        respond: @escaping @Sendable (Request, ServerRequestContext) async throws -> Response
    ) -> some Service {
        let limits = configuration.limits
        let maxBodyBytes = limits.maxBodyBytes
        let http = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ExpectContinueHandler(maxBodyBytes: maxBodyBytes, authorizations: authorizations),
                                        WriteStallHandler(limit: .seconds(limits.idleTimeoutSeconds)),
                                        UploadRateHandler(slackSeconds: limits.idleTimeoutSeconds,
                                                          minimumBytesPerSecond: limits.minimumUploadBytesPerSecond),
                                        ConnectionSetupHandler()],
            idleTimeout: .seconds(limits.idleTimeoutSeconds),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes,
                                            maxHeaderFieldCount: 200))
        // Hummingbird's own logger only for warnings: request lines and start-up chatter stay quiet.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        return Application(
            responder: CallbackResponder(callback: respond),
            server: .http1(configuration: http),
            configuration: ApplicationConfiguration(
                address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                await ready(name, ListenAddress(host: address.host, port: port))
            },
            logger: quiet
        )
    }
}
