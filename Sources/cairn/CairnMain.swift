import ArgumentParser
import CairnCommands

/// The `cairn` executable: the root command of CairnCommands as the program's entry point,
/// with SIGINT/SIGTERM cancelling the running command (`Cairn.runMain`).
@main
struct CairnMain: AsyncParsableCommand {
    static let configuration = Cairn.configuration

    static func main() async {
        await Cairn.runMain()
    }
}
