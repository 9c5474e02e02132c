import CairnTestSupport
import Foundation
import Testing

/// Runs a tool (umoci, skopeo, gzip, zstd, tar) and collects its output.
struct Tool {
    struct Run {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil, stdin: URL? = nil, stdout: URL? = nil) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        if let directory { process.currentDirectoryURL = directory }
        let errPipe = Pipe(), outPipe = Pipe()
        if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
        if let stdout {
            FileManager.default.createFile(atPath: stdout.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: stdout)
        } else {
            process.standardOutput = outPipe
        }
        process.standardError = errPipe
        try process.run()
        let out = stdout == nil ? outPipe.fileHandleForReading.readDataToEndOfFile() : Data()
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: out, stderr: String(decoding: err, as: UTF8.self))
    }

    /// Runs and requires exit status 0.
    @discardableResult
    static func must(_ executable: String, _ arguments: [String], in directory: URL? = nil, stdin: URL? = nil, stdout: URL? = nil) throws -> Run {
        let run = try run(executable, arguments, in: directory, stdin: stdin, stdout: stdout)
        guard run.status == 0 else {
            throw ToolFailure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(run.status): \(run.stderr)")
        }
        return run
    }

    struct ToolFailure: Error, CustomStringConvertible { var description: String }
}

/// A root file system of generated text files (compressible, reproducible): `a-first.txt`
/// (the first file in tar order) and `lib/fNN.txt`. `version` 2 inserts a line at the start
/// of `a-first.txt`, nothing else. Every mtime is fixed, so equal files give equal tar headers.
enum Rootfs {
    static func populate(_ root: URL, version: Int, files: Int = 40, seed: UInt64 = 7) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("lib"), withIntermediateDirectories: true)
        var first = text(seed: seed, lines: 800, label: "first")
        if version == 2 { first = "version two changes this file near the start of the layer\n" + first }
        try first.write(to: root.appendingPathComponent("a-first.txt"), atomically: false, encoding: .utf8)
        for index in 0..<files {
            let name = String(format: "lib/f%02d.txt", index)
            try text(seed: seed &+ UInt64(index + 1), lines: 800, label: name).write(to: root.appendingPathComponent(name), atomically: false, encoding: .utf8)
        }
        try Tool.must("find", [root.path, "-exec", "touch", "-h", "-d", "@1700000000", "{}", "+"])
    }

    private static let words = ["layer", "block", "chunk", "digest", "manifest", "config", "index", "blob", "tar", "gzip",
                                "zstd", "cairn", "kubo", "peer", "store", "pin", "root", "node", "leaf", "link"]

    static func text(seed: UInt64, lines: Int, label: String) -> String {
        var random = SplitMix64(seed: seed)
        var out = ""
        for line in 0..<lines {
            out += "\(label) \(line):"
            for _ in 0..<8 { out += " " + words[Int(random.next() % UInt64(words.count))] }
            out += " \(random.next() % 100_000)\n"
        }
        return out
    }
}

/// Image layouts made by umoci (and converted by skopeo) once per test process.
final class Fixtures: Sendable {
    let root: URL
    /// `v1` and `v2` as separate gzip layouts (one layer each), and v1 as zstd.
    let v1: URL, v2: URL, v1zstd: URL
    /// v1 copied by skopeo to an oci-archive and a docker-archive.
    let ociArchive: URL, dockerArchive: URL

    struct Failure: Error { var description: String }
    static let shared: Result<Fixtures, Failure> = {
        do { return .success(try Fixtures()) } catch { return .failure(Failure(description: "\(error)")) }
    }()

    static func get() throws -> Fixtures { try shared.get() }

    private init() throws {
        root = try makeTemporaryDirectory("oci-fixtures")
        v1 = root.appendingPathComponent("v1")
        v2 = root.appendingPathComponent("v2")
        v1zstd = root.appendingPathComponent("v1zstd")
        ociArchive = root.appendingPathComponent("v1.oci.tar")
        dockerArchive = root.appendingPathComponent("v1.docker.tar")
        try Self.umociImage(layout: v1, tag: "v1", scratch: root) { try Rootfs.populate($0, version: 1) }
        try Self.umociImage(layout: v2, tag: "v2", scratch: root) { try Rootfs.populate($0, version: 2) }
        try Tool.must("skopeo", ["--insecure-policy", "copy", "--dest-compress-format", "zstd", "oci:\(v1.path):v1", "oci:\(v1zstd.path):v1"])
        try Tool.must("skopeo", ["--insecure-policy", "copy", "oci:\(v1.path):v1", "oci-archive:\(ociArchive.path):v1"])
        try Tool.must("skopeo", ["--insecure-policy", "copy", "oci:\(v1.path):v1", "docker-archive:\(dockerArchive.path):cairn/test:v1"])
    }

