import ArgumentParser
import Engine
import Multiformats
import UnixFS

import CairnSystem

/// A bad option value: one `Error: …` line on stderr, then exit status 64 (spec/cli.md).
///
/// Thrown from a command's `validate()`, so it is found before any work starts; ArgumentParser
/// prints nothing more for an `ExitCode`, which keeps the error to one line.
func usageError(_ message: String) -> ExitCode {
    var line = "Error: " + message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    return ExitCode.validationFailure
}

/// Runs `body`, turning any error it throws into a usage error (exit 64).
func validating<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw usageError(error.message)
    } catch {
        throw usageError(String(describing: error))
    }
}

/// A `--threads` value: nil (every core) or at least 1; anything else is a usage error.
func validateThreads(_ threads: Int?) throws {
    try validating { try checkThreads(threads) }
}

extension GCCommand {
    /// `--compact-threshold` outside 0…1 is a usage error, found before the store is opened.
    func validate() throws {
        guard compactThreshold >= 0 && compactThreshold <= 1 else {
            throw usageError("--compact-threshold must be between 0 and 1, got \(compactThreshold)")
        }
    }
}

extension ImportProfile {
    /// The profile of a `--profile` value, or an error listing the known ones.
    static func named(_ name: String) throws -> ImportProfile {
        guard let known = ImportProfile(rawValue: name) else {
            throw CLIError("unknown profile '\(name)' (known: \(allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return known
    }
}

/// A CID or an IPFS path (`CID/NAME/…` or `/ipfs/CID/NAME/…`, as Kubo's `cat` and `get` take
/// them, cleaned as Kubo cleans them: `IPFSPath`): the root, checked as `parseSecureCID`, and
/// the names below it.
func parseSecureCIDPath(_ text: String) throws -> (root: CID, segments: [String]) {
    let path: IPFSPath
    do throws(IPFSPath.Failure) { path = try IPFSPath(parsing: text) } catch {
        throw CLIError("invalid path '\(text)': expected a CID, CID/NAME… or /ipfs/CID/NAME…")
    }
    let first = path.root, segments = path.names
    // Only a first segment that does not parse is "not a CID"; a CID refused as insecure
    // keeps its own message.
    if segments.isEmpty && first == text { return (try parseSecureCID(first), []) }
    guard (try? CID(first)) != nil else { throw CLIError("invalid path '\(text)': \(first) is not a CID") }
    return (try parseSecureCID(first), segments)
}

/// Parses a CID given on the command line to name content to read or pin, refusing the CIDs Kubo
/// refuses as insecure (`CIDSecurity`, spec/multiformats.md).
func parseSecureCID(_ text: String) throws -> CID {
    let cid = try parseCID(text)
    do {
        try cid.checkSecure()
    } catch {
        throw CLIError("refusing CID '\(text)': \(error.message)")
    }
    return cid
}
