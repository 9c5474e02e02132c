import Foundation

/// A new empty directory under the system's temporary folder, named `cairn-LABEL-PID-RANDOM`
/// (the caller removes it).
public func makeTemporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("cairn-\(label)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Removes a directory however deep its tree (Foundation's removal stops at PATH_MAX): `rm -rf`.
public func removeDeepTree(_ directory: URL) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/rm")
    process.arguments = ["-rf", directory.path]
    try? process.run()
    process.waitUntilExit()
}
