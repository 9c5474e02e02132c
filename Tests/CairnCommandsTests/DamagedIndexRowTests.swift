import CairnTestSupport
import Foundation
import Testing

/// Issue 15 item 6: every row read from the index is untrusted. A damaged row is a one-line
/// error naming it (`corrupt index row …`), never a crash; random damage to `index.sqlite`
/// never kills a command with a signal.
@Suite("cairn with a damaged index", .serialized)
struct DamagedIndexRowTests {
    static let damages = [
        "UPDATE blocks SET length = -5",
        "UPDATE blocks SET length = 'abc'",
        "UPDATE blocks SET length = 9.5e18",
        "UPDATE blocks SET offset = -1",
        "UPDATE blocks SET pack = -7",
        "UPDATE blocks SET codec = 'x', version = 7",
    ]

    @Test(arguments: damages)
    func everyReaderAndGCFailCleanly(_ damage: String) throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let bytes = SplitMix64.bytes(seed: 61, count: 700_000)
        let root = try box.cairn(["add", "-Q", try box.write("f", bytes)]).stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try sqlite(box.store + "/index.sqlite", damage)
        let export = box.root + "/out.car"
        let commands: [[String]] = [
            ["cat", root], ["get", root, "-o", box.root + "/got"], ["block", "get", root], ["block", "stat", root],
            ["car", "export", root, "-o", export], ["gc"], ["store", "verify"],
        ]
        for command in commands {
            let result = try box.cairn(command)
            #expect(result.isCleanFailure, "\(command) after \(damage): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("corrupt index row") || command == ["gc"] || command == ["store", "verify"],
                    "\(command): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: export))
        #expect(try FileManager.default.contentsOfDirectory(atPath: box.root).allSatisfy { !$0.hasPrefix("out.car") })
    }

    @Test func damagedPinRowsFailCleanly() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        _ = try box.cairn(["add", "-Q", try box.write("f", SplitMix64.bytes(seed: 62, count: 10_000))])
        for damage in ["UPDATE pins SET recursive = 'yes'", "UPDATE pins SET cid = x'00'", "UPDATE pins SET name = 5"] {
            try sqlite(box.store + "/index.sqlite", damage)
            for command in [["pin", "ls"], ["gc"]] {
                let result = try box.cairn(command)
                #expect(result.status == 0 || result.isCleanFailure, "\(command) after \(damage): \(result.status) \(result.stderr)")
            }
        }
    }

    /// Random byte flips of `index.sqlite` (seeded; the seed is in the failure message).
    @Test func randomIndexDamageNeverCrashes() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        var roots: [String] = []
        for i in 0..<4 {
            let file = try box.write("f\(i)", SplitMix64.bytes(seed: UInt64(70 + i), count: 300_000))
            roots.append(try box.cairn(["add", "-Q", "--chunker", "size-8192", file]).stdoutText
                .trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let pristine = try Data(contentsOf: URL(fileURLWithPath: box.store + "/index.sqlite"))
        let seed: UInt64 = 1515
        var rng = SplitMix64(seed: seed)
        for round in 0..<30 {
            var damaged = pristine
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                damaged[Int(rng.next() % UInt64(damaged.count))] ^= UInt8(1 + rng.next() % 255)
            }
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: box.store + "/index.sqlite" + suffix) }
            try damaged.write(to: URL(fileURLWithPath: box.store + "/index.sqlite"))
            for command in [["cat", roots[round % 4]], ["pin", "ls"], ["store", "verify"], ["block", "stat", roots[0]], ["gc"]] {
                let result = try box.cairn(command)
                #expect(result.status == 0 || result.isCleanFailure,
                        "seed \(seed) round \(round) \(command): \(result.status) \(result.stderr)")
            }
        }
    }
}
