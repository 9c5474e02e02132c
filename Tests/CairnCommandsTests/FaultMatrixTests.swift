import CairnTestSupport
import Foundation
import Testing

/// Issue 15, "Systemic": every command that writes, run with the Nth `open`, `write`,
/// `fsync`/`fdatasync` or `rename` failing (`CAIRN_FAULT`, spec/system.md §5), must fail
/// cleanly: exit 1 and one `Error:` line naming the call, a store that still verifies with
/// everything acknowledged still readable, no partial output, and a rerun that succeeds. An
/// injected `EINTR` on every kind must change nothing.
///
/// A first run without a fault counts the calls (`CAIRN_FAULT_COUNT=1`); the calls to fail are
/// then chosen with SplitMix64 (seed in every message; replay with `CAIRN_FAULT_SEED`): every N
/// when a kind has few calls, else the first, the last and one per stretch between. `make
/// faults` (`CAIRN_FAULT_MATRIX=full`) fails every N with both ENOSPC and EIO.
@Suite("fault matrix: every command that writes")
struct FaultMatrixTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["CAIRN_FAULT_SEED"].flatMap { UInt64($0) } ?? 20_261_215
    static let full = ProcessInfo.processInfo.environment["CAIRN_FAULT_MATRIX"] == "full"
    /// Calls failed per kind in the default run.
    static let callsPerKind = 8
    static let timeout = 60.0
    static let kinds = ["open", "write", "fsync", "fdatasync", "rename"] + sqliteKinds
    /// SQLite's own I/O on the index, through the `cairn-fault` VFS (spec/blockstore.md §5).
    static let sqliteKinds = ["sqlite-open", "sqlite-write", "sqlite-truncate", "sqlite-sync"]
    /// Calls failed per SQLite kind in the default run (they are many and alike: a commit's
    /// WAL frames and sync; the full matrix fails every one).
    static let sqliteCallsPerKind = 3

    @Test(arguments: FaultScenario.all)
    func commandFailsCleanly(scenario: FaultScenario) throws {
        let work = try makeTemporaryDirectory("faults")
        defer { try? FileManager.default.removeItem(at: work) }
        let template = work.appendingPathComponent("template").path
        let setup = FaultSetup(root: template)
        try setup.writeInputs()
        let prepared = try scenario.setup(setup)
        var matrix = FaultMatrix(scenario: scenario, prepared: prepared, template: template, work: work.path,
                                 seed: Self.seed &+ UInt64(FaultScenario.all.firstIndex { $0.name == scenario.name }!))
        let clean = try matrix.cleanRun()
        var rng = SplitMix64(seed: matrix.seed)
        for kind in Self.kinds {
            let perKind = kind.hasPrefix("sqlite-") ? Self.sqliteCallsPerKind : Self.callsPerKind
            for call in Self.choose(count: clean.counts[kind] ?? 0, perKind: perKind, rng: &rng) {
                let codes = Self.full ? ["ENOSPC", "EIO"] : [rng.next() % 2 == 0 ? "ENOSPC" : "EIO"]
                for code in codes { try matrix.fault(kind, call, code, clean: clean) }
            }
        }
        try matrix.interrupted(clean: clean, rng: &rng)
        print("fault matrix: \(scenario.name): \(matrix.runs) runs, \(matrix.failedRuns) failing, \(matrix.absorbedRuns) absorbed by SQLite, seed \(matrix.seed), calls \(clean.counts.sorted { $0.key < $1.key })")
    }

    /// Which calls of a kind made `count` times to fail: all of them, or the first, the last
    /// and one drawn from each stretch between.
    static func choose(count: Int, perKind: Int = callsPerKind, rng: inout SplitMix64) -> [Int] {
        if count == 0 { return [] }
        if full || count <= perKind { return Array(1...count) }
        var calls = [1]
        let inner = perKind - 2
        for stretch in 0..<inner {
            let low = 2 + (count - 2) * stretch / inner, high = 1 + (count - 2) * (stretch + 1) / inner
            calls.append(low + Int(rng.next() % UInt64(max(1, high - low + 1))))
        }
        return calls + [count]
    }
}

