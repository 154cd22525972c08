import ArgumentParser
import Foundation
import OrcaAPI
import OrcaLog
import OrcaRuntime

struct Describe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one object in detail, with its own history in the log.")

    @Argument(help: "The kind.") var kind: String
    @Argument(help: "The object's name.") var name: String
    @Option(name: .shortAndLong, help: "The namespace.") var namespace: String = "default"
    @OptionGroup var timeTravel: TimeTravelOptions
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        try await reportingErrors {
            let resource = try resolveKind(kind)
            let log = try dataOptions.openLog(create: false)
            let (atSeq, _) = try timeTravel.resolve(log)
            let ns = resource.namespaced ? namespace : ""
            guard let record = try objects(in: log, kind: resource.kind, namespace: ns, atSeq: atSeq).first(where: { $0.name == name }) else {
                throw CLIError("Error from server (NotFound): \(resource.groupResource) \"\(name)\" not found")
            }
            let o = Unstructured(record.object)
            var lines: [String] = []
            // Values start in one column, past the kind's longest label (kubectl's tabwriter).
            let width = ["CronJob": 30, "Deployment": 23].first { $0.key == o.kind }?.value ?? 18
            func field(_ label: String, _ value: String) {
                lines.append((label + ":").padding(toLength: max(width, label.count + 2), withPad: " ", startingAt: 0) + value)
            }
            field("Name", o.name)
            if resource.namespaced { field("Namespace", o.namespace) }
            field("Kind", "\(o.kind) (\(o.apiVersion))")
            field("UID", o.uid)
            field("Resource Version", o.resourceVersion ?? "")
            field("Created", o.creationTimestamp?.rfc3339 ?? "<unknown>")
            if let deletion = o.deletionTimestamp { field("Deleting At", "\(deletion.rfc3339) (grace \(o.deletionGracePeriodSeconds ?? 0)s)") }
            field("Labels", o.labels.isEmpty ? "<none>" : o.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n" + String(repeating: " ", count: width)))
            field("Annotations", o.annotations.isEmpty ? "<none>" : o.annotations.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n" + String(repeating: " ", count: width)))
            if !o.finalizers.isEmpty { field("Finalizers", o.finalizers.joined(separator: ", ")) }
            for owner in o.ownerReferences { field("Controlled By", "\(owner.kind)/\(owner.name)\(owner.controller == true ? "" : " (not controller)")") }
            if let phase = o.value[path: ["status", "phase"]]?.stringValue { field("Status", phase) }
            if let node = o.value[path: ["spec", "nodeName"]]?.stringValue { field("Node", node) }
            if let ip = o.value[path: ["status", "podIP"]]?.stringValue { field("IP", ip) }
            if o.kind == "Pod" { lines += Self.containerSections(o) }
            if o.kind == "Deployment" {
                // kubectl's DeploymentDescriber.
                let selector = (o.value[path: ["spec", "selector", "matchLabels"]]?.objectValue ?? [:])
                    .map { "\($0.key)=\($0.value.stringValue ?? "")" }.sorted().joined(separator: ",")
                field("Selector", selector)
                func count(_ path: String) -> Int64 { o.value[path: ["status", path]]?.intValue ?? 0 }
                field("Replicas", "\(o.value[path: ["spec", "replicas"]]?.intValue ?? 0) desired | \(count("updatedReplicas")) updated | "
                      + "\(count("replicas")) total | \(count("availableReplicas")) available | \(count("unavailableReplicas")) unavailable")
                let strategy = o.value[path: ["spec", "strategy", "type"]]?.stringValue ?? ""
                field("StrategyType", strategy)
                field("MinReadySeconds", String(o.value[path: ["spec", "minReadySeconds"]]?.intValue ?? 0))
                if let rolling = o.value[path: ["spec", "strategy", "rollingUpdate"]] {
                    func text(_ v: JSONValue?) -> String { v?.stringValue ?? v?.intValue.map(String.init) ?? "0" }
                    field("RollingUpdateStrategy", "\(text(rolling["maxUnavailable"])) max unavailable, \(text(rolling["maxSurge"])) max surge")
                }
            }
            if o.kind == "StatefulSet" {
                // kubectl's StatefulSetDescriber.
                let selector = (o.value[path: ["spec", "selector", "matchLabels"]]?.objectValue ?? [:])
                    .map { "\($0.key)=\($0.value.stringValue ?? "")" }.sorted().joined(separator: ",")
                field("Selector", selector)
                field("Replicas", "\(o.value[path: ["spec", "replicas"]]?.intValue ?? 0) desired | \(o.value[path: ["status", "replicas"]]?.intValue ?? 0) total")
                field("Update Strategy", o.value[path: ["spec", "updateStrategy", "type"]]?.stringValue ?? "")
                if let partition = o.value[path: ["spec", "updateStrategy", "rollingUpdate", "partition"]]?.intValue {
                    field("  Partition", String(partition))
                }
                let pods = try objects(in: log, kind: "Pod", namespace: o.namespace, atSeq: atSeq).map { Unstructured($0.object) }
                    .filter { pod in pod.ownerReferences.contains { $0.controller == true && $0.uid == o.uid } }
                func count(_ phases: Set<String>) -> Int { pods.filter { phases.contains($0.value[path: ["status", "phase"]]?.stringValue ?? "") }.count }
                field("Pods Status", "\(count(["Running"])) Running / \(count(["Pending"])) Waiting / \(count(["Succeeded"])) Succeeded / \(count(["Failed"])) Failed")
            }
            if o.kind == "CronJob" {
                // kubectl's CronJobDescriber.
                func value(_ path: [String]) -> String {
                    guard let v = o.value[path: path], !v.isNull else { return "<unset>" }
                    return v.stringValue ?? v.intValue.map(String.init) ?? v.boolValue.map { $0 ? "True" : "False" } ?? v.jsonString()
                }
                field("Schedule", value(["spec", "schedule"]))
                if o.value[path: ["spec", "timeZone"]] != nil { field("Time Zone", value(["spec", "timeZone"])) }
                field("Concurrency Policy", value(["spec", "concurrencyPolicy"]))
                field("Suspend", value(["spec", "suspend"]))
                field("Successful Job History Limit", value(["spec", "successfulJobsHistoryLimit"]))
                field("Failed Job History Limit", value(["spec", "failedJobsHistoryLimit"]))
                field("Starting Deadline Seconds", value(["spec", "startingDeadlineSeconds"]))
                field("Last Schedule Time", value(["status", "lastScheduleTime"]))
                let active = (o.value[path: ["status", "active"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                field("Active Jobs", active.isEmpty ? "<none>" : active.joined(separator: ", "))
            }
            let conditions = o.value[path: ["status", "conditions"]]?.arrayValue ?? []
            if o.kind == "Namespace" {
                // kubectl's NamespaceDescriber: conditions in full, then the namespace's quotas.
                if !conditions.isEmpty {
                    lines.append("Conditions:")
                    var rows = [["Type", "Status", "LastTransitionTime", "Reason", "Message"],
                                ["----", "------", "------------------", "------", "-------"]]
                    for c in conditions {
                        rows.append(["type", "status", "lastTransitionTime", "reason", "message"].map { c[$0]?.stringValue ?? "" })
                    }
                    lines.append(contentsOf: Table.format(rows).split(separator: "\n").map { "  " + $0 })
                }
                lines.append("")
                let quotas = try objects(in: log, kind: "ResourceQuota", namespace: o.name, atSeq: atSeq).map { Unstructured($0.object) }
                if quotas.isEmpty { lines.append("No resource quota.") } else { lines.append("Resource Quotas") }
                for quota in quotas {
                    lines.append("  Name:     \(quota.name)")
                    let hard = quota.value[path: ["status", "hard"]]?.objectValue ?? quota.value[path: ["spec", "hard"]]?.objectValue ?? [:]
                    let used = quota.value[path: ["status", "used"]]?.objectValue ?? [:]
                    func text(_ v: JSONValue?) -> String { v?.stringValue ?? v?.intValue.map(String.init) ?? "0" }
                    var rows = [["Resource", "Used", "Hard"], ["--------", "---", "---"]]
                    for name in hard.keys.sorted() { rows.append([name, text(used[name]), text(hard[name])]) }
                    lines.append(contentsOf: Table.format(rows).split(separator: "\n").map { "  " + $0 })
                }
                lines.append("")
                lines.append("No LimitRange resource.")
            } else if !conditions.isEmpty {
                lines.append("Conditions:")
                lines.append("  Type                        Status   Reason")
                for c in conditions {
                    let type = (c["type"]?.stringValue ?? "").padding(toLength: 28, withPad: " ", startingAt: 0)
                    let status = (c["status"]?.stringValue ?? "").padding(toLength: 9, withPad: " ", startingAt: 0)
                    lines.append("  \(type)\(status)\(c["reason"]?.stringValue ?? "")")
                }
            }
            if o.kind == "Deployment" {
                // OldReplicaSets / NewReplicaSet: the new one holds the Deployment's template.
                let owned = try objects(in: log, kind: "ReplicaSet", namespace: o.namespace, atSeq: atSeq).map { Unstructured($0.object) }
                    .filter { rs in rs.ownerReferences.contains { $0.controller == true && $0.uid == o.uid } }
                func template(_ u: Unstructured) -> JSONValue? {
                    var t = u.value[path: ["spec", "template"]]
                    t?[path: ["metadata", "labels", "pod-template-hash"]] = nil
                    return t.map(TemplateHash.canonical)
                }
                func summary(_ rs: Unstructured) -> String {
                    "\(rs.name) (\(rs.value[path: ["status", "replicas"]]?.intValue ?? 0)/\(rs.value[path: ["spec", "replicas"]]?.intValue ?? 0) replicas created)"
                }
                let new = owned.first { template($0) == template(o) }
                let old = owned.filter { $0.uid != new?.uid && ($0.value[path: ["spec", "replicas"]]?.intValue ?? 0) > 0 }
                field("OldReplicaSets", old.isEmpty ? "<none>" : old.map(summary).joined(separator: ", "))
                field("NewReplicaSet", new.map(summary) ?? "<none>")
            }
            // Kubernetes Events about this object (kubectl's Events section), oldest first.
            let events = try objects(in: log, kind: "Event", namespace: nil, atSeq: atSeq)
                .map { Unstructured($0.object) }
                .filter { $0.value[path: ["involvedObject", "uid"]]?.stringValue == o.uid && !o.uid.isEmpty }
            if !events.isEmpty {
                lines.append("Events:")
                var rows: [[String]] = [["TYPE", "REASON", "LAST SEEN", "COUNT", "FROM", "MESSAGE"]]
                // An events.k8s.io/v1 Event (the scheduler's) has eventTime and reportingComponent
                // where a core/v1 one has lastTimestamp and source, as kubectl reads them.
                func lastSeen(_ e: Unstructured) -> String {
                    e.value["lastTimestamp"]?.stringValue ?? e.value["eventTime"]?.stringValue ?? ""
                }
                func from(_ e: Unstructured) -> String {
                    let source = e.value[path: ["source", "component"]]?.stringValue ?? ""
                    return source.isEmpty ? e.value["reportingComponent"]?.stringValue ?? "" : source
                }
                for e in events.sorted(by: { lastSeen($0) < lastSeen($1) }) {
                    let count = e.value["count"]?.intValue ?? e.value[path: ["series", "count"]]?.intValue ?? 1
                    rows.append([e.value["type"]?.stringValue ?? "", e.value["reason"]?.stringValue ?? "",
                                 lastSeen(e), String(count), from(e), e.value["message"]?.stringValue ?? ""])
                }
                lines.append(contentsOf: Table.format(rows).split(separator: "\n").map { "  " + $0 })
            }
            lines.append("History:")
            var history: [[String]] = [["SEQ", "TIME", "TYPE", "ACTOR", "CAUSE"]]
            for event in try log.readAll() where event.key == record.key && event.seq <= (atSeq ?? .max) {
                history.append([String(event.seq), event.time.description, event.type.rawValue, event.actor,
                                event.cause.map(String.init) ?? "-"])
            }
            lines.append(contentsOf: Table.format(history).split(separator: "\n").map { "  " + $0 })
            print(lines.joined(separator: "\n"))
        }
    }
}

extension Describe {
    /// kubectl's Init Containers and Containers sections: each container's image, state (with
    /// its reason, exit code and times), last state, readiness and restart count.
    static func containerSections(_ pod: Unstructured) -> [String] {
        var lines: [String] = []
        for (section, specKey, statusKey) in [("Init Containers", "initContainers", "initContainerStatuses"),
                                              ("Containers", "containers", "containerStatuses")] {
            let containers = pod.value[path: ["spec", specKey]]?.arrayValue ?? []
            guard !containers.isEmpty else { continue }
            let statuses = pod.value[path: ["status", statusKey]]?.arrayValue ?? []
            lines.append("\(section):")
            for container in containers {
                let name = container["name"]?.stringValue ?? ""
                let status = statuses.first { $0["name"]?.stringValue == name }
                func line(_ label: String, _ value: String, indent: Int = 4) {
                    lines.append(String(repeating: " ", count: indent) + (label + ":").padding(toLength: 20 - indent, withPad: " ", startingAt: 0) + value)
                }
                func state(_ label: String, _ state: JSONValue?) {
                    guard let state, let (kind, detail) = state.objectValue?.entries.first else {
                        line(label, "Waiting")
                        return
                    }
                    line(label, kind.prefix(1).uppercased() + kind.dropFirst())
                    for (key, title) in [("reason", "Reason"), ("message", "Message"), ("exitCode", "Exit Code"),
                                         ("startedAt", "Started"), ("finishedAt", "Finished")] {
                        if let value = detail[key] { line(title, value.stringValue ?? value.intValue.map(String.init) ?? "", indent: 6) }
                    }
                }
                lines.append("  \(name):")
                line("Image", container["image"]?.stringValue ?? "")
                state("State", status?["state"])
                if let last = status?["lastState"], last.objectValue?.isEmpty == false { state("Last State", last) }
                line("Ready", status?["ready"]?.boolValue == true ? "True" : "False")
                line("Restart Count", String(status?["restartCount"]?.intValue ?? 0))
            }
        }
        return lines
    }
}
