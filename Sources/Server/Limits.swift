import CAR

/// The server's limits (spec/serve.md §4).
public struct ServerLimits: Sendable, Hashable {
    /// The most bytes one request body may have (multipart framing included).
    public var maxBodyBytes: Int64 = 64 << 30
    /// Request bodies streaming in at once; more are refused with 503 rather than queued.
    public var concurrentUploads = 8
    /// Long answers produced at once (RPC streams such as `dag/export` and `cat`, gateway
    /// CARs, each holding up to about 20 MiB of buffers, an RPC stream a pool thread too); more
    /// wait for a turn.
    public var concurrentStreams = 8
    /// A connection that sends or receives nothing for this long is closed (it bounds a slow
    /// header too: no request starts until its head is complete).
    public var idleTimeoutSeconds: Int64 = 60
    /// Bytes per second a request body must keep up while the server waits for it, with up to
    /// `idleTimeoutSeconds` of slack (0: only silence counts; `UploadRateHandler`).
    public var minimumUploadBytesPerSecond: Int64 = 16 << 10
    /// Largest request head (all header fields together).
    public var maxHeaderBytes = 64 << 10
    /// Bytes of verified raw blocks the gateway keeps in memory (0: none; spec/gateway.md §5.1).
    public var verifiedBlockCacheBytes = 32 << 20

    public init() {}
}

/// Block size limits, the CAR reader's (spec/serve.md §4): a block over 2 MiB is refused unless
/// `allow-big-block=true`, and then up to 8 MiB (go-car's section limit), whether it comes
/// through `block/put` or in a CAR.
enum BlockLimits {
    static let soft = CARReadOptions().maxBlockBytes
    static let hard = CARReadOptions().maxSectionBytes
}
