import ArgumentParser

/// A failure the CLI reports as one line on stderr, exiting non-zero.
///
/// ArgumentParser prints `Error: <description>` for a thrown error and exits with status 1;
/// validation errors (bad flags, unknown names) exit with status 64.
struct CLIError: Error, CustomStringConvertible {
    var description: String

    init(_ message: String) {
        self.description = message
    }
}
