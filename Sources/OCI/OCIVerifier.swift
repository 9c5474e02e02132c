import Foundation

/// What `OCIVerifier` found: every blob read, with its check or its issue.
public struct OCIVerification: Sendable {
    public struct Entry: Sendable {
        public var blob: OCIBlob
        /// Nil if the blob failed (its issue is in `issues`) or was not read.
        public var check: BlobCheck?
    }
    public var entries: [Entry] = []
    /// The document issues of the layout, then each blob's, in order.
    public var issues: [OCIIssue] = []
    public var passed: Bool { issues.isEmpty }
}

/// Verifies every blob of a layout (spec/oci.md §3): the documents' issues from reading the
/// layout, then each blob streamed once. `stopAtFirst` ends at the first issue.
public struct OCIVerifier: Sendable {
    public var limits = TarLimits()

    public init() {}

    public func verify(_ layout: OCILayout, stopAtFirst: Bool) throws -> OCIVerification {
        var result = OCIVerification(issues: layout.issues)
        if stopAtFirst && !result.passed { return result }
        let reported = Set(layout.issues.map(\.blob))
        for blob in layout.blobs {
            // A document whose check failed during the walk is reported once.
            if reported.contains(blob.label) {
                result.entries.append(.init(blob: blob, check: nil))
                continue
            }
            do {
                let reader = try BlobReader(blob: blob, container: layout.container, limits: limits)
                result.entries.append(.init(blob: blob, check: try reader.drain()))
            } catch let error as OCIError {
                result.entries.append(.init(blob: blob, check: nil))
                result.issues.append(OCIVerifier.issue(error, blob: blob))
                if stopAtFirst { return result }
            }
        }
        return result
    }

    /// The issue for a blob's error, with the expected and actual values pulled from it.
    static func issue(_ error: OCIError, blob: OCIBlob) -> OCIIssue {
        var expected: String?, actual: String?
        if error.code == .mismatch, let range = error.message.range(of: ", expected ") {
            expected = String(error.message[range.upperBound...])
            actual = error.message[..<range.lowerBound].split(separator: " ").last.map(String.init)
        }
        return OCIIssue(error, blob: blob.label, expected: expected, actual: actual)
    }
}
