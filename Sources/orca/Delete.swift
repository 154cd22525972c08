import ArgumentParser
import OrcaAPI
import OrcaStore

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete an object, as kubectl delete does.")

    @Argument(help: "The kind (pods, po, pod, Pod…).") var kind: String
    @Argument(help: "The object's name.") var name: String
    @Option(name: .shortAndLong, help: "The namespace.") var namespace: String = "default"
    @Option(name: .customLong("grace-period"), help: "Seconds to let a pod terminate; 0 with --force removes it at once (0 alone means 1).")
    var gracePeriod: Int64?
    @Flag(help: "Remove the object at once, without waiting for the kubelet.") var force = false
    @Option(help: "background, foreground or orphan.") var cascade: String = "background"
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        try await reportingErrors {
            let resource = try resolveKind(kind)
            let policy: PropagationPolicy
            switch cascade.lowercased() {
            case "background", "true": policy = .background
            case "foreground": policy = .foreground
            case "orphan", "false": policy = .orphan
            default: throw CLIError("error: invalid cascade value (\(cascade)). Must be \"background\", \"foreground\", or \"orphan\".")
            }
            var grace = gracePeriod
            if force {
                grace = 0
            } else if grace == 0 {
                grace = 1  // kubectl: --grace-period=0 without --force means 1 second
            }
            if let g = grace, g < 0 { grace = nil }
            let store = Store(log: try dataOptions.openLog(create: false))
            try await store.delete(kind: resource.kind, namespace: namespace, name: name,
                                                 options: DeleteOptions(gracePeriodSeconds: grace, propagationPolicy: policy))
            if force { Output.err("Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.") }
            print("\(resource.singular) \"\(name)\" \(force ? "force deleted" : "deleted")")
        }
    }
}
