public import Multiformats
import Foundation
import UnixFS
import Blocks

/// The IPFS-enabled copy of a layout that `oci push` publishes (spec/oci.md §7): a UnixFS
/// directory `oci-layout`, `index.json`, `blobs/<alg>/<hex>` in which every descriptor of the
/// indexes and manifests carries `urls: ["ipfs://CID"]`, the original documents kept beside
/// the rewritten ones so that a pull gives back the layout byte for byte.
public struct IPFSLayout: Sendable {
    /// A document rewritten with `urls`: its original digest, its new digest and file.
    public struct Rewritten: Hashable, Sendable {
        public var original: OCIDigest
        public var digest: OCIDigest
        public var size: Int64
        public var cid: CID
    }

    /// The annotation of the rewritten `index.json` that names the original one's blob.
    public static let originalIndexAnnotation = "dev.cairn.oci.original-index"

    /// The root directory.
    public var root: CID
    /// Every blob of the layout as added (OCI digest → file).
    public var blobs: [OCIAddedBlob] = []
    /// The indexes and manifests rewritten, bottom up.
    public var rewritten: [Rewritten] = []
    /// The blob holding the original `index.json`.
    public var originalIndex: OCIDigest
}

/// Builds the IPFS-enabled layout over blobs already written to `sink`: each manifest and
/// index rewritten (children first, since a rewritten child has a new digest its parent must
/// name), then the directory tree.
struct IPFSLayoutBuilder {
    let layout: OCILayout
    let parameters: ImportParameters
    let threads: Int?
    /// Every blob by digest: the file of the original bytes.
    private var files: [OCIDigest: (cid: CID, tsize: UInt64)] = [:]
    private var roles: [OCIDigest: OCIBlob.Role] = [:]
    private var done: [OCIDigest: IPFSLayout.Rewritten] = [:]
    private var order: [IPFSLayout.Rewritten] = []
    private var visiting: Set<OCIDigest> = []

    init(layout: OCILayout, blobs: [OCIAddedBlob], parameters: ImportParameters, threads: Int?) {
        self.layout = layout
        self.parameters = parameters
        self.threads = threads
        for blob in blobs {
            files[blob.check.digest] = (blob.cid, blob.tsize)
            roles[blob.check.digest] = blob.blob.role
        }
    }

    mutating func build<Sink: BlockSink>(into sink: inout Sink) throws -> IPFSLayout {
        let importer = try FileImporter(parameters: parameters, threads: threads)
        let indexBytes = try layout.container.read("index.json")
        let originalIndex = OCIDigest.of(indexBytes)
        var index = try rewrite(indexBytes, role: .index, name: "index.json", importer: importer, sink: &sink)
        var annotations = index["annotations"] as? [String: Any] ?? [:]
        annotations[IPFSLayout.originalIndexAnnotation] = originalIndex.description
        index["annotations"] = annotations
        func file(_ bytes: [UInt8]) throws -> DirectoryEntry {
            let result = try importer.importBytes(bytes, into: &sink)
            return DirectoryEntry(name: [], cid: result.root, tsize: result.size)
        }
        // `files` now holds the rewritten documents too.
        var blobs: [OCIDigest: DirectoryEntry] = [:]
        for (digest, entry) in files { blobs[digest] = DirectoryEntry(name: [], cid: entry.cid, tsize: entry.tsize) }
        blobs[originalIndex] = try file(indexBytes)
        let directory = try DirectoryBuilder(parameters: parameters)
        var byAlgorithm: [String: [DirectoryEntry]] = [:]
        for (digest, var entry) in blobs {
            entry.name = Array(digest.hex.utf8)
            byAlgorithm[digest.algorithm.rawValue, default: []].append(entry)
        }
        var algorithms: [DirectoryEntry] = []
        for (name, entries) in byAlgorithm {
            let result = try directory.build(entries, into: &sink)
            algorithms.append(DirectoryEntry(name: Array(name.utf8), cid: result.root, tsize: result.size))
        }
        let blobsDirectory = try directory.build(algorithms, into: &sink)
        var top = [DirectoryEntry(name: Array("blobs".utf8), cid: blobsDirectory.root, tsize: blobsDirectory.size)]
        var entry = try file(Self.encode(index))
        entry.name = Array("index.json".utf8)
        top.append(entry)
        entry = try file(try layout.container.read("oci-layout"))
        entry.name = Array("oci-layout".utf8)
        top.append(entry)
        let root = try directory.build(top, into: &sink)
        return IPFSLayout(root: root.root, rewritten: order, originalIndex: originalIndex)
    }

