import CairnCommands

/// The `cairn` executable: the root command of CairnCommands as the program's entry point
/// (`Cairn.runMain`: SIGINT/SIGTERM cancel the running command; standard output must take every byte).
@main
enum CairnMain {
    static func main() async {
        await Cairn.runMain()
    }
}
