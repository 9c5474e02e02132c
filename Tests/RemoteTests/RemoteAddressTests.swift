import Testing
import Remote

/// The address forms of issue 11 ("ADDRESS") and spec/remote.md §1.
@Suite struct RemoteAddressTests {
    @Test(arguments: [
        ("http://127.0.0.1:5001", RemoteAddress.Kind.kubo, "http://127.0.0.1:5001"),
        ("http://127.0.0.1:5001/", .kubo, "http://127.0.0.1:5001"),
        ("https://node.example:443", .kubo, "https://node.example:443"),
        ("/ip4/127.0.0.1/tcp/5001", .kubo, "http://127.0.0.1:5001"),
        ("/ip6/::1/tcp/5001", .kubo, "http://[::1]:5001"),
        ("/dns/localhost/tcp/5001/http", .kubo, "http://localhost:5001"),
        ("cluster+http://127.0.0.1:9094", .cluster, "http://127.0.0.1:9094"),
        ("gateway+https://gw.example", .gateway, "https://gw.example"),
        // A path prefix (a node behind a reverse proxy) is kept; requests append to it.
        ("http://127.0.0.1:8080/kubo/", .kubo, "http://127.0.0.1:8080/kubo"),
    ])
    func parses(text: String, kind: RemoteAddress.Kind, base: String) throws {
        let address = try RemoteAddress(parsing: text)
        #expect(address.kind == kind)
        #expect(address.baseURL == base)
    }

    @Test(arguments: ["", "127.0.0.1:5001", "ftp://x", "/ip4/127.0.0.1/udp/5001", "/ip4/127.0.0.1/tcp/99999",
                      "http://", "http://user:pw@host:5001", "cluster+ftp://x",
                      "http://127.0.0.1:5001?offline=true", "http://127.0.0.1:5001/#x", "gateway+http://gw.example/?a=1"])
    func refuses(text: String) {
        let error = #expect(throws: RemoteError.self) { try RemoteAddress(parsing: text) }
        #expect(error?.code == .usage)
        if text.contains("@") {
            // USER:PASSWORD@ is never repeated (spec/remote.md §1.3).
            #expect(error?.message.contains("'http://…@host:5001'") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("pw") == false)
        } else {
            #expect(error?.message.contains("'\(text)'") == true)
        }
    }
}
