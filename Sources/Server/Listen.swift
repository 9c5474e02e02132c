import Foundation
import NIOCore
import NIOPosix

extension CairnServer {
    /// Binds `address` and closes it again; a failure is `ServerError(.listen)` naming the
    /// address, the listener and the system's reason.
    static func checkListenable(_ address: ListenAddress, name: String) async throws {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port).get()
            try await channel.close()
        } catch {
            let reason: String
            if let error = error as? IOError {
                reason = String(cString: strerror(error.errnoCode)).lowercased()
            } else {
                reason = "\(error)"
            }
            let listener = name == "api" ? "the RPC API" : "the gateway"
            throw ServerError(.listen, "cannot listen on \(address) for \(listener): \(reason)")
        }
    }
}
