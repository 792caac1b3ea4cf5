import HoistCLI

await HoistCommand.runMain()
