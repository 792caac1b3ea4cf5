import HoistCLI

await CredentialHelperCommand.runMain()
