import ArgumentParser
import CairnCommands
import CairnTestSupport
import Chunking
import Testing

@Suite struct ChunkCommandTests {
    static func render(_ input: [UInt8], _ arguments: [String]) throws -> String {
        let command = try ChunkCommand.parse(arguments + ["-"])
        var source = BufferSource(input)
        var sink = MemorySink()
        try ChunkCommand.render(
            spec: try ChunkerSpec(parsing: command.chunker), source: &source, stats: command.stats, json: command.json,
            into: &sink)
        return sink.text
    }

    @Test func listMatchesTheVectorFiles() throws {
        for (input, spec) in [("sm1_1048577", "rabin-16384-65536-131072"), ("sm2_5242880", "buzhash"),
                              ("sm1_262145", "size-1000"), ("sm2_1048576", "fastcdc-16384-65536-262144-2"),
                              ("sm1_0", "rabin")] {
            let bytes = try #require(Vectors.input(named: input))
            let text = try Self.render(bytes, ["--chunker", spec])
            #expect(text == (try Vectors.text("chunks/\(input).\(spec).txt")), "\(input) \(spec)")
        }
    }

    /// A regular file's path: cut in place (memory map) by the parallel chunker, same list.
    @Test(arguments: [1, 2, 3])
    func mappedFileWithThreads(threads: Int) throws {
        for (input, spec) in [("sm2_5242880", "buzhash"), ("sm1_1048577", "rabin-16384-65536-131072"), ("sm1_0", "rabin")] {
            let bytes = try #require(Vectors.input(named: input))
            var sink = MemorySink()
            try bytes.withUnsafeBytes { region in
                try ChunkCommand.render(spec: try ChunkerSpec(parsing: spec), region: region, threads: threads,
                                        stats: false, json: false, into: &sink)
            }
            #expect(sink.text == (try Vectors.text("chunks/\(input).\(spec).txt")), "\(input) \(spec) \(threads) threads")
        }
        #expect(throws: (any Error).self) { try ChunkCommand.parse(["--threads", "0", "/dev/null"]) }
    }

    @Test func defaultChunkerIsKubos() throws {
        let bytes = try #require(Vectors.input(named: "sm1_262145"))
        #expect(try Self.render(bytes, []) == (try Vectors.text("chunks/sm1_262145.size-262144.txt")))
    }

    @Test func statsAgreeWithTheList() throws {
        let bytes = try #require(Vectors.input(named: "sm2_5242880"))
        let list = try Vectors.text("chunks/sm2_5242880.rabin.txt")
        let lengths = list.split(separator: "\n").map { Int($0.split(separator: " ")[1])! }
        let mean = Double(lengths.reduce(0, +)) / Double(lengths.count)
        let variance = lengths.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / Double(lengths.count)

        let text = try Self.render(bytes, ["--chunker", "rabin", "--stats"])
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            fields[String(parts[0])] = String(parts[1])
        }
        #expect(fields["count"] == "\(lengths.count)")
        #expect(fields["min"] == "\(lengths.min()!)")
        #expect(fields["max"] == "\(lengths.max()!)")
        #expect(fields["bytes"] == "\(bytes.count)")
        #expect(abs(Double(fields["mean"]!)! - mean) < 0.01)
        #expect(abs(Double(fields["stddev"]!)! - variance.squareRoot()) < 0.01)
    }

    @Test func jsonOutput() throws {
        let bytes = try #require(Vectors.input(named: "sm1_4095"))
        let text = try Self.render(bytes, ["--chunker", "size-1000", "--json"])
        #expect(text.hasPrefix("{\"chunker\":\"size-1000\",\"chunks\":["))
        #expect(text.contains("{\"offset\":4000,\"length\":95}"))
        #expect(text.hasSuffix("\n]}\n"))
        #expect(try Self.render([], ["--json"]) == "{\"chunker\":\"size-262144\",\"chunks\":[]}\n")
        let stats = try Self.render(bytes, ["--chunker", "size-1000", "--json", "--stats"])
        #expect(stats.contains("\"count\":5"))
        #expect(stats.contains("\"min\":95"))
    }

    @Test func badSpecExitsWithValidationFailure() throws {
        for spec in ["size-0", "rabin-9-8-7", "buzhash-3", "fastcdc-1-2", "size-x"] {
            let command = try ChunkCommand.parse(["--chunker", spec, "/dev/null"])
            #expect(throws: ExitCode.validationFailure) { try command.run() }
        }
    }

    @Test func missingFileFails() throws {
        let command = try ChunkCommand.parse(["/nonexistent/cairn-chunk-input"])
        #expect(throws: ExitCode.failure) { try command.run() }
    }

    @Test func isASubcommandOfCairn() throws {
        let command = try Cairn.parseAsRoot(["chunk", "--chunker", "buzhash", "-"])
        #expect(command is ChunkCommand)
    }

    /// `cairn chunk`'s quick argument reading answers as ArgumentParser does wherever it answers,
    /// and leaves everything else (help, errors, unusual forms) to ArgumentParser.
    @Test func quickArgumentsAgreeWithArgumentParser() throws {
        let answered: [[String]] = [
            ["f"], ["-"], [""], ["help.txt"],
            ["--chunker", "fastcdc-65536-262144-1048576", "f"], ["-c", "buzhash", "f"], ["--chunker=rabin", "f"],
            ["--threads", "2", "f"], ["--threads=16", "f"], ["--threads", "007", "f"],
            ["--stats", "--json", "--parallel-stats", "f"], ["f", "--stats"], ["f", "-c", "size-1000", "--threads", "1"],
            ["--chunker", "help", "f"], ["--chunker", "not-a-spec", "f"], ["--json", "-"], ["a=b"],
        ]
        for words in answered {
            let quick = try #require(ChunkCommand.quickArguments(words), "\(words)")
            let parsed = try #require(try Cairn.parseAsRoot(["chunk"] + words) as? ChunkCommand, "\(words)")
            #expect(quick == parsed.arguments, "\(words)")
        }
        let declined: [[String]] = [
            [], ["-h"], ["--help"], ["help"], ["--version"], ["--", "f"], ["-x"], ["--unknown", "f"], ["f", "g"],
            ["--threads", "0", "f"], ["--threads", "-1", "f"], ["--threads", "+2", "f"], ["--threads", "x", "f"],
            ["--threads", "f"], ["--threads=", "f"], ["--chunker", "f"], ["--chunker", "-", "f"], ["--chunker"],
            ["-c", "rabin", "--chunker", "buzhash", "f"], ["--stats", "--stats", "f"], ["--stats=true", "f"],
            ["-cbuzhash", "f"], ["-c=buzhash", "f"], ["-sf"], ["--json", "--", "-"], ["-file"],
        ]
        for words in declined {
            #expect(ChunkCommand.quickArguments(words) == nil, "\(words)")
        }
    }
}
