import ArgumentParser

@main
struct OrcaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orca",
        abstract: "A Kubernetes-style control plane whose source of truth is an append-only event log.",
        discussion: "Every command takes --data DIR, the LMDB data directory (default ./.orca).",
        subcommands: [Apply.self, Get.self, Describe.self, Delete.self, Log.self, Why.self, Diff.self, Compare.self, Rerun.self, Import.self, Export.self, Run.self, Simulate.self])
}
