/// Validation of the workload kinds' specs: selectors and templates, Jobs, DaemonSets.
extension Validation {
    /// `ValidateDaemonSetUpdateStrategy` and `ValidateRollingUpdateDaemonSet`.
    static func validateDaemonSetUpdateStrategy(_ strategy: JSONValue?) -> [FieldError] {
        let type = strategy?["type"]?.stringValue ?? ""
        switch type {
        case "OnDelete":
            return []
        case "RollingUpdate":
            guard let rolling = strategy?["rollingUpdate"], rolling.objectValue != nil else {
                return [.required("spec.updateStrategy.rollingUpdate")]
            }
            var errors: [FieldError] = []
            var values: [String: Int] = [:]
            for field in ["maxUnavailable", "maxSurge"] {
                guard let value = rolling[field], !value.isNull else { continue }
                let (number, fieldErrors) = positiveIntOrPercent(value, path: "spec.updateStrategy.rollingUpdate.\(field)")
                errors += fieldErrors
                values[field] = number
            }
            for field in ["maxUnavailable", "maxSurge"] {
                if let value = rolling[field], value.stringValue != nil, let number = values[field], number > 100 {
                    errors.append(intOrString("spec.updateStrategy.rollingUpdate.\(field)", value, "must not be greater than 100%"))
                }
            }
            let hasUnavailable = (values["maxUnavailable"] ?? 0) != 0, hasSurge = (values["maxSurge"] ?? 0) != 0
            if hasUnavailable && hasSurge {
                errors.append(intOrString("spec.updateStrategy.rollingUpdate.maxSurge", rolling["maxSurge"],
                                       "may not be set when maxUnavailable is non-zero"))
            } else if !hasUnavailable && !hasSurge {
                errors.append(.required("spec.updateStrategy.rollingUpdate.maxUnavailable", "cannot be 0 when maxSurge is 0"))
            }
            return errors
        default:
            return [.notSupported("spec.updateStrategy", .string(type), ["RollingUpdate", "OnDelete"])]
        }
    }

    /// An Invalid error about an `intstr.IntOrString`, whose value Kubernetes prints with Go's
    /// `%#v` (its String method has a pointer receiver): `intstr.IntOrString{Type:1, IntVal:0, StrVal:"25%"}`.
    static func intOrString(_ path: String, _ value: JSONValue?, _ detail: String) -> FieldError {
        let rendered: String
        if let text = value?.stringValue {
            rendered = "intstr.IntOrString{Type:1, IntVal:0, StrVal:\"\(text)\"}"
        } else {
            rendered = "intstr.IntOrString{Type:0, IntVal:\(value?.intValue ?? 0), StrVal:\"\"}"
        }
        return FieldError(.invalid, path, badValue: rendered, detail)
    }

