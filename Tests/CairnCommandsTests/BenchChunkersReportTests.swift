import CairnTestSupport
import Foundation
import Testing

/// The `--html` report rendered by a real browser (headless Chromium): the page loads with no
/// console error, its DOM holds every chart with a mark for every chunker, and the marks'
/// figures are those of `--json`. The screenshot is kept under `.build/test-artifacts/`.
@Suite final class BenchChunkersReportTests {
    let directory: URL

    init() throws {
        directory = try makeTemporaryDirectory("bench-report")
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// `.build/test-artifacts` of this checkout.
    static var artifacts: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/test-artifacts")
    }

    /// Runs Chromium headless with `arguments`; returns stdout and stderr.
    static func browser(_ arguments: [String]) throws -> (stdout: String, stderr: String) {
        let chromium = try #require(chromium, "the Debian package chromium is needed (make apt)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                             "--enable-logging=stderr", "--v=0", "--user-data-dir=\(NSTemporaryDirectory())cairn-chromium-\(getpid())"] + arguments
        let out = Pipe(), errors = Pipe()
        process.standardOutput = out
        process.standardError = errors
        try process.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box(), done = DispatchSemaphore(value: 0)
        Thread { box.data = errors.fileHandleForReading.readDataToEndOfFile(); done.signal() }.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return (String(decoding: stdout, as: UTF8.self), String(decoding: box.data, as: UTF8.self))
    }

    @Test func reportRendersInChromiumWithTheJSONFigures() throws {
        let original = SplitMix64.bytes(seed: 21, count: 6 << 20)
        var edited = original
        edited.replaceSubrange(3_000_000..<3_000_010, with: [UInt8](repeating: 1, count: 300))
        let v1 = directory.appendingPathComponent("v1"), v2 = directory.appendingPathComponent("v2")
        try Data(original).write(to: v1)
        try Data(edited).write(to: v2)
        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        let page = Self.artifacts.appendingPathComponent("bench-chunkers.html")
        let run = try CairnProcess.run(["bench", "chunkers", "--versions", "--json", "--sweep", "fastcdc:avg=16K..256K",
                                        "--sweep", "normalization=0..3", "--html", page.path, v1.path, v2.path])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try run.stdoutText.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let chunkers = rows.compactMap { $0["chunker"] as? String }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        #expect(chunkers.count == 6 + 3 + 3, "defaults, 3 more averages (64K and 256K are defaults), 3 more levels (1 is the default)")

        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(!html.contains("<script") && !html.contains("http://") && !html.contains("https://") && !html.contains("@import"),
                "self-contained: no script, no network reference")

        let png = Self.artifacts.appendingPathComponent("bench-chunkers.png")
        try? FileManager.default.removeItem(at: png)
        let shot = try Self.browser(["--screenshot=\(png.path)", "--window-size=1100,4200", page.absoluteString])
        #expect(FileManager.default.fileExists(atPath: png.path), "\(shot.stderr)")
        let dom = try Self.browser(["--dump-dom", page.absoluteString])
        for output in [shot.stderr, dom.stderr] {
            let consoleLines = output.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
            #expect(consoleLines.isEmpty, "\(consoleLines)")
        }
        let text = dom.stdout
        for id in ["id=\"histograms\"", "id=\"scatter-chart\"", "id=\"uploads-chart\"", "id=\"sweep-avg\"", "id=\"sweep-normalization\"", "id=\"pick\""] {
            #expect(text.contains(id), "\(id)")
        }
        for chunker in chunkers {
            let mine = rows.filter { $0["chunker"] as? String == chunker }
            let bytes = mine.map { ($0["bytes"] as! NSNumber).intValue }.reduce(0, +)
            let upload = mine.map { ($0["new_bytes"] as! NSNumber).intValue }.reduce(0, +)
            let chunks = mine.map { ($0["chunks"] as! NSNumber).intValue }.reduce(0, +)
            // The histogram: the chunker's chart, counting every chunk of every input.
            #expect(text.contains("class=\"chart histogram\" viewBox=\"0 0 320 190\" role=\"img\" data-chunker=\"\(chunker)\" data-chunks=\"\(chunks)\""), "\(chunker) histogram")
            // The scatter point: upload and content bytes summed from the JSON.
            #expect(text.contains("data-bytes=\"\(bytes)\" data-chunker=\"\(chunker)\" data-mbps="), "\(chunker) scatter")
            #expect(text.contains("data-upload=\"\(upload)\""), "\(chunker) upload")
            // The grouped bars: one per version, the new bytes of that row.
            for row in mine {
                #expect(text.contains("data-bytes=\"\((row["new_bytes"] as! NSNumber).intValue)\" data-chunker=\"\(chunker)\" data-input=\"\(row["input"]!)\""),
                        "\(chunker) bar for \(row["input"]!)")
            }
        }
        // Every sweep point is drawn on its line.
        for value in [16384, 32768, 65536, 131072, 262144] {
            #expect(text.contains("data-chunker=\"fastcdc-\(value / 4)-\(value)-\(value * 4)-1\" data-saving="), "avg \(value)")
        }
        for level in 0...3 {
            #expect(text.contains("data-chunker=\"fastcdc-65536-262144-1048576-\(level)\" data-saving="), "level \(level)")
        }
        #expect(text.contains("saves") || text.contains("keep it"), "the what-to-pick sentence")
    }
}
