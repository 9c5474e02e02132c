import Foundation

/// The JSON documents of a layout, decoded leniently: unknown fields are ignored (the image
/// spec requires it), missing required fields are errors.
struct DescriptorDocument: Decodable {
    var mediaType: String?
    var digest: String
    var size: Int64
    var platform: PlatformDocument?
    var annotations: [String: String]?
}

struct PlatformDocument: Decodable {
    var os: String?
    var architecture: String?
    var variant: String?

    var text: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
}

/// An image index (also `index.json` and Docker's manifest list).
struct IndexDocument: Decodable {
    var mediaType: String?
    var manifests: [DescriptorDocument]
}

/// An image manifest (OCI or Docker schema 2).
struct ManifestDocument: Decodable {
    var mediaType: String?
    var config: DescriptorDocument
    var layers: [DescriptorDocument]
}

/// The part of an image config Cairn checks: `rootfs.diff_ids`.
struct ConfigDocument: Decodable {
    struct RootFS: Decodable {
        var type: String?
        var diff_ids: [String]?
    }
    var rootfs: RootFS?
}

/// One image of a `docker save` archive's `manifest.json`.
struct DockerArchiveEntry: Decodable {
    var Config: String
    var RepoTags: [String]?
    var Layers: [String]
}

enum JSONDocuments {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], name: String) throws(OCIError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw OCIError(.invalidLayout, "\(name) is not a valid \(String(describing: T.self).replacingOccurrences(of: "Document", with: "").lowercased()): \(Self.reason(error))")
        }
    }

    private static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted: return "malformed JSON"
        default: return "malformed JSON"
        }
    }
}
