import CairnCommands

/// The `cairn` executable: the root command of CairnCommands as the program's entry point
/// (`Cairn.runMain` also checks that standard output took every byte).
@main
enum CairnMain {
    static func main() async {
        await Cairn.runMain()
    }
}