/// The runs of one scenario, each in its own copy of the template.
struct FaultMatrix {
    struct Clean {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: [String: Data]
        var counts: [String: Int]
    }

    let scenario: FaultScenario
    let prepared: FaultScenario.Prepared
    let template: String
    let work: String
    let seed: UInt64
    var runs = 0
    var failedRuns = 0
    /// Runs whose failed SQLite call SQLite absorbed (the command succeeded as without it).
    var absorbedRuns = 0

    init(scenario: FaultScenario, prepared: FaultScenario.Prepared, template: String, work: String, seed: UInt64) {
        self.scenario = scenario
        self.prepared = prepared
        self.template = template
        self.work = work
        self.seed = seed
    }

    /// A fresh copy of the template.
    mutating func copy() throws -> String {
        runs += 1
        let root = work + "/run\(runs)"
        try FileManager.default.copyItem(atPath: template, toPath: root)
        return root
    }

    func cairn(_ arguments: [String], stdin: Data? = nil, fault: String? = nil, counting: Bool = false) throws -> ProgramRun {
        var environment = FaultScenario.environment
        if let fault { environment["CAIRN_FAULT"] = fault }
        if counting { environment["CAIRN_FAULT_COUNT"] = "1" }
        return try ProgramRun.run(try #require(CairnProcess.binary), arguments, stdin: stdin,
                                  environment: environment, timeout: FaultMatrixTests.timeout)
    }

    /// The run without a fault: its output and how many calls of each kind it makes.
    mutating func cleanRun() throws -> Clean {
        let root = try copy()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let run = try cairn(scenario.command(root, prepared), stdin: scenario.stdin, counting: true)
        var lines = run.stderr.split(separator: "\n").map(String.init)
        let last = lines.popLast()
        let report = try #require(last, "\(scenario): no call counts on stderr")
        try #require(report.hasPrefix("cairn: system calls: "), "\(scenario): \(run.stderr)")
        var counts: [String: Int] = [:]
        for item in report.dropFirst("cairn: system calls: ".count).split(separator: " ") {
            let pair = item.split(separator: "=")
            counts[String(pair[0])] = Int(pair[1])
        }
        #expect(!run.signalled && !run.timedOut, "\(scenario): clean run crashed")
        #expect(run.status == (scenario.damagedUntilRerun && scenario.name.contains("verify") ? 1 : 0), "\(scenario): clean run: \(run.stderr)")
        let clean = Clean(status: run.status, stdout: Self.normalised(run.stdout), stderr: lines.map { $0 + "\n" }.joined(),
                          output: try Self.snapshot(root + "/out"), counts: counts)
        record(try checkStore(root, context: "clean run", failedStdout: Data()), context: "\(scenario)")
        return clean
    }

