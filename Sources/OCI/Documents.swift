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
    /// Decodes a document, refusing one in which an object names a key twice: decoders differ
    /// on which value counts (Foundation's keeps the first, Go's, skopeo's and containerd's, the
    /// last), so a second `manifests` could show Cairn an empty list and skopeo a tampered one.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], name: String) throws(OCIError) -> T {
        let kind = String(describing: T.self).replacingOccurrences(of: "Document", with: "").lowercased()
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw OCIError(.invalidLayout, "\(name) is not a valid \(kind): \(Self.reason(error))")
        }
        if let key = repeatedKey(in: bytes) {
            throw OCIError(.invalidLayout, "\(name) is not a valid \(kind): the key \"\(key)\" appears twice in one object (Go's decoders match field names regardless of case)")
        }
        return value
    }

    /// The first key named twice in one object of a JSON text that has already been parsed
    /// (its syntax is not checked again), nil if none. Keys are compared after their escapes
    /// are decoded ("a" and "\\u0061" are the same key, as every decoder reads them).
    ///
    /// Go's `encoding/json` (skopeo's, containerd's) also matches a key to a struct field
    /// regardless of case, with Unicode simple folding (`ſ` is `s`, the Kelvin sign is `k`), and
    /// keeps the last match: so two keys that fold to the name of a field the image spec defines
    /// (`manifests` and `Manifests`, `mediaType` and `MediaType`) are the same key too. Other
    /// keys (annotation and label names, read into maps) are compared exactly.
    static func repeatedKey(in bytes: [UInt8]) -> String? {
        var objects: [Set<[UInt8]>?] = []  // open containers, innermost last: an object's keys (exact, and folded field names), or nil for an array
        var expectingKey = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                objects.append([])
                expectingKey = true
                index += 1
            case UInt8(ascii: "["):
                objects.append(nil)
                expectingKey = false
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !objects.isEmpty { objects.removeLast() }
                expectingKey = false
                index += 1
            case UInt8(ascii: ","):
                expectingKey = objects.last.map { $0 != nil } ?? false
                index += 1
            case UInt8(ascii: "\""):
                let (text, next) = decodeString(bytes, from: index + 1)
                index = next
                if expectingKey, let last = objects.indices.last, objects[last] != nil {
                    guard objects[last]!.insert(text).inserted else { return String(decoding: text, as: UTF8.self) }
                    // A field name, folded as Go folds it: recorded under a marker byte (0xFF
                    // never starts UTF-8 text, so it cannot meet an exact key).
                    let folded = foldedFieldName(text)
                    if specFields.contains(folded) {
                        guard objects[last]!.insert([0xFF] + Array(folded.utf8)).inserted else { return String(decoding: text, as: UTF8.self) }
                    }
                    expectingKey = false
                }
            default:
                index += 1
            }
        }
        return nil
    }

    /// The field names of the documents read (image-spec descriptor, index, manifest, config,
    /// image-layout; Docker's `manifest.json`), lower-case.
    static let specFields: Set<String> = [
        "mediatype", "digest", "size", "urls", "annotations", "platform", "artifacttype", "data", "subject",
        "schemaversion", "manifests", "layers", "config", "rootfs", "diff_ids", "type", "history", "created", "author",
        "architecture", "os", "os.version", "os.features", "variant", "features", "imagelayoutversion", "repotags",
    ]

    /// A key folded as Go matches field names: lower case, `ſ` (U+017F) as `s`, the Kelvin sign
    /// (U+212A) as `k`.
    static func foldedFieldName(_ key: [UInt8]) -> String {
        var folded = ""
        for scalar in String(decoding: key, as: UTF8.self).unicodeScalars {
            switch scalar.value {
            case 0x017F: folded.append("s")
            case 0x212A: folded.append("k")
            default: folded.append(contentsOf: String(scalar).lowercased())
            }
        }
        return folded
    }

    /// The bytes of a JSON string whose opening quote is just before `start` (escapes decoded),
    /// and the index after its closing quote.
    private static func decodeString(_ bytes: [UInt8], from start: Int) -> ([UInt8], Int) {
        var text: [UInt8] = []
        var index = start
        var pendingHigh: UInt32? = nil
        func append(_ scalar: UInt32) {
            if let value = Unicode.Scalar(scalar) { text.append(contentsOf: Array(String(Character(value)).utf8)) }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { return (text, index + 1) }
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                let escaped = bytes[index + 1]
                index += 2
                if escaped == UInt8(ascii: "u"), index + 4 <= bytes.count,
                   let unit = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) {
                    index += 4
                    if (0xD800..<0xDC00).contains(unit) { pendingHigh = unit; continue }
                    if (0xDC00..<0xE000).contains(unit), let high = pendingHigh {
                        append(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00))
                    } else {
                        append(unit)
                    }
                    pendingHigh = nil
                    continue
                }
                pendingHigh = nil
                switch escaped {
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                default: text.append(escaped)  // \" \\ \/
                }
                continue
            }
            pendingHigh = nil
            text.append(byte)
            index += 1
        }
        return (text, index)
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
