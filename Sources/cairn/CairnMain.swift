import ArgumentParser
import CairnCommands

/// The `cairn` executable: the root command of CairnCommands as the program's entry point.
@main
struct CairnMain: AsyncParsableCommand {
    static let configuration = Cairn.configuration
}
