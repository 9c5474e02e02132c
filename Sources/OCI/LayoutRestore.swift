import CairnSystem
import Engine
import Foundation
import Hashing
import Multiformats

/// The part of a published `index.json` that names the original index.
private struct PublishedIndex: Decodable { var annotations: [String: String]? }

extension IPFSLayout {
    /// Writes the original layout that `oci push` published as the UnixFS directory `root` into
    /// `directory` (a new directory), reading only what the layout names (spec/oci.md §8):
    ///
    /// 1. the published `index.json` (at most 4 MiB) names the original index by its
    ///    annotation; that blob is read (at most 4 MiB) and its digest checked;
    /// 2. `oci-layout` and the original `index.json` are written, then, level by level, the
    ///    documents the layout names and lacks (indexes, manifests, configs), until every one
    ///    it needs is there (at most `OCILayout.maximumDepth` + 2 rounds);
    /// 3. every other blob the layout names. Each blob is read from the DAG and checked first
    ///    (size at most its descriptor's, digest) and written only then (`writeBlob`).
    ///
    /// Every file comes from a UnixFS *file* of the DAG (a symlink, a directory or anything else
    /// where a file is expected is refused) and is created here, beside nothing else: nothing
    /// the DAG holds besides those files is written, no link is followed, no file outside
    /// `directory` is touched. The caller verifies the result (`OCIVerifier`) before using it.
    public static func export(_ root: CID, from blocks: some BlockGetter, to directory: String) throws -> OCILayout {
        let reader = UnixFSReader(store: blocks)
        guard mkdir(directory, 0o755) == 0 else {
            throw OCIError(.io, "cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        let rewritten = try readFile(reader, root, "index.json", limit: 4 << 20)
        let named: String
        do {
            let index = try JSONDocuments.decode(PublishedIndex.self, from: rewritten, name: "\(root)/index.json")
            guard let value = index.annotations?[originalIndexAnnotation] else {
                throw OCIError(.invalidLayout, "\(root)/index.json has no \(originalIndexAnnotation) annotation: not a layout `cairn oci push` published")
            }
            named = value
        }
        let digest = try OCIDigest(named, context: "\(root)/index.json annotation \(originalIndexAnnotation)")
        let original = try readFile(reader, root, digest.blobPath, limit: 4 << 20)
        guard OCIDigest.of(original, algorithm: digest.algorithm) == digest else {
            throw OCIError(.mismatch, "\(root)/\(digest.blobPath): the original index.json does not match its digest \(digest)")
        }
        try create(directory + "/oci-layout", bytes: try readFile(reader, root, "oci-layout", limit: 64 << 10))
        try create(directory + "/index.json", bytes: original)
        var written: Set<String> = []
        var layout = try OCILayout(path: directory)
        for _ in 0..<(OCILayout.maximumDepth + 2) {
            // Documents the walk needed and did not find: write them and walk again.
            let wanted = layout.issues.filter { $0.code == .missingBlob }.compactMap { issue in
                layout.blobs.first { $0.digest?.description == issue.blob }
            }
            guard !wanted.isEmpty else { break }
            for blob in wanted where written.insert(blob.path).inserted {
                try writeBlob(reader, root, blob, into: directory)
            }
            layout = try OCILayout(path: directory)
        }
        for blob in layout.blobs where written.insert(blob.path).inserted {
            try writeBlob(reader, root, blob, into: directory)
        }
        // The files are synced as written; their folders' entries too, before any rename.
        var folders = Set(written.map { directory + "/" + PathText.parent(of: $0) })
        folders.insert(directory + "/blobs")
        folders.insert(directory)
        for folder in folders.sorted(by: >) where access(folder, F_OK) == 0 {
            do throws(SystemError) {
                let fd = try SystemCall.open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                defer { SystemCall.close(fd) }
                try SystemCall.fsync(fd, path: folder)
            } catch {
                throw OCIError(.io, error.description)
            }
        }
        return try OCILayout(path: directory)
    }

    /// The UnixFS file at `path` under `root`, whole; refused past `limit` bytes.
    static func readFile(_ reader: UnixFSReader, _ root: CID, _ path: String, limit: Int) throws -> [UInt8] {
        let cid = try file(reader, root, path)
        var bytes: [UInt8] = []
        try reader.readFile(cid) { piece in
            guard bytes.count + piece.count <= limit else {
                throw OCIError(.invalidLayout, "\(root)/\(path) is larger than the \(limit) bytes it may have")
            }
            bytes.append(contentsOf: piece)
        }
        return bytes
    }

    /// The CID of the UnixFS file at `path` under `root`: a missing entry is a missing blob;
    /// a directory, a symlink or anything but a file is refused.
    static func file(_ reader: UnixFSReader, _ root: CID, _ path: String) throws -> CID {
        let cid: CID
        do {
            cid = try reader.resolve(root, path.split(separator: "/").map(String.init))
        } catch let error as EngineError where error.code == .notFound {
            throw OCIError(.missingBlob, "the layout \(root) has no \(path)")
        }
        guard try reader.kind(of: cid) == .file else {
            throw OCIError(.invalidLayout, "\(root)/\(path) is not a regular file in the published layout")
        }
        return cid
    }

    /// Writes one blob the layout names from the DAG. Its bytes are read and checked first
    /// (size and digest, at most its descriptor's size plus one byte) and only then written: a
    /// descriptor claiming 4 GiB over a DAG of 4 GiB of zeros (1 MB of blocks) wrote 4 GiB
    /// before the digest check refused it. A document (index, manifest, config) is at most
    /// what the walk reads of one (16 MiB).
    static func writeBlob(_ reader: UnixFSReader, _ root: CID, _ blob: OCIBlob, into directory: String) throws {
        let cid = try file(reader, root, blob.path)
        var declared = blob.size.map { UInt64(max($0, 0)) }
        if blob.role == .index || blob.role == .manifest || blob.role == .config { declared = min(declared ?? UInt64.max, 16 << 20) }
        let limit = declared.map { $0 + 1 }
        if let digest = blob.digest {
            var hasher = digest.algorithm.hashAlgorithm.makeHasher()
            let count = try reader.readFile(cid, length: limit) { piece in hasher.update(piece) }
            if let declared, count != declared {
                throw OCIError(.mismatch, "\(root)/\(blob.path): the published blob has \(count == declared + 1 ? "more than \(declared)" : "\(count)") bytes, its descriptor says \(declared)")
            }
            let actual = OCIDigest(algorithm: digest.algorithm, digest: hasher.finalize())
            guard actual == digest else {
                throw OCIError(.mismatch, "\(root)/\(blob.path): the published blob's digest is \(actual), not \(digest)")
            }
        }
        var folder = directory
        for part in blob.path.split(separator: "/").dropLast() {
            folder += "/" + part
            guard mkdir(folder, 0o755) == 0 || errno == EEXIST else {
                throw OCIError(.io, "cannot create \(folder): \(String(cString: strerror(errno)))")
            }
        }
        let path = directory + "/" + blob.path
        let fd = try openNew(path)
        defer { SystemCall.close(fd) }
        var offset: Int64 = 0
        try reader.readFile(cid, length: limit) { piece in
            do throws(SystemError) { try SystemCall.pwriteAll(fd, piece, at: offset, path: path) } catch { throw OCIError(.io, error.description) }
            offset += Int64(piece.count)
        }
        do { try SystemCall.fsync(fd, path: path) } catch { throw OCIError(.io, error.description) }
    }

    /// Creates a new file (never through a link, never over an existing one) holding `bytes`.
    static func create(_ path: String, bytes: [UInt8]) throws {
        let fd = try openNew(path)
        defer { SystemCall.close(fd) }
        let failure = bytes.withUnsafeBytes { raw -> SystemError? in
            do throws(SystemError) {
                try SystemCall.pwriteAll(fd, raw, at: 0, path: path)
                try SystemCall.fsync(fd, path: path)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw OCIError(.io, failure.description) }
    }

    static func openNew(_ path: String) throws -> Int32 {
        do throws(SystemError) {
            return try SystemCall.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        } catch {
            throw OCIError(.io, error.description)
        }
    }
}