    /// `umoci init/new/unpack`, `fill` the bundle's rootfs, `umoci repack` (gzip layers).
    static func umociImage(layout: URL, tag: String, scratch: URL, fill: (URL) throws -> Void) throws {
        if !FileManager.default.fileExists(atPath: layout.appendingPathComponent("oci-layout").path) {
            try Tool.must("umoci", ["init", "--layout", layout.path])
        }
        try Tool.must("umoci", ["new", "--image", "\(layout.path):\(tag)"])
        let bundle = scratch.appendingPathComponent("bundle-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: bundle) }
        try Tool.must("umoci", ["unpack", "--image", "\(layout.path):\(tag)", bundle.path])
        try fill(bundle.appendingPathComponent("rootfs"))
        try Tool.must("umoci", ["repack", "--image", "\(layout.path):\(tag)", bundle.path])
    }
}

/// A copy of a layout to damage, and edits that keep every other digest consistent (the
/// manifest, config and index are rewritten and re-hashed as needed).
struct LayoutCopy {
    let root: URL

    init(of source: URL, label: String) throws {
        let parent = try makeTemporaryDirectory("oci-\(label)")
        root = parent.appendingPathComponent("layout")
        try Tool.must("cp", ["-r", source.path, root.path])
    }

    /// A layout made for the test itself (nothing copied).
    init(existing root: URL) {
        self.root = root
    }

    func remove() { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }

    func blobURL(_ digest: String) -> URL {
        root.appendingPathComponent("blobs/sha256/" + digest.dropFirst("sha256:".count))
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        "sha256:" + TestSHA256.hex(bytes)  // hex(_:) hashes its input
    }

    func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    /// Writes a blob; returns its digest and size.
    @discardableResult
    func writeBlob(_ bytes: [UInt8]) throws -> (digest: String, size: Int) {
        let digest = Self.sha256(bytes)
        try Data(bytes).write(to: blobURL(digest))
        return (digest, bytes.count)
    }

    var manifestDigest: String {
        get throws {
            let index = try json(root.appendingPathComponent("index.json"))
            return (index["manifests"] as! [[String: Any]])[0]["digest"] as! String
        }
    }

    func manifest() throws -> [String: Any] { try json(blobURL(try manifestDigest)) }

    func layerDigest() throws -> String { ((try manifest()["layers"] as! [[String: Any]])[0]["digest"] as! String) }

    /// Rewrites the manifest through `edit` (and index.json to point at it).
    func editManifest(_ edit: (inout [String: Any]) throws -> Void) throws {
        var manifest = try manifest()
        try edit(&manifest)
        let bytes = [UInt8](try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]))
        let (digest, size) = try writeBlob(bytes)
        var index = try json(root.appendingPathComponent("index.json"))
        var manifests = index["manifests"] as! [[String: Any]]
        manifests[0]["digest"] = digest
        manifests[0]["size"] = size
        index["manifests"] = manifests
        try JSONSerialization.data(withJSONObject: index).write(to: root.appendingPathComponent("index.json"))
    }

    /// Rewrites the config through `edit` (and the manifest and index).
    func editConfig(_ edit: (inout [String: Any]) throws -> Void) throws {
        var manifest = try manifest()
        var configDescriptor = manifest["config"] as! [String: Any]
        var config = try json(blobURL(configDescriptor["digest"] as! String))
        try edit(&config)
        let (digest, size) = try writeBlob([UInt8](try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])))
        configDescriptor["digest"] = digest
        configDescriptor["size"] = size
        manifest["config"] = configDescriptor
        try editManifest { $0 = manifest }
    }

    /// Replaces the first layer by `bytes` (digest and size updated); with `diffID`, the
    /// config's first diff_id too.
    func replaceLayer(_ bytes: [UInt8], diffID: String? = nil) throws {
        if let diffID { try editConfig { config in
            var rootfs = config["rootfs"] as! [String: Any]
            rootfs["diff_ids"] = [diffID]
            config["rootfs"] = rootfs
        } }
        let (digest, size) = try writeBlob(bytes)
        try editManifest { manifest in
            var layers = manifest["layers"] as! [[String: Any]]
            layers[0]["digest"] = digest
            layers[0]["size"] = size
            manifest["layers"] = layers
        }
    }
}

/// Compresses with the system tools.
enum Compress {
    static func run(_ tool: String, _ arguments: [String], _ bytes: [UInt8]) throws -> [UInt8] {
        let directory = try makeTemporaryDirectory("compress")
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in"), output = directory.appendingPathComponent("out")
        try Data(bytes).write(to: input)
        try Tool.must(tool, arguments, stdin: input, stdout: output)
        return [UInt8](try Data(contentsOf: output))
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] { try run("gzip", ["-c", "-n"], bytes) }
    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] { try run("gzip", ["-dc"], bytes) }
    static func zstd(_ bytes: [UInt8]) throws -> [UInt8] { try run("zstd", ["-c", "-q"], bytes) }
}

/// `cairn store stat` of the store at `home`: its block and pin counts (zero if there is no store).
func storeCounts(home: URL) throws -> (blocks: Int, pins: Int) {
    let run = try CairnProcess.run(["store", "stat"], environment: ["CAIRN_HOME": home.path])
    guard run.status == 0 else { return (0, 0) }
    var values: [String: Int] = [:]
    for line in run.stdoutText.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 1)
        if parts.count == 2, let value = Int(parts[1].trimmingCharacters(in: .whitespaces)) { values[String(parts[0])] = value }
    }
    return (values["blocks"] ?? 0, values["pins"] ?? 0)
}
