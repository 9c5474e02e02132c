import Foundation

extension IPFSLayout {
    /// Turns an IPFS-enabled layout written out at `directory` back into the original layout
    /// (spec/oci.md §8): the original `index.json` (named by the rewritten one's annotation,
    /// its digest checked) replaces the rewritten one, every blob the original does not name
    /// is removed, and the result is verified as `oci verify` does. Returns the layout.
    public static func restore(directory: String) throws -> OCILayout {
        let indexPath = directory + "/index.json"
        guard let data = FileManager.default.contents(atPath: indexPath),
              let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw OCIError(.invalidLayout, "\(directory): index.json is missing or not a JSON object")
        }
        guard let named = (index["annotations"] as? [String: Any])?[originalIndexAnnotation] as? String else {
            throw OCIError(.invalidLayout, "\(directory): index.json has no \(originalIndexAnnotation) annotation: not a layout `cairn oci push` published")
        }
        let digest = try OCIDigest(named, context: "\(directory): index.json annotation \(originalIndexAnnotation)")
        guard let original = FileManager.default.contents(atPath: directory + "/" + digest.blobPath),
              OCIDigest.of(Array(original), algorithm: digest.algorithm) == digest else {
            throw OCIError(.mismatch, "\(directory): the original index.json (\(digest)) is missing or does not match its digest")
        }
        do {
            try original.write(to: URL(fileURLWithPath: indexPath + ".restore"))
            guard rename(indexPath + ".restore", indexPath) == 0 else { throw OCIError(.io, "rename failed") }
        } catch {
            throw OCIError(.io, "\(directory): cannot write index.json: \(error)")
        }
        var layout = try OCILayout(path: directory)
        let kept = Set(layout.blobs.map(\.path))
        let fm = FileManager.default
        for algorithm in (try? fm.contentsOfDirectory(atPath: directory + "/blobs")) ?? [] {
            let folder = "blobs/\(algorithm)"
            for name in (try? fm.contentsOfDirectory(atPath: directory + "/" + folder)) ?? [] where !kept.contains("\(folder)/\(name)") {
                try? fm.removeItem(atPath: "\(directory)/\(folder)/\(name)")
            }
            if (try? fm.contentsOfDirectory(atPath: directory + "/" + folder))?.isEmpty == true {
                try? fm.removeItem(atPath: directory + "/" + folder)
            }
        }
        layout = try OCILayout(path: directory)
        let verification = try OCIVerifier().verify(layout, stopAtFirst: true)
        if let issue = verification.issues.first { throw issue.error }
        return layout
    }
}
