import BlockStore
import Foundation
import Multiformats
import Server
import Testing
import CairnTestSupport

/// IPNS records (spec/gateway.md §5): validation against the name (ipfs/specs `ipns/IPNS.md`),
/// crash-safe storage, `cairn ipns import`, and the gateway's record answers
/// (ipfs/gateway-conformance `tests/trustless_gateway_ipns_test.go`).
@Suite struct IPNSTests {
    /// The conformance fixtures: a V2-only record and one with both V1 and V2 signatures, each
    /// named by the file (before the first `_`); both point at identity CIDs of their own text.
    static let v2Name = "k51qzi5uqu5dit2ku9mutlfgwyz8u730on38kd10m97m36bjt66my99hb6103f"
    static let v1v2Name = "k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w"
    static let v2Value = "/ipfs/bafkqadtwgiww63tmpeqhezldn5zgi"  // "v2-only record"
    static let v1v2Value = "/ipfs/bafkqaddwgevxmmraojswg33smq"  // "v1+v2 record"

    static func recordFile(_ name: String, _ variant: String) -> String { GatewayFixtures.path("\(name)_\(variant).ipns-record") }
    static func record(_ name: String, _ variant: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: recordFile(name, variant))))
    }

    @Test func fixtureRecordsVerify() throws {
        let v2 = try IPNSRecord(validating: try Self.record(Self.v2Name, "v2"), for: try IPNSName(Self.v2Name))
        #expect(v2.value == Self.v2Value)
        #expect(v2.ttl == 1_800_000_000_000)  // 0x1a3185c5000 in the record's CBOR data
        let both = try IPNSRecord(validating: try Self.record(Self.v1v2Name, "v1-v2"), for: try IPNSName(Self.v1v2Name))
        #expect(both.value == Self.v1v2Value)
    }

    @Test func refusals() throws {
        let good = try Self.record(Self.v2Name, "v2")
        // the other name's key did not sign it
        #expect(throws: IPNSError.self) { try IPNSRecord(validating: good, for: try IPNSName(Self.v1v2Name)) }
        // one signature byte changed (field 8's payload starts at byte 2)
        var tampered = good
        tampered[10] ^= 0x01
        let bad = #expect(throws: IPNSError.self) { try IPNSRecord(validating: tampered, for: try IPNSName(Self.v2Name)) }
        #expect(bad?.message.contains("signature does not verify") == true)
        // expired: its validity ends in 2123-08-14
        let later = Date(timeIntervalSince1970: 4_900_000_000)  // 2125
        let expired = #expect(throws: IPNSError.self) { try IPNSRecord(validating: good, for: try IPNSName(Self.v2Name), now: later) }
        #expect(expired?.message.contains("expired") == true)
        // V1 only: the V1+V2 record without its fields 8 (signatureV2) and 9 (data)
        let v1Only = try Self.strip([8, 9], from: try Self.record(Self.v1v2Name, "v1-v2"))
        let refused = #expect(throws: IPNSError.self) { try IPNSRecord(validating: v1Only, for: try IPNSName(Self.v1v2Name)) }
        #expect(refused?.message.contains("V1") == true)
        // not a libp2p-key name
        #expect(throws: IPNSError.self) { try IPNSName(GatewayConformanceTests.hello) }
    }

    /// Drops length-delimited top-level fields (the fixtures' fields are all length-delimited or
    /// one-byte varints).
    static func strip(_ drop: Set<UInt8>, from bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = [], i = 0
        while i < bytes.count {
            let key = bytes[i], field = key >> 3, start = i
            i += 1
            if key & 7 == 2 {
                let (length, size) = try Varint.decode(bytes[i...])
                i += size + Int(length)
            } else {
                while bytes[i] & 0x80 != 0 { i += 1 }
                i += 1
            }
            if !drop.contains(field) { out += bytes[start..<i] }
        }
        return out
    }

    /// An RSA-2048 name and record made with the `openssl` command (key, DER public key,
    /// PKCS#1 v1.5 SHA-256 signature, and the SHA-256 of the libp2p key for the name).
    @Test func rsaRecordSignedByOpenSSL() throws {
        let directory = try makeTemporaryDirectory("ipns-rsa")
        defer { try? FileManager.default.removeItem(at: directory) }
        func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "openssl \(arguments)")
        }
        func file(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: directory.appendingPathComponent(name))) }
        try openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "key.pem"])
        try openssl(["pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der"])
        let der = try file("pub.der")
        let libp2pKey: [UInt8] = [0x08, 0x00, 0x12] + Varint.encode(UInt64(der.count)) + der
        try Data(libp2pKey).write(to: directory.appendingPathComponent("libp2p.key"))
        try openssl(["dgst", "-sha256", "-binary", "-out", "key.sha256", "libp2p.key"])
        let name = try IPNSName(try CID.v1(codec: .libp2pKey, multihash: Multihash(code: .sha2_256, digest: try file("key.sha256"))).string(base: .base36))
        // CBOR data, keys in dag-cbor order (length first, then bytes)
        let value = Array("/ipfs/bafkqaaa".utf8), validity = Array("2099-01-01T00:00:00Z".utf8)
        func text(_ s: String) -> [UInt8] { [0x60 | UInt8(s.utf8.count)] + Array(s.utf8) }
        func bytes(_ b: [UInt8]) -> [UInt8] { (b.count < 24 ? [0x40 | UInt8(b.count)] : [0x58, UInt8(b.count)]) + b }
        let data: [UInt8] = [0xa5] + text("TTL") + [0x00] + text("Value") + bytes(value) + text("Sequence") + [0x07]
            + text("Validity") + bytes(validity) + text("ValidityType") + [0x00]
        try Data(Array("ipns-signature:".utf8) + data).write(to: directory.appendingPathComponent("message"))
        try openssl(["dgst", "-sha256", "-sign", "key.pem", "-out", "signature", "message"])
        let signature = try file("signature")
        func field(_ number: UInt8, _ payload: [UInt8]) -> [UInt8] { [number << 3 | 2] + Varint.encode(UInt64(payload.count)) + payload }
        let record = field(7, libp2pKey) + field(8, signature) + field(9, data)
        let parsed = try IPNSRecord(validating: record, for: name)
        #expect(parsed.value == "/ipfs/bafkqaaa")
        #expect(parsed.sequence == 7)
        var forged = record
        forged[forged.count - 1] ^= 0x01  // the data's last byte (ValidityType 0 → 1) after signing
        #expect(throws: IPNSError.self) { try IPNSRecord(validating: forged, for: name) }
        // without the key the name only hashes, it cannot be checked
        #expect(throws: IPNSError.self) { try IPNSRecord(validating: field(8, signature) + field(9, data), for: name) }
    }

    @Test func gatewayServesStoredRecords() async throws {
        try await withGateway(cars: []) { gateway, store in
            let records = IPNSRecordStore(layout: store.layout)
            for (name, variant) in [(Self.v2Name, "v2"), (Self.v1v2Name, "v1-v2")] {
                let ipnsName = try IPNSName(name)
                try records.put(try IPNSRecord(validating: try Self.record(name, variant), for: ipnsName), for: ipnsName)
            }
            let expected = try Self.record(Self.v2Name, "v2")
            for (query, headers) in [("?format=ipns-record", [(String, String)]()), ("", [("Accept", "application/vnd.ipfs.ipns-record")])] {
                let answer = try await gatewayGet(gateway, "/ipns/\(Self.v2Name)\(query)", headers: headers)
                #expect(answer.status == 200)
                #expect(answer.header("Content-Disposition")?.contains("attachment;") == true)
                #expect(answer.header("Content-Type")?.contains("application/vnd.ipfs.ipns-record") == true)
                #expect(answer.header("Cache-Control") == "public, max-age=1800")  // the record's TTL
                #expect(answer.body == expected)
                #expect(try IPNSRecord(validating: answer.body, for: try IPNSName(Self.v2Name)).value == Self.v2Value)
            }
            let named = try await gatewayGet(gateway, "/ipns/\(Self.v2Name)?format=ipns-record&filename=test%D1%82%D0%B5%D1%81%D1%82.ipns-record")
            #expect(named.header("Content-Disposition")?.contains(
                "attachment; filename=\"test____.ipns-record\"; filename*=UTF-8''test%D1%82%D0%B5%D1%81%D1%82.ipns-record") == true)
            // "GET an IPNS path from the gateway": the file the record points to
            #expect(try await gatewayGet(gateway, "/ipns/\(Self.v2Name)").body == Array("v2-only record".utf8))
            // what the record points to, as a raw block
            let content = try await gatewayGet(gateway, "/ipns/\(Self.v1v2Name)?format=raw")
            #expect(content.status == 200)
            #expect(content.body == Array("v1+v2 record".utf8))
            #expect(try await gatewayGet(gateway, "/ipns/k51qzi5uqu5dh71qgwangrt6r0nd4094i88nsady6qgd1dhjcyfsaqmpp143ab?format=ipns-record").status == 404)
            #expect(try await gatewayGet(gateway, "/ipns/not-a-name?format=ipns-record").status == 400)
        }
    }

    @Test func importCommand() throws {
        let directory = try makeTemporaryDirectory("ipns-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["CAIRN_HOME": directory.path + "/store"]
        let stored = directory.appendingPathComponent("store/ipns/\(Self.v2Name).ipns-record")
        // wrong name: refused, one line, nothing stored
        let refused = try CairnProcess.run(["ipns", "import", Self.v1v2Name, Self.recordFile(Self.v2Name, "v2")], environment: environment)
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("Error: ") && refused.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("store/ipns/\(Self.v1v2Name).ipns-record").path))
        let imported = try CairnProcess.run(["ipns", "import", Self.v2Name, Self.recordFile(Self.v2Name, "v2")], environment: environment)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdoutText.contains(Self.v2Value))
        #expect(try Data(contentsOf: stored) == Data(try Self.record(Self.v2Name, "v2")))
        let usage = try CairnProcess.run(["ipns", "import", Self.v2Name], environment: environment)
        #expect(usage.status == 64)
    }
}
