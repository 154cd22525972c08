/// Kubernetes' defaulting (the `SetDefaults_*` functions of each API group), applied to the JSON
/// tree so that fields Orca does not model are untouched.
public enum Defaults {
    /// Fills defaults of a built-in kind in place.
    public static func apply(to object: inout JSONValue, kind: ResourceKind) {
        switch kind.kind {
        case "Namespace":
            // SetDefaults_Namespace: the immutable name label, on every write.
            if object["metadata"]?.objectValue != nil, let name = object[path: ["metadata", "name"]]?.stringValue, !name.isEmpty {
                if object[path: ["metadata", "labels"]]?.objectValue == nil { object[path: ["metadata", "labels"]] = .object(JSONObject()) }
                object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(name)
            }
        case "Pod":
            if var spec = object["spec"] {
                defaultPodSpec(&spec)
                // SetDefaults_Pod: on pods only, not on the pod templates of workloads.
                if spec.objectValue != nil, spec["enableServiceLinks"] == nil { spec["enableServiceLinks"] = true }
                object["spec"] = spec
            }
        case "ReplicaSet":
            setIfAbsent(&object, ["spec", "replicas"], 1)
            defaultTemplate(&object)
        case "Deployment":
            // apps/v1 SetDefaults_Deployment.
            setIfAbsent(&object, ["spec", "replicas"], 1)
            setIfAbsent(&object, ["spec", "strategy", "type"], "RollingUpdate")
            if object[path: ["spec", "strategy", "type"]]?.stringValue == "RollingUpdate" {
                setIfAbsent(&object, ["spec", "strategy", "rollingUpdate", "maxUnavailable"], "25%")
                setIfAbsent(&object, ["spec", "strategy", "rollingUpdate", "maxSurge"], "25%")
            }
            setIfAbsent(&object, ["spec", "revisionHistoryLimit"], 10)
            setIfAbsent(&object, ["spec", "progressDeadlineSeconds"], 600)
            defaultTemplate(&object)
        case "StatefulSet":
            // apps/v1 SetDefaults_StatefulSet (StatefulSetAutoDeletePVC on; MaxUnavailableStatefulSet off).
            setIfAbsent(&object, ["spec", "podManagementPolicy"], "OrderedReady")
            if (object[path: ["spec", "updateStrategy", "type"]]?.stringValue ?? "").isEmpty {
                setIfAbsent(&object, ["spec", "updateStrategy", "type"], "RollingUpdate")
                if object[path: ["spec", "updateStrategy", "rollingUpdate"]] == nil {
                    object[path: ["spec", "updateStrategy", "rollingUpdate"]] = .object(JSONObject())
                }
            }
            if object[path: ["spec", "updateStrategy", "type"]]?.stringValue == "RollingUpdate",
               object[path: ["spec", "updateStrategy", "rollingUpdate"]]?.objectValue != nil {
                setIfAbsent(&object, ["spec", "updateStrategy", "rollingUpdate", "partition"], 0)
            }
            setIfAbsent(&object, ["spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted"], "Retain")
            setIfAbsent(&object, ["spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"], "Retain")
            setIfAbsent(&object, ["spec", "replicas"], 1)
            setIfAbsent(&object, ["spec", "revisionHistoryLimit"], 10)
            defaultTemplate(&object)
        case "DaemonSet":
            if object[path: ["spec", "updateStrategy", "type"]] == nil {
                setIfAbsent(&object, ["spec", "updateStrategy", "type"], "RollingUpdate")
            }
            if object[path: ["spec", "updateStrategy", "type"]]?.stringValue == "RollingUpdate" {
                setIfAbsent(&object, ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"], 1)
                setIfAbsent(&object, ["spec", "updateStrategy", "rollingUpdate", "maxSurge"], 0)
            }
            setIfAbsent(&object, ["spec", "revisionHistoryLimit"], 10)
            defaultTemplate(&object)
        case "Job":
            if object[path: ["spec", "completions"]] == nil, object[path: ["spec", "parallelism"]] == nil {
                setIfAbsent(&object, ["spec", "completions"], 1)
            }
            setIfAbsent(&object, ["spec", "parallelism"], 1)
            setIfAbsent(&object, ["spec", "backoffLimit"], object[path: ["spec", "backoffLimitPerIndex"]] == nil ? 6 : 2_147_483_647)
            setIfAbsent(&object, ["spec", "completionMode"], "NonIndexed")
            setIfAbsent(&object, ["spec", "suspend"], false)
            let failurePolicy = object[path: ["spec", "podFailurePolicy"]]
            setIfAbsent(&object, ["spec", "podReplacementPolicy"], failurePolicy == nil ? "TerminatingOrFailed" : "Failed")
            setIfAbsent(&object, ["spec", "manualSelector"], false)
            if var rules = failurePolicy?["rules"]?.arrayValue {
                // SetDefaults_PodFailurePolicyOnPodConditionsPattern: a pattern's status is "True".
                for i in rules.indices {
                    guard var patterns = rules[i]["onPodConditions"]?.arrayValue else { continue }
                    for j in patterns.indices where patterns[j].objectValue != nil && patterns[j]["status"] == nil {
                        patterns[j]["status"] = "True"
                    }
                    rules[i]["onPodConditions"] = .array(patterns)
                }
                object[path: ["spec", "podFailurePolicy", "rules"]] = .array(rules)
            }
            defaultJobLabels(&object)
            // A Job's template keeps an empty restartPolicy empty: validation requires OnFailure/Never.
            if var spec = object[path: ["spec", "template", "spec"]] {
                let hadPolicy = spec["restartPolicy"] != nil
                defaultPodSpec(&spec)
                if !hadPolicy { spec["restartPolicy"] = nil }
                object[path: ["spec", "template", "spec"]] = spec
            }
            nullTemplateCreationTimestamp(&object)
        case "CronJob":
            // batch/v1 SetDefaults_CronJob; the job template's pod spec as a Job's.
            setIfAbsent(&object, ["spec", "concurrencyPolicy"], "Allow")
            setIfAbsent(&object, ["spec", "suspend"], false)
            setIfAbsent(&object, ["spec", "successfulJobsHistoryLimit"], 3)
            setIfAbsent(&object, ["spec", "failedJobsHistoryLimit"], 1)
            if var spec = object[path: ["spec", "jobTemplate", "spec", "template", "spec"]] {
                let hadPolicy = spec["restartPolicy"] != nil
                defaultPodSpec(&spec)
                if !hadPolicy { spec["restartPolicy"] = nil }
                object[path: ["spec", "jobTemplate", "spec", "template", "spec"]] = spec
            }
            for path in [["spec", "jobTemplate"], ["spec", "jobTemplate", "spec", "template"]] where object[path: path]?.objectValue != nil {
                var metadata = object[path: path + ["metadata"]]?.objectValue ?? JSONObject()
                if metadata["creationTimestamp"] == nil {
                    metadata["creationTimestamp"] = .null
                    object[path: path + ["metadata"]] = .object(metadata.ordered(first: ["name", "generateName", "namespace", "creationTimestamp"]))
                }
            }
        case "PriorityClass":
            setIfAbsent(&object, ["preemptionPolicy"], "PreemptLowerPriority")
        case "Service":
            setIfAbsent(&object, ["spec", "type"], "ClusterIP")
            setIfAbsent(&object, ["spec", "sessionAffinity"], "None")
            if var ports = object[path: ["spec", "ports"]]?.arrayValue {
                for i in ports.indices {
                    if ports[i]["protocol"] == nil { ports[i]["protocol"] = "TCP" }
                    if ports[i]["targetPort"] == nil, let port = ports[i]["port"] { ports[i]["targetPort"] = port }
                }
                object[path: ["spec", "ports"]] = .array(ports)
            }
        default: break
        }
    }

    static func defaultTemplate(_ object: inout JSONValue) {
        if var spec = object[path: ["spec", "template", "spec"]] {
            defaultPodSpec(&spec)
            object[path: ["spec", "template", "spec"]] = spec
        }
        nullTemplateCreationTimestamp(&object)
    }

    /// Go serialises a pod template's ObjectMeta with its zero `creationTimestamp` as `null`, so
    /// every workload the API returns carries `template.metadata.creationTimestamp: null`.
    static func nullTemplateCreationTimestamp(_ object: inout JSONValue) {
        guard object[path: ["spec", "template"]]?.objectValue != nil else { return }
        var metadata = object[path: ["spec", "template", "metadata"]]?.objectValue ?? JSONObject()
        guard metadata["creationTimestamp"] == nil else { return }
        metadata["creationTimestamp"] = .null
        object[path: ["spec", "template", "metadata"]] = .object(metadata.ordered(first: ["name", "generateName", "namespace", "creationTimestamp"]))
    }

    /// SetDefaults_Job's labels: a Job without labels takes its template's, when the template has
    /// a labels map (even an empty one). The API server defaults every write, status updates
    /// included, so a Job created without any labels gains its template's generated labels at its
    /// first status update.
    public static func defaultJobLabels(_ object: inout JSONValue) {
        guard let templateLabels = object[path: ["spec", "template", "metadata", "labels"]], templateLabels.objectValue != nil,
              (object[path: ["metadata", "labels"]]?.objectValue ?? [:]).isEmpty else { return }
        if object["metadata"]?.objectValue == nil { object["metadata"] = .object(JSONObject()) }
        object[path: ["metadata", "labels"]] = templateLabels
    }

    static func setIfAbsent(_ object: inout JSONValue, _ path: [String], _ value: JSONValue) {
        if object[path: path] == nil || object[path: path]?.isNull == true {
            // Create intermediate objects as needed.
            for depth in 1..<path.count where object[path: Array(path.prefix(depth))]?.objectValue == nil {
                object[path: Array(path.prefix(depth))] = .object(JSONObject())
            }
            object[path: path] = value
        }
    }

    /// `SetDefaults_PodSpec` and `SetDefaults_Container`.
    public static func defaultPodSpec(_ spec: inout JSONValue) {
        guard spec.objectValue != nil else { return }
        if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
        if spec["terminationGracePeriodSeconds"] == nil { spec["terminationGracePeriodSeconds"] = 30 }
        if spec["dnsPolicy"] == nil { spec["dnsPolicy"] = "ClusterFirst" }
        if spec["securityContext"] == nil { spec["securityContext"] = .object(JSONObject()) }
        if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
        for list in ["initContainers", "containers"] {
            guard var containers = spec[list]?.arrayValue else { continue }
            for i in containers.indices where containers[i].objectValue != nil {
                var c = containers[i]
                if c["imagePullPolicy"] == nil, let image = c["image"]?.stringValue {
                    c["imagePullPolicy"] = .string(imageTag(image) == "latest" ? "Always" : "IfNotPresent")
                }
                if c["terminationMessagePath"] == nil { c["terminationMessagePath"] = "/dev/termination-log" }
                if c["terminationMessagePolicy"] == nil { c["terminationMessagePolicy"] = "File" }
                if c["resources"] == nil { c["resources"] = .object(JSONObject()) }
                // Limits without requests: requests default to the limits.
                if let limits = c[path: ["resources", "limits"]]?.objectValue {
                    for entry in limits where c[path: ["resources", "requests", entry.key]] == nil {
                        if c[path: ["resources", "requests"]]?.objectValue == nil { c[path: ["resources", "requests"]] = .object(JSONObject()) }
                        c[path: ["resources", "requests", entry.key]] = entry.value
                    }
                }
                if var ports = c["ports"]?.arrayValue {
                    for j in ports.indices where ports[j]["protocol"] == nil { ports[j]["protocol"] = "TCP" }
                    c["ports"] = .array(ports)
                }
                containers[i] = c
            }
            spec[list] = .array(containers)
        }
    }

    /// The tag of an image reference; `latest` when none is given (and no digest).
    static func imageTag(_ image: String) -> String {
        if image.contains("@") { return "" }
        let lastComponent = image.split(separator: "/").last.map(String.init) ?? image
        if let colon = lastComponent.lastIndex(of: ":") { return String(lastComponent[lastComponent.index(after: colon)...]) }
        return "latest"
    }

    /// The QoS class of a pod spec (`GetPodQOS`).
    public static func qosClass(_ spec: JSONValue?) -> String {
        let containers = (spec?["containers"]?.arrayValue ?? []) + (spec?["initContainers"]?.arrayValue ?? [])
        var anyRequestOrLimit = false
        var guaranteed = true
        for c in containers {
            let requests = c[path: ["resources", "requests"]]?.objectValue ?? JSONObject()
            let limits = c[path: ["resources", "limits"]]?.objectValue ?? JSONObject()
            for name in ["cpu", "memory"] {
                let r = requests[name].flatMap { Quantity($0.stringValue ?? $0.jsonString()) }
                let l = limits[name].flatMap { Quantity($0.stringValue ?? $0.jsonString()) }
                if (r?.milliValue ?? 0) != 0 || (l?.milliValue ?? 0) != 0 { anyRequestOrLimit = true }
                if l == nil || (r != nil && r != l) { guaranteed = false }
            }
        }
        if !anyRequestOrLimit { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }

    /// The DefaultTolerationSeconds admission plugin: pods that do not tolerate the not-ready and
    /// unreachable NoExecute taints get tolerations for them with `tolerationSeconds`.
    public static func addDefaultTolerations(to spec: inout JSONValue, seconds: Int64 = 300) {
        var tolerations = spec["tolerations"]?.arrayValue ?? []
        func tolerates(_ key: String) -> Bool {
            tolerations.contains { t in
                let effect = t["effect"]?.stringValue ?? ""
                guard effect.isEmpty || effect == "NoExecute" else { return false }
                let tKey = t["key"]?.stringValue ?? ""
                let op = t["operator"]?.stringValue ?? "Equal"
                if tKey.isEmpty { return op == "Exists" }
                return tKey == key
            }
        }
        var added = false
        for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] where !tolerates(key) {
            tolerations.append(["key": .string(key), "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": .int(seconds)])
            added = true
        }
        if added { spec["tolerations"] = .array(tolerations) }
    }
}