    /// The command with the `call`th call of `kind` failing with `code`.
    mutating func fault(_ kind: String, _ call: Int, _ code: String, clean: Clean) throws {
        let root = try copy()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = "\(scenario) with \(kind):\(call):\(code) (seed \(seed))"
        let before = try Self.names(root + "/store")
        let arguments = scenario.command(root, prepared)
        let run = try cairn(arguments, stdin: scenario.stdin, fault: "\(kind):\(call):\(code)")
        var problems: [String] = []
        // The output on stdout could not be written after the work was done: what the work
        // produced may stay (complete), the failure is that it was not acknowledged.
        let acknowledgementLost = run.stderr.contains("cannot write standard output")
        // SQLite absorbs a failed call it does not need for a commit (the checkpoint that
        // copies committed WAL frames into index.sqlite when the last connection closes, the
        // WAL's truncation): the command then succeeds exactly as without the fault, and the
        // frames stay in the WAL for the next opener (spec/blockstore.md §5).
        let sqlite = kind.hasPrefix("sqlite-")
        let absorbed = try sqlite && !run.signalled && !run.timedOut && run.status == clean.status
            && run.stderr == clean.stderr && Self.normalised(run.stdout) == clean.stdout
            && Self.snapshot(root + "/out") == clean.output
        if absorbed {
            absorbedRuns += 1
        } else if run.signalled || run.timedOut {
            problems.append("crashed or hung (status \(run.status), timed out: \(run.timedOut)): \(run.stderr)")
        } else {
            if run.status != 1 { problems.append("exit status \(run.status), not 1") }
            let named = Self.errorLineProblems(run.stderr, kind: kind, code: code)
            let reported = scenario.reportsFailuresAsProblems
                && Self.namesCall(String(decoding: run.stdout, as: UTF8.self), kind: kind, code: code)
            if !reported { problems += named }
        }
        // No partial output, no temporary file left in the store.
        let left = try Self.snapshot(root + "/out")
        if !left.isEmpty && !absorbed && !(acknowledgementLost && left == clean.output) {
            problems.append("output left behind: \(left.keys.sorted())")
        }
        let added = try Self.names(root + "/store").subtracting(before).filter { name in
            !scenario.allowedStoreFiles.contains(name) && !(name.hasPrefix("packs/") && name.hasSuffix(".pack"))
        }
        if !added.isEmpty { problems.append("files left in the store: \(added.sorted())") }
        if !scenario.damagedUntilRerun {
            // After a failed index commit its outcome is unknown until the next opener: the
            // writer leaves the batch's packs for the next writer's recovery (checked after the rerun).
            problems += try checkStore(root, context: "after the failure", failedStdout: run.stdout, unlistedPacksAllowed: sqlite)
        }
        // A rerun without the fault succeeds (or, when only the acknowledgement failed after
        // the command's effect was committed, ends cleanly).
        let rerun = try cairn(arguments, stdin: scenario.stdin)
        let committed = absorbed || sqlite
            || scenario.committedBeforeOutput && (acknowledgementLost || scenario.reportsFailuresAsProblems)
        if rerun.signalled || rerun.timedOut || (committed ? rerun.status > 1 : rerun.status != clean.status) {
            problems.append("rerun: status \(rerun.status): \(rerun.stderr)")
        } else if try !committed && Self.snapshot(root + "/out") != clean.output {
            problems.append("rerun: output differs from the clean run's")
        }
        problems += try checkStore(root, context: "after the rerun", failedStdout: Data())
        record(problems, context: context)
    }

    /// An `EINTR` at a chosen call of every kind: the same status, output and files as without.
    mutating func interrupted(clean: Clean, rng: inout SplitMix64) throws {
        let rounds = FaultMatrixTests.full ? 4 : 1
        for _ in 0..<rounds {
            let root = try copy()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let rules = (FaultMatrixTests.kinds + ["read"]).compactMap { kind -> String? in
                guard let count = clean.counts[kind], count > 0 else { return nil }
                return "\(kind):\(1 + Int(rng.next() % UInt64(count))):EINTR"
            }.joined(separator: ",")
            let context = "\(scenario) with \(rules) (seed \(seed))"
            let run = try cairn(scenario.command(root, prepared), stdin: scenario.stdin, fault: rules)
            var problems: [String] = []
            if run.signalled || run.timedOut || run.status != clean.status { problems.append("status \(run.status): \(run.stderr)") }
            if run.stderr != clean.stderr { problems.append("stderr \(run.stderr) differs from the clean run's \(clean.stderr)") }
            if Self.normalised(run.stdout) != clean.stdout { problems.append("stdout differs from the clean run's") }
            if try Self.snapshot(root + "/out") != clean.output { problems.append("output differs from the clean run's") }
            problems += try checkStore(root, context: "after EINTR", failedStdout: run.stdout)
            record(problems, context: context)
        }
    }

    mutating func record(_ problems: [String], context: String) {
        if problems.isEmpty { return }
        failedRuns += 1
        for problem in problems { Issue.record("\(context): \(problem)") }
    }