    /// `ValidatePositiveIntOrPercent`: the value (a percentage's number) when it parses, and its errors.
    static func positiveIntOrPercent(_ value: JSONValue, path: String) -> (Int?, [FieldError]) {
        if let text = value.stringValue {
            guard text.hasSuffix("%"), let percent = Int(text.dropLast()), percent >= 0, text.dropLast().allSatisfy(\.isNumber) else {
                return (nil, [intOrString(path, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")])
            }
            return (percent, [])
        }
        if let number = value.intValue {
            // ValidateNonnegativeField prints the plain number.
            return (Int(number), number < 0 ? [.invalid(path, value, "must be greater than or equal to 0")] : [])
        }
        return (nil, [.invalid(path, value, "must be an integer or a percentage")])
    }

    /// `ValidateDeploymentSpec`, in its order.
    static func validateDeploymentSpec(_ v: JSONValue) -> [FieldError] {
        var errors = nonNegative(v, ["spec", "replicas"])
        errors += validateSelectorAndTemplate(v, requireSelector: true)
        if let policy = v[path: ["spec", "template", "spec", "restartPolicy"]]?.stringValue, policy != "Always" {
            errors.append(.notSupported("spec.template.spec.restartPolicy", .string(policy), ["Always"]))
        }
        // ValidateDeploymentStrategy.
        let strategy = v[path: ["spec", "strategy"]]
        switch strategy?["type"]?.stringValue ?? "" {
        case "Recreate":
            if let rolling = strategy?["rollingUpdate"], !rolling.isNull {
                errors.append(.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"))
            }
        case "RollingUpdate":
            guard let rolling = strategy?["rollingUpdate"], rolling.objectValue != nil else {
                errors.append(.required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil"))
                break
            }
            var values: [String: Int] = [:]
            for field in ["maxUnavailable", "maxSurge"] {
                guard let value = rolling[field], !value.isNull else { continue }
                let (number, fieldErrors) = positiveIntOrPercent(value, path: "spec.strategy.rollingUpdate.\(field)")
                errors += fieldErrors
                values[field] = number
            }
            if (values["maxUnavailable"] ?? 0) == 0 && (values["maxSurge"] ?? 0) == 0 {
                errors.append(intOrString("spec.strategy.rollingUpdate.maxUnavailable", rolling["maxUnavailable"] ?? .int(0),
                                       "may not be 0 when `maxSurge` is 0"))
            }
            if let value = rolling["maxUnavailable"], value.stringValue != nil, let percent = values["maxUnavailable"], percent > 100 {
                errors.append(intOrString("spec.strategy.rollingUpdate.maxUnavailable", value, "must not be greater than 100%"))
            }
        default:
            // The internal struct, printed with Go's %#v.
            let type = strategy?["type"]?.stringValue ?? ""
            let rolling = (strategy?["rollingUpdate"]).map { $0.isNull ? "nil" : "0xc000000000" } ?? "nil"
            errors.append(FieldError(.notSupported, "spec.strategy",
                                     badValue: "apps.DeploymentStrategy{Type:\"\(type)\", RollingUpdate:(*apps.RollingUpdateDeployment)(\(rolling))}",
                                     "supported values: \"Recreate\", \"RollingUpdate\""))
        }
        errors += nonNegative(v, ["spec", "minReadySeconds"])
        errors += nonNegative(v, ["spec", "revisionHistoryLimit"])
        if let deadline = v[path: ["spec", "progressDeadlineSeconds"]], !deadline.isNull {
            errors += nonNegative(v, ["spec", "progressDeadlineSeconds"])
            if let seconds = deadline.intValue, seconds <= (v[path: ["spec", "minReadySeconds"]]?.intValue ?? 0) {
                errors.append(.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
            }
        }
        return errors
    }

    /// `ValidateStatefulSetSpec`, in its order.
    static func validateStatefulSetSpec(_ v: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        switch v[path: ["spec", "podManagementPolicy"]]?.stringValue ?? "" {
        case "": errors.append(.required("spec.podManagementPolicy"))
        case "OrderedReady", "Parallel": break
        case let policy: errors.append(.invalid("spec.podManagementPolicy", .string(policy), "must be 'OrderedReady' or 'Parallel'"))
        }
        let strategy = v[path: ["spec", "updateStrategy"]]
        let rolling = strategy?["rollingUpdate"].flatMap { $0.isNull ? nil : $0 }
        switch strategy?["type"]?.stringValue ?? "" {
        case "": errors.append(.required("spec.updateStrategy"))
        case "OnDelete":
            if let rolling {
                // The internal struct, printed with Go's %#v.
                errors.append(FieldError(.invalid, "spec.updateStrategy.rollingUpdate",
                                         badValue: "apps.RollingUpdateStatefulSetStrategy{Partition:\(rolling["partition"]?.intValue ?? 0), MaxUnavailable:(*intstr.IntOrString)(nil)}",
                                         "only allowed for updateStrategy 'RollingUpdate'"))
            }
        case "RollingUpdate":
            if let partition = rolling?["partition"], partition.intValue.map({ $0 < 0 }) == true {
                errors.append(.invalid("spec.updateStrategy.rollingUpdate.partition", partition, "must be greater than or equal to 0"))
            }
        case let type:
            errors.append(FieldError(.invalid, "spec.updateStrategy",
                                     badValue: "apps.StatefulSetUpdateStrategy{Type:\"\(type)\", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}",
                                     "must be 'RollingUpdate' or 'OnDelete'"))
        }
        for field in ["whenDeleted", "whenScaled"] {
            if let policy = v[path: ["spec", "persistentVolumeClaimRetentionPolicy", field]]?.stringValue, policy != "Retain", policy != "Delete" {
                errors.append(.notSupported("spec.persistentVolumeClaimRetentionPolicy.\(field)", .string(policy), ["Retain", "Delete"]))
            }
        }
        errors += nonNegative(v, ["spec", "replicas"])
        errors += nonNegative(v, ["spec", "minReadySeconds"])
        if let start = v[path: ["spec", "ordinals", "start"]], let n = start.intValue, n < 0 {
            errors.append(.invalid("spec.ordinals.start", start, "must be greater than or equal to 0"))
        }
        errors += validateSelectorAndTemplate(v, requireSelector: true, emptySelectorKind: "statefulset")
        let policy = v[path: ["spec", "template", "spec", "restartPolicy"]]?.stringValue ?? ""
        if policy != "Always" { errors.append(.notSupported("spec.template.spec.restartPolicy", .string(policy), ["Always"])) }
        if v[path: ["spec", "template", "spec", "activeDeadlineSeconds"]] != nil {
            errors.append(.forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in StatefulSet is not Supported"))
        }
        return errors
    }

    /// `ValidateCronJobCreate`: the name (a Job name is the CronJob's plus 11 characters), the
    /// schedule and time zone, the concurrency policy, the limits and the job template.
    static func validateCronJob(_ object: Unstructured) -> [FieldError] {
        let v = object.value
        var errors: [FieldError] = []
        if object.name.count > 52 {
            errors.append(.invalid("metadata.name", .string(object.name), "must be no more than 52 characters"))
        }
        if let schedule = v[path: ["spec", "schedule"]]?.stringValue, !schedule.isEmpty {
            do { _ = try CronSchedule(parsing: schedule) } catch {
                errors.append(.invalid("spec.schedule", .string(schedule), error.message))
            }
            if schedule.contains("TZ") {
                errors.append(.invalid("spec.schedule", .string(schedule), "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
            }
        } else {
            errors.append(.required("spec.schedule"))
        }
        errors += nonNegative(v, ["spec", "startingDeadlineSeconds"])
        if let zone = v[path: ["spec", "timeZone"]], !zone.isNull {
            let name = zone.stringValue ?? ""
            if name.isEmpty {
                errors.append(.invalid("spec.timeZone", zone, "timeZone must be nil or non-empty string"))
            } else if name.lowercased() == "local" {
                errors.append(.invalid("spec.timeZone", zone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"))
            } else if !CronSchedule.isKnownTimeZone(name) {
                errors.append(.invalid("spec.timeZone", zone, "unknown time zone \(name)"))
            }
        }
        switch v[path: ["spec", "concurrencyPolicy"]]?.stringValue ?? "" {
        case "Allow", "Forbid", "Replace": break
        case "": errors.append(.required("spec.concurrencyPolicy"))
        case let policy: errors.append(.notSupported("spec.concurrencyPolicy", .string(policy), ["Allow", "Forbid", "Replace"]))
        }
        // The job template's spec, as a Job's (its selector is generated when the Job is made).
        var template = JSONValue.object(JSONObject())
        template["spec"] = v[path: ["spec", "jobTemplate", "spec"]] ?? .object(JSONObject())
        for field in ["parallelism", "completions", "backoffLimit"] {
            errors += nonNegative(template, ["spec", field]).map { FieldError($0.kind, "spec.jobTemplate." + $0.field, badValue: $0.badValue, $0.detail) }
        }
        if let t = template[path: ["spec", "template"]], !t.isNull {
            errors += validatePodSpec(t["spec"], path: "spec.jobTemplate.spec.template.spec")
        } else {
            errors.append(.required("spec.jobTemplate.spec.template"))
        }
        let policy = template[path: ["spec", "template", "spec", "restartPolicy"]]?.stringValue ?? ""
        if policy != "OnFailure" && policy != "Never" {
            errors.append(.notSupported("spec.jobTemplate.spec.template.spec.restartPolicy", .string(policy), ["OnFailure", "Never"]))
        }
        errors += nonNegative(v, ["spec", "successfulJobsHistoryLimit"])
        errors += nonNegative(v, ["spec", "failedJobsHistoryLimit"])
        return errors
    }

    /// backoffLimitPerIndex, maxFailedIndexes and successPolicy (`validateJobSpec`): all three
    /// need Indexed completion mode.
    static func validateJobIndexPolicies(_ v: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let indexed = v[path: ["spec", "completionMode"]]?.stringValue == "Indexed"
        let completions = v[path: ["spec", "completions"]]?.intValue
        let perIndex = v[path: ["spec", "backoffLimitPerIndex"]].flatMap { $0.isNull ? nil : $0 }
        let maxFailed = v[path: ["spec", "maxFailedIndexes"]].flatMap { $0.isNull ? nil : $0 }
        if perIndex != nil { errors += nonNegative(v, ["spec", "backoffLimitPerIndex"]) }
        if let maxFailed {
            errors += nonNegative(v, ["spec", "maxFailedIndexes"])
            if perIndex == nil { errors.append(.required("spec.backoffLimitPerIndex", "when maxFailedIndexes is specified")) }
            if indexed, let completions, let m = maxFailed.intValue, m > completions {
                errors.append(.invalid("spec.maxFailedIndexes", maxFailed, "must be less than or equal to completions"))
            }
        }
        if !indexed {
            if let perIndex { errors.append(.invalid("spec.backoffLimitPerIndex", perIndex, "requires indexed completion mode")) }
            if let maxFailed { errors.append(.invalid("spec.maxFailedIndexes", maxFailed, "requires indexed completion mode")) }
        }
        guard let policy = v[path: ["spec", "successPolicy"]], !policy.isNull else { return errors }
        guard indexed else {
            errors.append(.invalid("spec.successPolicy", policy, "requires indexed completion mode"))
            return errors
        }
        let rules = policy["rules"]?.arrayValue ?? []
        if rules.isEmpty {
            errors.append(.required("spec.successPolicy.rules", "at least one rules must be specified when the successPolicy is specified"))
        }
        if rules.count > 20 {
            errors.append(.invalid("spec.successPolicy.rules", .int(Int64(rules.count)), "must have at most 20 items"))
        }
        let total = Int(completions ?? 0)
        for (i, rule) in rules.enumerated() {
            let path = "spec.successPolicy.rules[\(i)]"
            let indexes = rule["succeededIndexes"].flatMap { $0.isNull ? nil : $0 }
            let count = rule["succeededCount"].flatMap { $0.isNull ? nil : $0 }
            if indexes == nil && count == nil {
                errors.append(.required(path, "at least one of succeededCount or succeededIndexes must be specified"))
            }
            var indexTotal: Int?
            if let indexes {
                switch indexFormat(indexes.stringValue ?? "", completions: total) {
                case .success(let n): indexTotal = n
                case .failure(let message):
                    errors.append(.invalid(path + ".succeededIndexes", indexes, "error parsing succeededIndexes: \(message.text)"))
                }
            }
            if let count {
                guard let n = count.intValue else {
                    errors.append(.invalid(path + ".succeededCount", count, "must be an integer"))
                    continue
                }
                if n < 0 { errors.append(.invalid(path + ".succeededCount", count, "must be greater than or equal to 0")) }
                if n > total {
                    errors.append(.invalid(path + ".succeededCount", count, "must be less than or equal to \(total) (the number of specified completions)"))
                }
                if indexes != nil, let indexTotal, n > indexTotal {
                    errors.append(.invalid(path + ".succeededCount", count,
                                           "must be less than or equal to \(indexTotal) (the number of indexes in the specified succeededIndexes field)"))
                }
            }
        }
        return errors
    }

    struct IndexFormatError: Error { var text: String }

    /// `validateIndexesFormat`: "1,3-5" — increasing, below completions; the number of indexes.
    static func indexFormat(_ text: String, completions: Int) -> Result<Int, IndexFormatError> {
        if text.isEmpty { return .success(0) }
        var last: Int?
        var total = 0
        for interval in text.split(separator: ",", omittingEmptySubsequences: false) {
            let limits = interval.split(separator: "-", omittingEmptySubsequences: false)
            if limits.count > 2 {
                return .failure(IndexFormatError(text: "the fragment \"\(interval)\" violates the requirement that an index interval can have at most two parts separated by '-'"))
            }
            guard let x = Int32(limits[0]) else {
                return .failure(IndexFormatError(text: "cannot convert string to integer for index: \"\(limits[0])\""))
            }
            if Int(x) >= completions { return .failure(IndexFormatError(text: "too large index: \"\(limits[0])\"")) }
            if let last, last >= Int(x) { return .failure(IndexFormatError(text: "non-increasing order, previous: \(last), current: \(x)")) }
            total += 1
            last = Int(x)
            if limits.count > 1 {
                guard let y = Int32(limits[1]) else {
                    return .failure(IndexFormatError(text: "cannot convert string to integer for index: \"\(limits[1])\""))
                }
                if Int(y) >= completions { return .failure(IndexFormatError(text: "too large index: \"\(limits[1])\"")) }
                if Int(x) >= Int(y) { return .failure(IndexFormatError(text: "non-increasing order, previous: \(x), current: \(y)")) }
                total += Int(y) - Int(x)
                last = Int(y)
            }
        }
        return .success(total)
    }

    static func nonNegative(_ v: JSONValue, _ path: [String]) -> [FieldError] {
        guard let value = v[path: path], !value.isNull else { return [] }
        guard let i = value.intValue else {
            return [.invalid(path.joined(separator: "."), value, "must be an integer")]
        }
        return i < 0 ? [.invalid(path.joined(separator: "."), value, "must be greater than or equal to 0")] : []
    }

    static func validateSelectorAndTemplate(_ v: JSONValue, requireSelector: Bool, emptySelectorKind: String = "deployment") -> [FieldError] {
        var errors: [FieldError] = []
        let selectorJSON = v[path: ["spec", "selector"]]
        var selector: LabelSelector?
        if let selectorJSON, !selectorJSON.isNull {
            do {
                selector = try LabelSelector(json: selectorJSON)
                if selector?.isEmpty == true {
                    errors.append(.invalid("spec.selector", selectorJSON, "empty selector is invalid for \(emptySelectorKind)"))
                }
            } catch { errors += error.errors }
        } else if requireSelector {
            errors.append(.required("spec.selector"))
        }
        let template = v[path: ["spec", "template"]]
        guard let template, !template.isNull else {
            errors.append(.required("spec.template"))
            return errors
        }
        let labels = Unstructured(template).labels
        if let selector, !selector.isEmpty, !selector.matches(labels) {
            errors.append(.invalid("spec.template.metadata.labels", template[path: ["metadata", "labels"]] ?? .object(JSONObject()),
                                   "`selector` does not match template `labels`"))
        }
        errors += validatePodSpec(template["spec"], path: "spec.template.spec")
        return errors
    }
}
