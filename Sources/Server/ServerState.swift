import BlockStore
import Logging

/// What every request handler shares: the configuration and the store.
final class ServerState: Sendable {
    let configuration: ServerConfiguration
    let logger: Logger

    init(configuration: ServerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
    }
}
