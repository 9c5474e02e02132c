import CairnSystem

extension OCILayout {
    /// Whether `path` looks like an image layout (spec/oci.md §2): a directory holding
    /// `oci-layout`, or a tar archive holding `oci-layout` or `manifest.json`. Anything else
    /// (a plain file, a plain tar, a directory of files) is not; nothing is verified here.
    public static func isLayout(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            return BlobContainer(directory: path).contains("oci-layout")
        case S_IFREG:
            guard let container = try? BlobContainer(archive: path) else { return false }
            return container.contains("oci-layout") || container.contains("manifest.json")
        default:
            return false
        }
    }

    /// A stream of one blob from its first byte: as stored, or with `uncompressed` a layer's
    /// tar; verified while read as `oci verify` verifies it (spec/oci.md §3).
    public func openBlob(_ blob: OCIBlob, uncompressed: Bool) throws(OCIError) -> OCIBlobStream {
        OCIBlobStream(try BlobReader(blob: blob, container: container, output: uncompressed ? .uncompressed : .stored))
    }
}

/// The bytes of one blob, read in order by one thread at a time.
public final class OCIBlobStream: @unchecked Sendable {
    private let reader: BlobReader

    init(_ reader: BlobReader) { self.reader = reader }

    /// Fills up to `buffer.count` bytes; 0 at the end, once every check has passed.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(OCIError) -> Int {
        try reader.read(into: buffer)
    }
}
