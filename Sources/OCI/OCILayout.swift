import CairnSystem

/// One blob of a layout, in the order the layout's documents name it.
public struct OCIBlob: Hashable, Sendable {
    public enum Role: String, Hashable, Sendable {
        case index, manifest, config, layer
        /// Any other media type: verified by size and digest, passed through untouched.
        case blob
    }

    /// The declared digest; nil only for a legacy `docker save` layer, which has none (its
    /// digest is then the one computed while it is read).
    public var digest: OCIDigest?
    /// The declared size; nil where the format declares none (`docker save` archives).
    public var size: Int64?
    public var mediaType: String
    public var role: Role
    /// The file's name in the layout or archive.
    public var path: String
    /// Layers: how the blob is compressed.
    public var compression: Compression?
    /// Layers: the uncompressed digests the image configs declare for it (`rootfs.diff_ids`).
    public var diffIDs: [OCIDigest] = []

    /// How the blob is named in messages: its digest, else its path.
    public var label: String { digest?.description ?? path }
}

/// One image (a manifest, or a `docker save` entry, or a BuildKit cache index) and its blobs.
public struct OCIImage: Hashable, Sendable {
    /// A tag, platform or digest: how the image is named in reports.
    public var name: String
    public var manifest: Int?
    public var config: Int?
    /// Indices into `OCILayout.blobs`, in the manifest's order.
    public var layers: [Int] = []
}

/// A problem found in a layout: the blob, the kind (an `OCIError.Code`), what was expected and
/// what was found.
public struct OCIIssue: Hashable, Sendable {
    public var blob: String
    public var code: OCIError.Code
    public var expected: String?
    public var actual: String?
    public var message: String

    init(_ error: OCIError, blob: String, expected: String? = nil, actual: String? = nil) {
        self.blob = blob
        self.code = error.code
        self.expected = expected
        self.actual = actual
        self.message = error.message
    }

    public var error: OCIError { OCIError(code, message) }
}

/// An OCI image layout read from a directory, an oci-archive or a docker-archive
/// (spec/oci.md §2): its JSON documents are read (and verified) at once, its other blobs only
/// listed; `OCIVerifier`, `OCIAdder` and `OCIDedup` stream them.
public struct OCILayout: Sendable {
    public enum Format: String, Hashable, Sendable {
        case directory = "oci"
        case ociArchive = "oci-archive"
        case dockerArchive = "docker-archive"
    }

    public let path: String
    public let format: Format
    /// Every blob once (by path), in the order the documents name them.
    public private(set) var blobs: [OCIBlob] = []
    public private(set) var images: [OCIImage] = []
    /// Problems found in the documents (digest or size of a manifest, index or config; missing
    /// blobs; diff_id counts). A document that fails is not followed.
    public private(set) var issues: [OCIIssue] = []
    let container: BlobContainer
    private var positions: [String: Int] = [:]
    /// The indexes and manifests already followed: each is read and walked once, however many
    /// descriptors name it (four indexes naming the next 300 times each were 8 × 10⁹ visits).
    private var followed: Set<OCIDigest> = []
    /// Descriptors met so far, at most `maximumDescriptors`.
    private var descriptors = 0

    /// Nested indexes deeper than this are refused.
    static let maximumDepth = 8
    /// More descriptors than this in one layout's documents are refused (memory stays bounded).
    static let maximumDescriptors = 1 << 20
    /// A blob keeps at most this many distinct diff_ids (more than one is already a mismatch the
    /// verifier reports; the bound keeps merging linear).
    static let maximumDiffIDs = 8

