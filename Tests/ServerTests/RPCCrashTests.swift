import Testing
import Foundation
import CairnTestSupport

/// Crash safety (spec/serve.md §3): the server SIGKILLed at random moments during `block/put`
/// and `dag/import` uploads; after each kill the store verifies and every block whose
/// `block/put` was acknowledged is readable, and every acknowledged `dag/import` root is
/// complete and pinned.
@Suite(.serialized) struct RPCCrashTests {
    @Test func killedDuringUploads() throws {
        let work = try serveDirectory("crash")
        defer { try? FileManager.default.removeItem(at: work) }
        let store = work.appendingPathComponent("store").path
        var generator = SplitMix64(seed: 0x5EED)
        // A CAR of a 6 MiB file (Kubo's defaults), re-imported again and again.
        let file = work.appendingPathComponent("big.bin")
        try Data(SplitMix64.bytes(seed: 77, count: 6 << 20)).write(to: file)
        let car = work.appendingPathComponent("big.car")
        try #require(try CairnProcess.run(["add", "--car", car.path, file.path]).status == 0)
        var acknowledged: [String] = []
        var importedRoots: [String] = []
        for round in 0..<6 {
            let server = try ServeProcess(store: store)
            let url = server.url
            let blocks = (0..<40).map { index -> URL in
                let path = work.appendingPathComponent("block-\(round)-\(index)")
                try? Data(SplitMix64.bytes(seed: UInt64(round * 1000 + index), count: 64 << 10)).write(to: path)
                return path
            }
            let roundAcks = Collected(), roundRoots = Collected()
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) {
                for block in blocks {
                    guard let answer = try? curl(["-X", "POST", "-H", "Expect:", "-F", "file=@\(block.path)", "\(url)/api/v0/block/put"]),
                          answer.status == 200, let key = jsonLines(answer.text).first?["Key"] as? String else { return }
                    roundAcks.append(key)
                }
            }
            DispatchQueue.global().async(group: group) {
                for _ in 0..<4 {
                    guard let answer = try? curl(["-X", "POST", "-H", "Expect:", "-F", "file=@\(car.path)", "\(url)/api/v0/dag/import"]),
                          answer.status == 200,
                          let root = ((jsonLines(answer.text).first?["Root"] as? [String: Any])?["Cid"] as? [String: Any])?["/"] as? String
                    else { return }
                    roundRoots.append(root)
                }
            }
            Thread.sleep(forTimeInterval: Double(Int.random(in: 50...600, using: &generator)) / 1000)
            #expect(server.stop(signal: SIGKILL) == SIGKILL)
            group.wait()
            acknowledged += roundAcks.values
            importedRoots += roundRoots.values

            let verify = try CairnProcess.run(["store", "verify", "--store", store])
            #expect(verify.status == 0, "round \(round): \(verify.stdoutText) \(verify.stderr)")
            for key in acknowledged {
                #expect(try CairnProcess.run(["block", "stat", key, "--store", store]).status == 0, "round \(round): \(key) lost")
            }
            for root in Set(importedRoots) {
                let cat = try CairnProcess.run(["cat", root, "--store", store])
                #expect(cat.status == 0 && cat.stdout.count == 6 << 20, "round \(round): \(root) incomplete")
            }
        }
        // The kills came while uploads were being acknowledged, not before the first one.
        #expect(!acknowledged.isEmpty)
    }
}

/// Strings collected from several threads.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var values: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
