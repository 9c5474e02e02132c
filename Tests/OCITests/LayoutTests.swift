import CairnTestSupport
import Foundation
import Testing
@testable import OCI

/// Layouts and archives made by umoci and skopeo: read and verified.
@Suite(.serialized) struct LayoutTests {
    private func verified(_ url: URL) throws -> (OCILayout, OCIVerification) {
        let layout = try OCILayout(path: url.path)
        let result = try OCIVerifier().verify(layout, stopAtFirst: false)
        #expect(result.issues.isEmpty, "\(url.lastPathComponent): \(result.issues.map(\.message))")
        return (layout, result)
    }

    @Test func umociGzipLayoutVerifies() throws {
        let fixtures = try Fixtures.get()
        let (layout, result) = try verified(fixtures.v1)
        #expect(layout.format == .directory)
        #expect(layout.images.count == 1 && layout.images[0].name == "v1")
        #expect(layout.blobs.map(\.role) == [.manifest, .config, .layer])
        let layer = try #require(result.entries.last?.check)
        // umoci's config names the diff_id; the reader computed the same from the tar.
        #expect(layer.diffID == layout.blobs[2].diffIDs.first)
        // 41 files of the rootfs plus the directories `.` and `lib`.
        #expect(layer.tar?.files == 41)
        #expect(layer.tar?.entries == 43)
        // The diff_id is the sha256 of the uncompressed tar, as gzip -dc gives it.
        let tar = try Compress.gunzip([UInt8](try Data(contentsOf: fixtures.v1.appendingPathComponent(layout.blobs[2].path))))
        #expect(layer.diffID?.description == LayoutCopy.sha256(tar))
    }

    @Test func skopeoZstdLayoutVerifies() throws {
        let fixtures = try Fixtures.get()
        let (layout, result) = try verified(fixtures.v1zstd)
        let layer = try #require(layout.blobs.first { $0.role == .layer })
        #expect(layer.compression == .zstd)
        #expect(layer.mediaType == OCIMediaType.layerZstd)
        // Same content as the gzip layout: the same diff_id.
        let (gzipLayout, _) = try verified(fixtures.v1)
        #expect(layer.diffIDs == gzipLayout.blobs[2].diffIDs)
        #expect(result.entries.contains { $0.check?.diffID == layer.diffIDs.first })
    }

    @Test func archivesVerify() throws {
        let fixtures = try Fixtures.get()
        let (oci, _) = try verified(fixtures.ociArchive)
        #expect(oci.format == .ociArchive)
        let (docker, dockerResult) = try verified(fixtures.dockerArchive)
        #expect(docker.format == .dockerArchive)
        #expect(docker.images.first?.name == "docker.io/cairn/test:v1")
        // skopeo writes the layer uncompressed, named by its diff_id.
        let layer = try #require(docker.blobs.first { $0.role == .layer })
        #expect(layer.compression == Compression.none)
        #expect(dockerResult.entries.contains { $0.check?.digest == layer.diffIDs.first })
        #expect(oci.blobs.map(\.digest) == (try OCILayout(path: fixtures.v1.path)).blobs.map(\.digest))
    }

    /// A multi-arch image: index.json → an image index → two manifests with platforms, made
    /// from umoci's image; skopeo copies it (`--all`, checking every digest) and both verify.
    @Test func multiArchNestedIndex() throws {
        let fixtures = try Fixtures.get()
        let copy = try LayoutCopy(of: fixtures.v1, label: "multi")
        defer { copy.remove() }
        let amd64 = try copy.manifestDigest
        try copy.editConfig { $0["architecture"] = "arm64" }
        let arm64 = try copy.manifestDigest
        func descriptor(_ digest: String, _ arch: String) throws -> [String: Any] {
            let size = try Data(contentsOf: copy.blobURL(digest)).count
            return ["mediaType": OCIMediaType.manifest, "digest": digest, "size": size, "platform": ["os": "linux", "architecture": arch]]
        }
        let index: [String: Any] = ["schemaVersion": 2, "mediaType": OCIMediaType.index,
                                    "manifests": [try descriptor(amd64, "amd64"), try descriptor(arm64, "arm64")]]
        let (digest, size) = try copy.writeBlob([UInt8](try JSONSerialization.data(withJSONObject: index)))
        let top: [String: Any] = ["schemaVersion": 2, "manifests": [["mediaType": OCIMediaType.index, "digest": digest, "size": size,
                                                                      "annotations": ["org.opencontainers.image.ref.name": "multi"]]]]
        try JSONSerialization.data(withJSONObject: top).write(to: copy.root.appendingPathComponent("index.json"))

        let (layout, _) = try verified(copy.root)
        #expect(layout.images.map(\.name) == ["linux/amd64", "linux/arm64"])
        #expect(layout.blobs.filter { $0.role == .layer }.count == 1)  // shared, read once
        #expect(layout.blobs.first?.role == .index)

        let other = copy.root.deletingLastPathComponent().appendingPathComponent("skopeo-copy")
        try Tool.must("skopeo", ["--insecure-policy", "copy", "--all", "oci:\(copy.root.path):multi", "oci:\(other.path):multi"])
        let (copied, _) = try verified(other)
        #expect(copied.images.count == 2)
    }

    /// A BuildKit cache export: an index listing layer blobs and the cache config directly,
    /// plus a blob of a media type nobody registered: all verified, the unknown passed through.
    @Test func buildkitCacheAndUnknownMediaTypes() throws {
        let fixtures = try Fixtures.get()
        let copy = try LayoutCopy(of: fixtures.v1, label: "cache")
        defer { copy.remove() }
        let layer = try copy.layerDigest()
        let layerSize = try Data(contentsOf: copy.blobURL(layer)).count
        let cacheConfig = try copy.writeBlob(Array(#"{"layers":[{"blob":"\#(layer)","parent":-1}],"records":[{"digest":"sha256:0"}]}"#.utf8))
        let unknown = try copy.writeBlob(Array("not json at all".utf8))
        let index: [String: Any] = ["schemaVersion": 2, "mediaType": OCIMediaType.index, "manifests": [
            ["mediaType": OCIMediaType.layerGzip, "digest": layer, "size": layerSize],
            ["mediaType": OCIMediaType.buildkitCacheConfig, "digest": cacheConfig.digest, "size": cacheConfig.size],
            ["mediaType": "application/vnd.example.unknown", "digest": unknown.digest, "size": unknown.size],
        ]]
        let (digest, size) = try copy.writeBlob([UInt8](try JSONSerialization.data(withJSONObject: index)))
        let top: [String: Any] = ["schemaVersion": 2, "manifests": [["mediaType": OCIMediaType.index, "digest": digest, "size": size]]]
        try JSONSerialization.data(withJSONObject: top).write(to: copy.root.appendingPathComponent("index.json"))

        let (layout, result) = try verified(copy.root)
        #expect(layout.blobs.map(\.role) == [.index, .layer, .config, .blob])
        #expect(layout.images.count == 1 && layout.images[0].layers.count == 1)
        // No image config: the layer is decompressed and scanned, but there is no diff_id to match.
        try #require(result.entries.count == 4)
        #expect(result.entries[1].check?.tar?.files == 41)

        // The unknown blob is still verified.
        try Data("not json at ALL".utf8).write(to: copy.blobURL(unknown.digest))
        let damaged = try OCIVerifier().verify(try OCILayout(path: copy.root.path), stopAtFirst: true)
        #expect(damaged.issues.first?.blob == unknown.digest)
        #expect(damaged.issues.first?.code == .mismatch)
    }
}
