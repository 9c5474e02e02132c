import ArgumentParser
import CairnCommands

await Cairn.main()
