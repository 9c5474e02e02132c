/// The media types Cairn interprets (image-spec media-types.md, and Docker's equivalents).
/// Every other media type is passed through: its blob is verified by size and digest only.
public enum OCIMediaType {
    public static let index = "application/vnd.oci.image.index.v1+json"
    public static let manifest = "application/vnd.oci.image.manifest.v1+json"
    public static let config = "application/vnd.oci.image.config.v1+json"
    public static let layer = "application/vnd.oci.image.layer.v1.tar"
    public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let layerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    /// BuildKit's cache export config (moby/buildkit cache/remotecache/v1/spec.go).
    public static let buildkitCacheConfig = "application/vnd.buildkit.cacheconfig.v0"

    static func isIndex(_ type: String) -> Bool { type == index || type == dockerManifestList }
    static func isManifest(_ type: String) -> Bool { type == manifest || type == dockerManifest }
    static func isImageConfig(_ type: String) -> Bool { type == config || type == dockerConfig }

    /// How a layer of this media type is compressed; nil if the type is not a tar layer
    /// (OCI layers, non-distributable ones included, and Docker's rootfs diffs).
    static func layerCompression(_ type: String) -> Compression? {
        let ociPrefixes = ["application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.nondistributable.v1.tar"]
        for prefix in ociPrefixes where type.hasPrefix(prefix) {
            switch type.dropFirst(prefix.count) {
            case "": return Compression.none
            case "+gzip": return .gzip
            case "+zstd": return .zstd
            default: return nil
            }
        }
        switch type {
        case dockerLayer, "application/vnd.docker.image.rootfs.foreign.diff.tar": return Compression.none
        case dockerLayerGzip, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": return .gzip
        case "application/vnd.docker.image.rootfs.diff.tar.zstd": return .zstd
        default: return nil
        }
    }
}

/// A layer's compression.
public enum Compression: String, Hashable, Sendable {
    case none, gzip, zstd
}
