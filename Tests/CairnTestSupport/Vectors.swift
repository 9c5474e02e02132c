import Foundation

/// Locates and reads the shared reference material (`../shared/` beside the project root).
///
/// The project root is found from this file's own path, so tests work from any working
/// directory; `CAIRN_SHARED` overrides the location.
public enum Vectors {
    /// The project's root folder (the one holding Package.swift).
    public static let projectRoot: URL = {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // CairnTestSupport
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // root
    }()

    /// The `shared/` folder.
    public static let shared: URL = {
        if let override = ProcessInfo.processInfo.environment["CAIRN_SHARED"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        return projectRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    /// `shared/vectors/`.
    public static var directory: URL { shared.appendingPathComponent("vectors") }

    /// The project's own fixtures, `Tests/Fixtures/`.
    public static var fixtures: URL { projectRoot.appendingPathComponent("Tests/Fixtures") }

    /// Reads a text file under `shared/vectors/`.
    public static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(relativePath), encoding: .utf8)
    }

    /// Reads a tab-separated file under `shared/vectors/` as rows keyed by its header line.
    /// Lines starting with `#` and empty lines are skipped.
    public static func tsv(_ relativePath: String) throws -> [[String: String]] {
        try parseTSV(text(relativePath))
    }

    public static func parseTSV(_ text: String) -> [[String: String]] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
            .filter { !$0.hasPrefix("#") }
        guard !lines.isEmpty else { return [] }
        let header = lines.removeFirst().split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        return lines.map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            var row: [String: String] = [:]
            for (index, name) in header.enumerated() where index < fields.count {
                row[name] = fields[index]
            }
            return row
        }
    }

    /// One input of `inputs.tsv`, regenerated in memory: `sm<SEED>_<SIZE>` or `zero_<SIZE>`.
    /// Returns nil for a name of another form.
    public static func input(named name: String) -> [UInt8]? {
        let parts = name.split(separator: "_")
        guard parts.count == 2, let size = Int(parts[1]) else { return nil }
        if parts[0] == "zero" { return [UInt8](repeating: 0, count: size) }
        guard parts[0].hasPrefix("sm"), let seed = UInt64(parts[0].dropFirst(2)) else { return nil }
        return SplitMix64.bytes(seed: seed, count: size)
    }

    /// `python3 shared/vectors/gen-tree.py TREE OUTDIR`: the tree of `dirs/` named `tree`,
    /// written into `parent/tree`.
    public static func generateTree(_ tree: String, in parent: URL) throws -> URL {
        let out = parent.appendingPathComponent(tree)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", directory.appendingPathComponent("gen-tree.py").path, tree, out.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "gen-tree.py \(tree) failed"])
        }
        return out
    }
}