    /// The store verifies, and the content acknowledged before (and any CID the failed command
    /// printed) reads back byte for byte.
    func checkStore(_ root: String, context: String, failedStdout: Data, unlistedPacksAllowed: Bool = false) throws -> [String] {
        guard FileManager.default.fileExists(atPath: root + "/store") else { return [] }
        var problems: [String] = []
        let store = FaultScenario.store(root)
        let verify = try cairn(["store", "verify"] + store)
        if verify.status != 0 { problems.append("\(context): store verify: \(String(decoding: verify.stdout, as: UTF8.self))\(verify.stderr)") }
        // Every pack file is one the index lists (a failed command removes the packs it made).
        let stat = String(decoding: try cairn(["store", "stat"] + store).stdout, as: UTF8.self)
        let packFiles = try Self.names(root + "/store/packs").filter { $0.hasSuffix(".pack") }.count
        let listed = stat.split(separator: "\n").first { $0.hasPrefix("packs: ") }.flatMap { Int($0.dropFirst(7)) } ?? -1
        if unlistedPacksAllowed ? listed > packFiles : listed != packFiles { problems.append("\(context): \(packFiles) pack files, the index lists \(stat)") }
        var expected = prepared.kept.map { ($0.cid, root + "/" + $0.file) }
        for line in String(decoding: failedStdout, as: UTF8.self).split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 2).map(String.init)
            if words.count == 3 && words[0] == "added" {
                let source = root + "/in/" + words[2]
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: source, isDirectory: &isFolder) && !isFolder.boolValue {
                    expected.append((words[1], source))
                }
            } else if words.count == 1 && scenario.name == "block put", let bytes = scenario.stdin {
                let get = try cairn(["block", "get", words[0]] + store)
                if get.status != 0 || get.stdout != bytes { problems.append("\(context): printed block \(words[0]) unreadable") }
            }
        }
        for (cid, file) in expected {
            let cat = try cairn(["cat", cid] + store)
            let source = try Data(contentsOf: URL(fileURLWithPath: file))
            if cat.status != 0 || cat.stdout != source {
                problems.append("\(context): acknowledged \(cid) unreadable: \(cat.stderr)")
            }
        }
        return problems
    }

    /// Exactly one line, `Error: …`, naming the failed call and its errno.
    static func errorLineProblems(_ stderr: String, kind: String, code: String) -> [String] {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 2, lines[1].isEmpty, lines[0].hasPrefix("Error: ") else {
            return ["stderr is not one Error: line: \(stderr.debugDescription)"]
        }
        return namesCall(String(lines[0]), kind: kind, code: code) ? [] : ["error does not name the failed \(kind) (\(code)): \(lines[0])"]
    }

    /// Whether `text` says which call failed and why: its action (spec/system.md §2; an open
    /// that creates may say `cannot create`, a rename `cannot move`) and the errno's text.
    static func namesCall(_ text: String, kind: String, code: String) -> Bool {
        let actions = ["open": ["cannot open", "cannot create"], "write": ["cannot write"], "fsync": ["cannot sync"],
                       "fdatasync": ["cannot sync"], "rename": ["cannot rename", "cannot move"],
                       "sqlite-open": ["cannot open the index"], "sqlite-write": ["cannot write the index"],
                       "sqlite-truncate": ["cannot truncate the index"], "sqlite-sync": ["cannot sync the index"]][kind]!
        let reason = code == "EIO" ? "Input/output error" : "No space left on device"
        return text.split(separator: "\n").contains { line in line.contains(reason) && actions.contains { line.contains($0) } }
    }

    /// Every file under `folder` (relative name → bytes); empty when it does not exist.
    static func snapshot(_ folder: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try names(folder) {
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder)
            files[name] = isFolder.boolValue ? Data("folder".utf8) : try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        }
        return files
    }

    /// The names of everything under `folder`, relative to it.
    static func names(_ folder: String) throws -> Set<String> {
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        return Set(try FileManager.default.subpathsOfDirectory(atPath: folder))
    }

    /// Output without what changes from run to run (the time in a kept index's name).
    static func normalised(_ stdout: Data) -> String {
        String(decoding: stdout, as: UTF8.self).replacingOccurrences(of: #"replaced-[0-9]+"#, with: "replaced-T", options: .regularExpression)
    }
}
