import Hummingbird
import NIOCore

/// The request context of Cairn's servers: Hummingbird's basic context and the connection's
/// channel, so that a long answer can see that its client went away (a CAR stream waiting for
/// its turn, or between two batches, stops instead of reading and hashing for no one).
struct ServerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Whether the connection is still open (`Channel.isActive`, safe from any thread).
    var isConnected: @Sendable () -> Bool { { [channel] in channel.isActive } }
}