    /// The document `bytes` with every descriptor (an index's `manifests`, a manifest's
    /// `config` and `layers`) given the digest and size of its rewritten child, if the child
    /// is a document, and `urls` naming the child's file first.
    private mutating func rewrite<Sink: BlockSink>(_ bytes: [UInt8], role: OCIBlob.Role, name: String,
                                                   importer: FileImporter, sink: inout Sink) throws -> [String: Any] {
        guard var object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw OCIError(.invalidLayout, "\(layout.path): \(name) is not a JSON object")
        }
        let keys = role == .index ? ["manifests"] : ["config", "layers"]
        for key in keys {
            if let list = object[key] as? [[String: Any]] {
                object[key] = try list.map { try descriptor($0, in: name, importer: importer, sink: &sink) }
            } else if let single = object[key] as? [String: Any] {
                object[key] = try descriptor(single, in: name, importer: importer, sink: &sink)
            }
        }
        return object
    }

    private mutating func descriptor<Sink: BlockSink>(_ original: [String: Any], in name: String,
                                                      importer: FileImporter, sink: inout Sink) throws -> [String: Any] {
        var descriptor = original
        let digest = try OCIDigest(original["digest"] as? String ?? "", context: "\(layout.path): \(name) descriptor")
        guard let file = files[digest] else {
            throw OCIError(.missingBlob, "\(layout.path): \(name) names \(digest), which the layout does not hold")
        }
        var cid = file.cid
        if let role = roles[digest], role == .index || role == .manifest {
            let rewritten = try document(digest, role: role, importer: importer, sink: &sink)
            descriptor["digest"] = rewritten.digest.description
            descriptor["size"] = rewritten.size
            cid = rewritten.cid
        }
        let others = (original["urls"] as? [String] ?? []).filter { !$0.hasPrefix("ipfs://") }
        descriptor["urls"] = ["ipfs://\(cid.toV1())"] + others
        return descriptor
    }

    /// A manifest or index rewritten (once, however often it is named).
    private mutating func document<Sink: BlockSink>(_ digest: OCIDigest, role: OCIBlob.Role,
                                                    importer: FileImporter, sink: inout Sink) throws -> IPFSLayout.Rewritten {
        if let known = done[digest] { return known }
        guard visiting.insert(digest).inserted else {
            throw OCIError(.invalidLayout, "\(layout.path): \(digest) contains itself")
        }
        let path = layout.blobs.first { $0.digest == digest }?.path ?? digest.blobPath
        let bytes = Self.encode(try rewrite(try layout.container.read(path), role: role, name: digest.description, importer: importer, sink: &sink))
        let result = try importer.importBytes(bytes, into: &sink)
        let rewritten = IPFSLayout.Rewritten(original: digest, digest: OCIDigest.of(bytes), size: Int64(bytes.count), cid: result.root)
        files[rewritten.digest] = (result.root, result.size)
        done[digest] = rewritten
        order.append(rewritten)
        visiting.remove(digest)
        return rewritten
    }

    /// Deterministic JSON: sorted keys, slashes unescaped.
    static func encode(_ object: [String: Any]) -> [UInt8] {
        // Only values JSONSerialization itself produced are written back, so this cannot fail.
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }
}
