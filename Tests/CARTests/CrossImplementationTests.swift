@testable import CAR
import CairnTestSupport
import Foundation
import Hashing
import Multiformats
import Testing
import UnixFS
import Blocks

/// CARs exchanged with PyPI implementations: `ipfs-car-decoder` reads and verifies what Cairn
/// writes; `aleph-cid` writes CARs Cairn verifies. Python comes from the project's `.venv`
/// (`make venv`, PIP_PACKAGES). Without it the tests record an issue rather than pass: the tests
/// never install anything themselves (nothing may reach the network).
@Suite(.serialized) struct CrossImplementationTests {
    /// The venv's python when it has both packages, else why not.
    static let python: Result<String, Unavailable> = {
        let python = VenvPython.python.path
        guard VenvPython.isAvailable else {
            return .failure(Unavailable(reason: "no \(python): run `make venv` (PIP_PACKAGES has ipfs-car-decoder and aleph-cid)"))
        }
        let probe = run([python, "-c", "import ipfs_car_decoder, aleph_cid"])
        guard probe.status == 0 else {
            return .failure(Unavailable(reason: "\(python) lacks ipfs-car-decoder or aleph-cid (run `make venv`): \(probe.output.suffix(300))"))
        }
        return .success(python)
    }()

    struct Unavailable: Error { var reason: String }

    /// The python to use, or nil after recording why the test could not run.
    static func requirePython() -> String? {
        switch python {
        case .success(let path): return path
        case .failure(let unavailable):
            Issue.record("CAR cross-implementation test could not run: \(unavailable.reason)")
            return nil
        }
    }

    static func run(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static var script: String { Vectors.fixtures.appendingPathComponent("car/check_car.py").path }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        HashAlgorithm.sha2_256.hash(bytes).hex
    }

    static let cases: [(cidVersion: Int, format: CARFormat)] = [(0, .v1), (1, .v1), (0, .v2(index: .multihashSorted)), (1, .v2(index: .sorted))]

    @Test(arguments: 0..<4)
    func ipfsCarDecoderReadsCairnCARs(caseIndex: Int) throws {
        guard let python = Self.requirePython() else { return }
        let (cidVersion, format) = Self.cases[caseIndex]
        let dir = try makeTemporaryDirectory("car-py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = SplitMix64.bytes(seed: 31, count: 1_100_000)
        var options = ImportOptions()
        options.cidVersion = cidVersion
        let (root, car) = try CARTestSupport.carFromImport(data, try options.resolve(), format: format)
        let path = dir.appendingPathComponent("cairn.car").path
        try Data(car).write(to: URL(fileURLWithPath: path))
        let good = Self.run([python, Self.script, "decode", path, root.description])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.trimmingCharacters(in: .whitespacesAndNewlines) == "\(data.count) \(Self.sha256Hex(data))")
        // The decoder does check: a flipped byte in the last leaf makes it fail.
        var bad = car
        let (_, blocks) = try CARTestSupport.readAll(car)
        let leafEnd = Int(blocks[blocks.count - 2].2) + 40 + blocks[blocks.count - 2].1.count
        bad[min(leafEnd, car.count) - 5] ^= 1
        try Data(bad).write(to: URL(fileURLWithPath: path))
        #expect(Self.run([python, Self.script, "decode", path, root.description]).status != 0)
    }

    @Test func cairnVerifiesAlephCidCARs() throws {
        guard let python = Self.requirePython() else { return }
        let dir = try makeTemporaryDirectory("car-aleph")
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let big = SplitMix64.bytes(seed: 41, count: 1_000_000)
        try Data(big).write(to: folder.appendingPathComponent("big.bin"))
        try Data("hello world\n".utf8).write(to: folder.appendingPathComponent("sub/hello.txt"))
        let carPath = dir.appendingPathComponent("aleph.car").path
        let packed = Self.run([python, Self.script, "pack", folder.path, carPath])
        #expect(packed.status == 0, "\(packed.output)")
        let root = try CID(packed.output.trimmingCharacters(in: .whitespacesAndNewlines))
        var options = CARVerifyOptions()
        options.checkComplete = true
        var present = Set<CID>()
        let summary = try CARVerifier.verify(path: carPath, options: options) { present.insert($0.cid) }
        #expect(summary.header.roots == [root])
        #expect(summary.complete)
        // aleph-cid packs with Kubo's CIDv1 defaults: Cairn's CID of big.bin must be in there.
        var importOptions = ImportOptions()
        importOptions.cidVersion = 1
        let (fileRoot, _) = try CARTestSupport.importBlocks(big, try importOptions.resolve())
        #expect(present.contains(fileRoot))
        // And tampering is caught.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: carPath)))
        bytes[bytes.count / 2] ^= 0x10
        let error = CARTestSupport.verifyError(bytes, options)
        #expect(error != nil)
    }
}