    public init(path: String) throws(OCIError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw OCIError(errno == ENOENT ? .missingBlob : .io, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        container = try isDirectory ? BlobContainer(directory: path) : BlobContainer(archive: path)
        self.path = path
        if container.contains("oci-layout") {
            format = isDirectory ? .directory : (container.contains("manifest.json") ? .dockerArchive : .ociArchive)
            try readImageLayout()
        } else if container.contains("manifest.json") {
            format = .dockerArchive
            try readDockerArchive()
        } else {
            throw OCIError(.invalidLayout, "\(path) is not an OCI image layout, oci-archive or docker-archive (no oci-layout, no manifest.json)")
        }
    }

    // MARK: OCI image layout

    private mutating func readImageLayout() throws(OCIError) {
        struct LayoutFile: Decodable { var imageLayoutVersion: String }
        let marker = try JSONDocuments.decode(LayoutFile.self, from: try container.read("oci-layout"), name: "\(path): oci-layout")
        guard marker.imageLayoutVersion.hasPrefix("1.") else {
            throw OCIError(.invalidLayout, "\(path): unsupported imageLayoutVersion '\(marker.imageLayoutVersion)'")
        }
        let index = try JSONDocuments.decode(IndexDocument.self, from: try container.read("index.json"), name: "\(path): index.json")
        var top = OCIImage(name: "index.json")
        for descriptor in index.manifests {
            try visit(descriptor, depth: 1, trail: [], loose: &top)
        }
        if !top.layers.isEmpty || top.config != nil { images.append(top) }
    }

    /// Follows one descriptor of an index; layers and configs listed directly in an index (a
    /// BuildKit cache) go into `loose`.
    private mutating func visit(_ descriptor: DescriptorDocument, depth: Int, trail: Set<OCIDigest>, loose: inout OCIImage) throws(OCIError) {
        do { try CancellationToken.process.check() } catch { throw OCIError(.io, "\(path): interrupted") }
        let digest = try OCIDigest(descriptor.digest, context: "\(path): descriptor")
        let type = try mediaType(of: descriptor, digest: digest)
        if OCIMediaType.isIndex(type) {
            guard depth <= Self.maximumDepth, !trail.contains(digest) else {
                throw OCIError(.invalidLayout, "\(path): index \(digest) is nested too deep or refers to itself")
            }
            guard followed.insert(digest).inserted else { return }
            guard let bytes = document(descriptor, digest: digest, role: .index) else { return }
            let index = try JSONDocuments.decode(IndexDocument.self, from: bytes, name: "\(path): index \(digest)")
            var inner = OCIImage(name: digest.description)
            for child in index.manifests {
                try visit(child, depth: depth + 1, trail: trail.union([digest]), loose: &inner)
            }
            if !inner.layers.isEmpty || inner.config != nil { images.append(inner) }
        } else if OCIMediaType.isManifest(type) {
            guard followed.insert(digest).inserted else { return }
            guard let bytes = document(descriptor, digest: digest, role: .manifest) else { return }
            let manifest = try JSONDocuments.decode(ManifestDocument.self, from: bytes, name: "\(path): manifest \(digest)")
            let name = descriptor.annotations?["org.opencontainers.image.ref.name"] ?? descriptor.platform?.text ?? digest.description
            var image = OCIImage(name: name.isEmpty ? digest.description : name, manifest: positions[digest.blobPath])
            try readManifest(manifest, digest: digest, into: &image)
            images.append(image)
        } else if let compression = OCIMediaType.layerCompression(type) {
            loose.layers.append(add(OCIBlob(digest: digest, size: descriptor.size, mediaType: type, role: .layer,
                                            path: digest.blobPath, compression: compression)))
        } else {
            let role: OCIBlob.Role = type == OCIMediaType.buildkitCacheConfig ? .config : .blob
            let position = add(OCIBlob(digest: digest, size: descriptor.size, mediaType: type, role: role, path: digest.blobPath))
            if role == .config { loose.config = position }
        }
    }

    /// A descriptor's media type, which the image spec requires: without one a manifest would
    /// pass for an opaque blob (checked whole, its layers never), where skopeo reads the
    /// manifest's own type and checks them. Counts the descriptor against `maximumDescriptors`.
    private mutating func mediaType(of descriptor: DescriptorDocument, digest: OCIDigest) throws(OCIError) -> String {
        descriptors += 1
        guard descriptors <= Self.maximumDescriptors else {
            throw OCIError(.invalidLayout, "\(path): more than \(Self.maximumDescriptors) descriptors in the layout's documents")
        }
        guard let type = descriptor.mediaType, !type.isEmpty else {
            throw OCIError(.invalidLayout, "\(path): the descriptor of \(digest) has no mediaType (the image spec requires one)")
        }
        return type
    }

    private mutating func readManifest(_ manifest: ManifestDocument, digest: OCIDigest, into image: inout OCIImage) throws(OCIError) {
        let configDigest = try OCIDigest(manifest.config.digest, context: "\(path): manifest \(digest) config")
        let configType = try mediaType(of: manifest.config, digest: configDigest)
        var diffIDs: [OCIDigest]?
        if OCIMediaType.isImageConfig(configType) {
            // A config that fails its check is reported; the layers are still read (without diff_ids).
            let bytes = document(manifest.config, digest: configDigest, role: .config, limit: 16 << 20)
            image.config = positions[configDigest.blobPath]
            if let bytes {
                let config = try JSONDocuments.decode(ConfigDocument.self, from: bytes, name: "\(path): config \(configDigest)")
                diffIDs = try (config.rootfs?.diff_ids ?? []).map { text throws(OCIError) in
                    try OCIDigest(text, context: "\(path): config \(configDigest) diff_id")
                }
            }
            if let ids = diffIDs, ids.count != manifest.layers.count {
                issues.append(OCIIssue(OCIError(.mismatch, "\(path): config \(configDigest) lists \(ids.count) diff_ids for the \(manifest.layers.count) layers of manifest \(digest)"),
                                       blob: configDigest.description, expected: "\(manifest.layers.count)", actual: "\(ids.count)"))
                diffIDs = nil
            }
        } else {
            let role: OCIBlob.Role = configType == OCIMediaType.buildkitCacheConfig ? .config : .blob
            image.config = add(OCIBlob(digest: configDigest, size: manifest.config.size, mediaType: configType, role: role, path: configDigest.blobPath))
        }
        for (number, layer) in manifest.layers.enumerated() {
            let layerDigest = try OCIDigest(layer.digest, context: "\(path): manifest \(digest) layer \(number)")
            let type = try mediaType(of: layer, digest: layerDigest)
            let compression = OCIMediaType.layerCompression(type)
            var blob = OCIBlob(digest: layerDigest, size: layer.size, mediaType: type, role: compression == nil ? .blob : .layer,
                               path: layerDigest.blobPath, compression: compression)
            if let diffIDs, compression != nil { blob.diffIDs = [diffIDs[number]] }
            image.layers.append(add(blob))
        }
    }

    /// Reads a JSON document blob and checks its size and digest; nil (with an issue) if it is
    /// missing or wrong, and the document is then not followed.
    private mutating func document(_ descriptor: DescriptorDocument, digest: OCIDigest, role: OCIBlob.Role, limit: Int = 4 << 20) -> [UInt8]? {
        let type = descriptor.mediaType ?? ""
        add(OCIBlob(digest: digest, size: descriptor.size, mediaType: type, role: role, path: digest.blobPath))
        do {
            let bytes = try container.read(digest.blobPath, limit: limit)
            if let issue = Self.check(bytes, digest: digest, size: descriptor.size, name: "\(path): \(role.rawValue) \(digest)") {
                issues.append(issue)
                return nil
            }
            return bytes
        } catch {
            let error = error.code == .missingBlob ? OCIError(.missingBlob, "\(path): \(role.rawValue) \(digest) is missing (no \(digest.blobPath))") : error
            issues.append(OCIIssue(error, blob: digest.description))
            return nil
        }
    }

    /// The issue with bytes that should have `digest` and `size`, if any.
    static func check(_ bytes: [UInt8], digest: OCIDigest, size: Int64?, name: String) -> OCIIssue? {
        if let size, size != Int64(bytes.count) {
            return OCIIssue(OCIError(.mismatch, "\(name): size \(bytes.count), expected \(size)"),
                            blob: digest.description, expected: "\(size)", actual: "\(bytes.count)")
        }
        let actual = OCIDigest.of(bytes, algorithm: digest.algorithm)
        if actual != digest {
            return OCIIssue(OCIError(.mismatch, "\(name): digest \(actual), expected \(digest)"),
                            blob: digest.description, expected: digest.description, actual: actual.description)
        }
        return nil
    }

    /// Records a blob once (by path), merging what a second reference adds; returns its position.
    @discardableResult
    private mutating func add(_ blob: OCIBlob) -> Int {
        if let position = positions[blob.path] {
            for id in blob.diffIDs where blobs[position].diffIDs.count < Self.maximumDiffIDs && !blobs[position].diffIDs.contains(id) {
                blobs[position].diffIDs.append(id)
            }
            if blobs[position].compression == nil, blob.compression != nil {
                blobs[position].compression = blob.compression
                blobs[position].role = blob.role
            }
            return position
        }
        positions[blob.path] = blobs.count
        blobs.append(blob)
        return blobs.count - 1
    }

    // MARK: docker save

    /// A `docker save` archive without an OCI layout (moby image/tarexport): `manifest.json`
    /// names each image's config and layer tars by path; the layer tars are uncompressed, and
    /// their digests are the config's diff_ids.
    private mutating func readDockerArchive() throws(OCIError) {
        let entries = try JSONDocuments.decode([DockerArchiveEntry].self, from: try container.read("manifest.json"), name: "\(path): manifest.json")
        for entry in entries {
            var image = OCIImage(name: entry.RepoTags?.first ?? entry.Config)
            let configName = entry.Config
            let declared = Self.digest(named: configName)
            let position = add(OCIBlob(digest: declared, size: nil, mediaType: OCIMediaType.dockerConfig, role: .config, path: configName))
            image.config = position
            var diffIDs: [OCIDigest] = []
            var configRead = false
            do {
                let bytes = try container.read(configName, limit: 16 << 20)
                let actual = OCIDigest.of(bytes)
                if blobs[position].digest == nil { blobs[position].digest = actual }
                if let declared, let issue = Self.check(bytes, digest: declared, size: nil, name: "\(path): config \(configName)") {
                    issues.append(issue)
                } else {
                    let config = try JSONDocuments.decode(ConfigDocument.self, from: bytes, name: "\(path): config \(configName)")
                    diffIDs = try (config.rootfs?.diff_ids ?? []).map { text throws(OCIError) in
                        try OCIDigest(text, context: "\(path): config \(configName) diff_id")
                    }
                    configRead = true
                }
            } catch {
                issues.append(OCIIssue(error.code == .missingBlob ? OCIError(.missingBlob, "\(path): config \(configName) is missing") : error, blob: configName))
            }
            // A config read whole must list one diff_id per layer: none at all would leave every
            // layer (whose only digest is its diff_id) unchecked.
            if configRead && diffIDs.count != entry.Layers.count {
                issues.append(OCIIssue(OCIError(.mismatch, "\(path): config \(configName) lists \(diffIDs.count) diff_ids for \(entry.Layers.count) layers"),
                                       blob: configName, expected: "\(entry.Layers.count)", actual: "\(diffIDs.count)"))
                diffIDs = []
            }
            for (number, layerName) in entry.Layers.enumerated() {
                var blob = OCIBlob(digest: Self.digest(named: layerName), size: nil, mediaType: OCIMediaType.dockerLayer, role: .layer,
                                   path: layerName, compression: try sniffCompression(layerName))
                if !diffIDs.isEmpty { blob.diffIDs = [diffIDs[number]] }
                image.layers.append(add(blob))
            }
            images.append(image)
        }
    }

    /// The digest a `docker save` file name carries (`<hex>.json`, `<hex>.tar`,
    /// `blobs/sha256/<hex>`), if it does.
    static func digest(named name: String) -> OCIDigest? {
        var last = Substring(name.split(separator: "/").last ?? "")
        for suffix in [".json", ".tar"] where last.hasSuffix(suffix) { last = last.dropLast(suffix.count) }
        return try? OCIDigest("sha256:\(last)")
    }

    /// `docker save` writes tars; other writers may compress them: the first bytes tell.
    private func sniffCompression(_ name: String) throws(OCIError) -> Compression {
        guard container.contains(name) else { return Compression.none }  // reported missing when read
        var reader = try container.open(name)
        let magic = try reader.readAll(limit: 4)
        if magic.starts(with: [0x1f, 0x8b]) { return .gzip }
        if magic == [0x28, 0xb5, 0x2f, 0xfd] { return .zstd }
        return Compression.none
    }
}
