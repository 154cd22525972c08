import OrcaAPI

/// kubectl-like tables.
enum Table {
    static func render(kind: String, objects: [Unstructured], now: Timestamp, wide: Bool, showNamespace: Bool) -> String {
        var header: [String]
        var rows: [[String]] = []
        func age(_ o: Unstructured) -> String {
            guard let created = o.creationTimestamp else { return "<unknown>" }
            return humanDuration(now.since(created))
        }
        switch kind {
        case "Pod":
            header = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] + (wide ? ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"] : [])
            for o in objects {
                let statuses = o.value[path: ["status", "containerStatuses"]]?.arrayValue ?? []
                let total = o.value[path: ["spec", "containers"]]?.arrayValue?.count ?? 0
                let ready = statuses.filter { $0["ready"]?.boolValue == true }.count
                let restarts = statuses.compactMap { $0["restartCount"]?.intValue }.reduce(0, +)
                // kubectl: the count, and how long ago the latest restart's container had ended.
                let lastEnd = statuses.compactMap { $0[path: ["lastState", "terminated", "finishedAt"]]?.stringValue }
                    .compactMap(Timestamp.init(rfc3339:)).max()
                let restartText = restarts > 0 ? lastEnd.map { "\(restarts) (\(humanDuration(now.since($0))) ago)" } ?? String(restarts) : "0"
                var row = [o.name, "\(ready)/\(total)", podStatus(o), restartText, age(o)]
                if wide {
                    let gates = o.value[path: ["spec", "readinessGates"]]?.arrayValue ?? []
                    let conditions = o.value[path: ["status", "conditions"]]?.arrayValue ?? []
                    let passing = gates.filter { gate in
                        conditions.contains { $0["type"] == gate["conditionType"] && $0["status"] == "True" }
                    }.count
                    row += [o.value[path: ["status", "podIP"]]?.stringValue ?? "<none>",
                            o.value[path: ["spec", "nodeName"]]?.stringValue ?? "<none>",
                            o.value[path: ["status", "nominatedNodeName"]]?.stringValue ?? "<none>",
                            gates.isEmpty ? "<none>" : "\(passing)/\(gates.count)"]
                }
                rows.append(row)
            }
        case "Node":
            header = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
            for o in objects {
                let readyCondition = o.value[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }
                var status = readyCondition?["status"]?.stringValue == "True" ? "Ready" : (readyCondition == nil ? "Unknown" : "NotReady")
                if o.value[path: ["spec", "unschedulable"]]?.boolValue == true { status += ",SchedulingDisabled" }
                // kubectl's roles: the `node-role.kubernetes.io/<role>` labels, and `kubernetes.io/role`.
                let labels = o.labels
                var roles = Set(labels.keys.filter { $0.hasPrefix("node-role.kubernetes.io/") }
                    .map { String($0.dropFirst("node-role.kubernetes.io/".count)) }.filter { !$0.isEmpty })
                if let role = labels["kubernetes.io/role"], !role.isEmpty { roles.insert(role) }
                rows.append([o.name, status, roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ","), age(o),
                             o.value[path: ["status", "nodeInfo", "kubeletVersion"]]?.stringValue ?? ""])
            }
        case "ReplicaSet":
            header = ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
            for o in objects {
                rows.append([o.name, int(o, ["spec", "replicas"]), int(o, ["status", "replicas"]), int(o, ["status", "readyReplicas"]), age(o)])
            }
        case "Deployment":
            header = ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"] + (wide ? ["CONTAINERS", "IMAGES", "SELECTOR"] : [])
            for o in objects {
                let ready = "\(o.value[path: ["status", "readyReplicas"]]?.intValue ?? 0)/\(o.value[path: ["spec", "replicas"]]?.intValue ?? 0)"
                var row = [o.name, ready, int(o, ["status", "updatedReplicas"]), int(o, ["status", "availableReplicas"]), age(o)]
                if wide {
                    let containers = o.value[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
                    let selector = (o.value[path: ["spec", "selector", "matchLabels"]]?.objectValue ?? [:])
                        .map { "\($0.key)=\($0.value.stringValue ?? "")" }.sorted().joined(separator: ",")
                    row += [containers.compactMap { $0["name"]?.stringValue }.joined(separator: ","),
                            containers.compactMap { $0["image"]?.stringValue }.joined(separator: ","), selector.isEmpty ? "<none>" : selector]
                }
                rows.append(row)
            }
        case "CronJob":
            header = ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"] + (wide ? ["CONTAINERS", "IMAGES", "SELECTOR"] : [])
            for o in objects {
                let last = o.value[path: ["status", "lastScheduleTime"]]?.stringValue.flatMap(Timestamp.init(rfc3339:))
                var row = [o.name, o.value[path: ["spec", "schedule"]]?.stringValue ?? "", o.value[path: ["spec", "timeZone"]]?.stringValue ?? "<none>",
                           (o.value[path: ["spec", "suspend"]]?.boolValue ?? false) ? "True" : "False",
                           String(o.value[path: ["status", "active"]]?.arrayValue?.count ?? 0), last.map { humanDuration(now.since($0)) } ?? "<none>", age(o)]
                if wide {
                    let containers = o.value[path: ["spec", "jobTemplate", "spec", "template", "spec", "containers"]]?.arrayValue ?? []
                    let selector = (o.value[path: ["spec", "jobTemplate", "spec", "selector", "matchLabels"]]?.objectValue ?? [:])
                        .map { "\($0.key)=\($0.value.stringValue ?? "")" }.sorted().joined(separator: ",")
                    row += [containers.compactMap { $0["name"]?.stringValue }.joined(separator: ","),
                            containers.compactMap { $0["image"]?.stringValue }.joined(separator: ","), selector.isEmpty ? "<none>" : selector]
                }
                rows.append(row)
            }
        case "EndpointSlice":
            header = ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
            // kubectl's listWithMoreString: three, then " + N more...", or <unset>.
            func list(_ items: [String]) -> String {
                let shown = items.prefix(3).joined(separator: ",")
                if items.count > 3 { return "\(shown) + \(items.count - 3) more..." }
                return shown.isEmpty ? "<unset>" : shown
            }
            for o in objects {
                let ports = (o.value["ports"]?.arrayValue ?? []).map { p in p["port"]?.intValue.map(String.init) ?? p["name"]?.stringValue ?? "*" }
                let addresses = (o.value["endpoints"]?.arrayValue ?? []).flatMap { ($0["addresses"]?.arrayValue ?? []).compactMap(\.stringValue) }
                rows.append([o.name, o.value["addressType"]?.stringValue ?? "", list(ports), list(addresses), age(o)])
            }
        case "StatefulSet":
            header = ["NAME", "READY", "AGE"] + (wide ? ["CONTAINERS", "IMAGES"] : [])
            for o in objects {
                var row = [o.name, "\(o.value[path: ["status", "readyReplicas"]]?.intValue ?? 0)/\(o.value[path: ["spec", "replicas"]]?.intValue ?? 0)", age(o)]
                if wide {
                    let containers = o.value[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
                    row += [containers.compactMap { $0["name"]?.stringValue }.joined(separator: ","),
                            containers.compactMap { $0["image"]?.stringValue }.joined(separator: ",")]
                }
                rows.append(row)
            }
        case "DaemonSet":
            header = ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"]
            for o in objects {
                let selector = (o.value[path: ["spec", "template", "spec", "nodeSelector"]]?.objectValue ?? [:])
                    .map { "\($0.key)=\($0.value.stringValue ?? "")" }.sorted().joined(separator: ",")
                rows.append([o.name] + ["desiredNumberScheduled", "currentNumberScheduled", "numberReady", "updatedNumberScheduled", "numberAvailable"].map { int(o, ["status", $0]) }
                            + [selector.isEmpty ? "<none>" : selector, age(o)])
            }
        case "Job":
            header = ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
            for o in objects {
                // kubectl's printJob: the first of these that holds.
                let conditions = o.value[path: ["status", "conditions"]]?.arrayValue ?? []
                let trueTypes = Set(conditions.filter { $0["status"]?.stringValue == "True" }.compactMap { $0["type"]?.stringValue })
                let status = trueTypes.contains("Complete") ? "Complete" : trueTypes.contains("Failed") ? "Failed"
                    : o.deletionTimestamp != nil ? "Terminating"
                    : ["Suspended", "FailureTarget", "SuccessCriteriaMet"].first(where: trueTypes.contains) ?? "Running"
                let parallelism = o.value[path: ["spec", "parallelism"]]?.intValue ?? 0
                let completions = o.value[path: ["spec", "completions"]]?.intValue.map(String.init)
                    ?? (parallelism > 1 ? "1 of \(parallelism)" : "1")
                var duration = ""
                if let start = o.value[path: ["status", "startTime"]]?.stringValue.flatMap(Timestamp.init(rfc3339:)) {
                    let end = o.value[path: ["status", "completionTime"]]?.stringValue.flatMap(Timestamp.init(rfc3339:)) ?? now
                    duration = humanDuration(end.since(start))
                }
                rows.append([o.name, status, "\(int(o, ["status", "succeeded"]))/\(completions)", duration, age(o)])
            }
        case "Service":
            header = ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
            for o in objects {
                let ports = (o.value[path: ["spec", "ports"]]?.arrayValue ?? []).map { p in
                    "\(p["port"]?.intValue ?? 0)/\(p["protocol"]?.stringValue ?? "TCP")"
                }.joined(separator: ",")
                rows.append([o.name, o.value[path: ["spec", "type"]]?.stringValue ?? "ClusterIP",
                             o.value[path: ["spec", "clusterIP"]]?.stringValue ?? "<none>", "<none>",
                             ports.isEmpty ? "<none>" : ports, age(o)])
            }
        case "Endpoints":
            header = ["NAME", "ENDPOINTS", "AGE"]
            for o in objects {
                var endpoints: [String] = []
                for subset in o.value["subsets"]?.arrayValue ?? [] {
                    let ports = subset["ports"]?.arrayValue?.compactMap { $0["port"]?.intValue } ?? []
                    for address in subset["addresses"]?.arrayValue ?? [] {
                        let ip = address["ip"]?.stringValue ?? ""
                        endpoints += ports.isEmpty ? [ip] : ports.map { "\(ip):\($0)" }
                    }
                }
                let shown = endpoints.prefix(3).joined(separator: ",") + (endpoints.count > 3 ? " + \(endpoints.count - 3) more..." : "")
                rows.append([o.name, endpoints.isEmpty ? "<none>" : shown, age(o)])
            }
        case "Event":
            header = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
            for o in objects {
                let last = (o.value["lastTimestamp"]?.stringValue ?? o.value["eventTime"]?.stringValue).flatMap(Timestamp.init(rfc3339:))
                let object = (o.value[path: ["involvedObject", "kind"]]?.stringValue ?? "").lowercased() + "/"
                    + (o.value[path: ["involvedObject", "name"]]?.stringValue ?? "")
                rows.append([last.map { humanDuration(now.since($0)) } ?? "<unknown>", o.value["type"]?.stringValue ?? "",
                             o.value["reason"]?.stringValue ?? "", object, o.value["message"]?.stringValue ?? ""])
            }
        case "PriorityClass":
            header = ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
            for o in objects {
                rows.append([o.name, String(o.value["value"]?.intValue ?? 0), String(o.value["globalDefault"]?.boolValue ?? false), age(o),
                             o.value["preemptionPolicy"]?.stringValue ?? ""])
            }
        case "Namespace":
            header = ["NAME", "STATUS", "AGE"]
            for o in objects { rows.append([o.name, o.value[path: ["status", "phase"]]?.stringValue ?? "", age(o)]) }
        case "Lease":
            header = ["NAME", "HOLDER", "AGE"]
            for o in objects { rows.append([o.name, o.value[path: ["spec", "holderIdentity"]]?.stringValue ?? "", age(o)]) }
        case "ResourceQuota":
            header = ["NAME", "AGE", "REQUEST", "LIMIT"]
            for o in objects {
                let hard = o.value[path: ["status", "hard"]]?.objectValue ?? o.value[path: ["spec", "hard"]]?.objectValue ?? [:]
                let used = o.value[path: ["status", "used"]]?.objectValue ?? [:]
                func usage(_ limits: Bool) -> String {
                    hard.keys.sorted().filter { $0.hasPrefix("limits.") == limits }
                        .map { "\($0): \(used[$0]?.stringValue ?? used[$0]?.intValue.map(String.init) ?? "0")/\(hard[$0]?.stringValue ?? hard[$0]?.intValue.map(String.init) ?? "")" }
                        .joined(separator: ", ")
                }
                rows.append([o.name, age(o), usage(false), usage(true)])
            }
        default:
            header = ["NAME", "AGE"]
            for o in objects { rows.append([o.name, age(o)]) }
        }
        if showNamespace {
            header.insert("NAMESPACE", at: 0)
            for (i, o) in objects.enumerated() { rows[i].insert(o.namespace, at: 0) }
        }
        return format([header] + rows)
    }

    static func int(_ o: Unstructured, _ path: [String]) -> String { String(o.value[path: path]?.intValue ?? 0) }

    /// kubectl's STATUS column for a pod.
    /// kubectl's STATUS of a pod (`printPod`): the phase or reason, `SchedulingGated`, the first
    /// unfinished init container's state (`Init:1/2`, `Init:CrashLoopBackOff`, `Init:Error`…), else
    /// the first container with a waiting or terminated reason (`ExitCode:N` without one), `Running`
    /// or `NotReady` for a completed pod with a container still running, and `Terminating` for a
    /// pod being deleted that has not finished (`Unknown` on a lost node).
    static func podStatus(_ pod: Unstructured) -> String {
        let status = pod.value["status"]
        let phase = status?["phase"]?.stringValue ?? ""
        var reason = status?["reason"]?.stringValue ?? (phase.isEmpty ? "Unknown" : phase)
        let conditions = status?["conditions"]?.arrayValue ?? []
        if conditions.contains(where: { $0["type"] == "PodScheduled" && $0["reason"] == "SchedulingGated" }) { reason = "SchedulingGated" }
        func exitText(_ terminated: JSONValue) -> String {
            if let signal = terminated["signal"]?.intValue, signal != 0 { return "Signal:\(signal)" }
            return "ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
        }
        var initializing = false
        let initStatuses = status?["initContainerStatuses"]?.arrayValue ?? []
        let initCount = pod.value[path: ["spec", "initContainers"]]?.arrayValue?.count ?? 0
        for (i, container) in initStatuses.enumerated() {
            let terminated = container[path: ["state", "terminated"]]
            let waiting = container[path: ["state", "waiting", "reason"]]?.stringValue ?? ""
            if let terminated, terminated["exitCode"]?.intValue == 0 { continue }
            if let terminated {
                let why = terminated["reason"]?.stringValue ?? ""
                reason = "Init:" + (why.isEmpty ? exitText(terminated) : why)
            } else if !waiting.isEmpty, waiting != "PodInitializing" {
                reason = "Init:" + waiting
            } else {
                reason = "Init:\(i)/\(initCount)"
            }
            initializing = true
            break
        }
        let initialized = conditions.contains { $0["type"] == "Initialized" && $0["status"] == "True" }
        if !initializing || initialized {
            var hasRunning = false
            for container in (status?["containerStatuses"]?.arrayValue ?? []).reversed() {
                let waiting = container[path: ["state", "waiting", "reason"]]?.stringValue ?? ""
                if !waiting.isEmpty {
                    reason = waiting
                } else if let terminated = container[path: ["state", "terminated"]] {
                    let why = terminated["reason"]?.stringValue ?? ""
                    reason = why.isEmpty ? exitText(terminated) : why
                } else if container["ready"]?.boolValue == true, container[path: ["state", "running"]] != nil {
                    hasRunning = true
                }
            }
            if reason == "Completed", hasRunning {
                reason = conditions.contains { $0["type"] == "Ready" && $0["status"] == "True" } ? "Running" : "NotReady"
            }
        }
        if pod.deletionTimestamp != nil {
            if status?["reason"]?.stringValue == "NodeLost" {
                reason = "Unknown"
            } else if phase != "Succeeded", phase != "Failed" {
                reason = "Terminating"
            }
        }
        return reason
    }

    static func format(_ rows: [[String]]) -> String {
        guard let columns = rows.first?.count else { return "" }
        var widths = Array(repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() where i < columns { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 3)
            }.joined()
        }.joined(separator: "\n")
    }

    /// kubectl's `HumanDuration`.
    static func humanDuration(_ d: Duration) -> String {
        let seconds = d.totalNanoseconds / 1_000_000_000
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 192 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        return "\(hours / 24 / 365)y\((hours / 24) % 365)d"
    }
}
