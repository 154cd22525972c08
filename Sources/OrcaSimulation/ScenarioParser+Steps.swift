import Orca
import KubeletSimulator
import Yams

extension Scenario {
    static func parseStep(_ field: Field, index: Int) throws(ScenarioError) -> Step {
        let entries = try field.entries(allowed: [
            "at", "apply", "patch", "merge", "subresource", "delete", "gracePeriodSeconds", "force", "propagationPolicy",
            "node", "pod", "action", "container", "exitCode", "type", "status", "reason", "message",
            "runFor", "exitCodes", "readyAfter", "ignoreSigterm", "startAfter", "fault", "kind", "controller", "by",
        ])
        var values: [String: Field] = [:]
        for (k, v) in entries { values[k] = v }
        guard let atField = values["at"] else { throw field.error("at: Required value (the step's time, such as 30s)") }
        let at = try atField.duration()
        let line = field.line ?? 0
        func step(_ action: Step.Action) -> Step { Step(at: at, line: line, index: index, action: action) }
        func string(_ key: String) throws(ScenarioError) -> String? { try values[key].map { f throws(ScenarioError) in try f.string() } }
        func require(_ key: String, _ what: String) throws(ScenarioError) -> Field {
            guard let f = values[key] else { throw field.error("\(key): Required value (\(what))") }
            return f
        }
        let verbs = ["apply", "patch", "delete", "node", "pod", "fault"].filter { values[$0] != nil }
        guard verbs.count == 1 else {
            throw field.error(verbs.isEmpty ? "a step needs one of apply, patch, delete, node, pod or fault"
                                            : "a step has exactly one of apply, patch, delete, node, pod or fault (found \(verbs.joined(separator: ", ")))")
        }
        switch verbs[0] {
        case "apply":
            return step(.apply(try values["apply"]!.manifests()))
        case "patch":
            let target = try parseTarget(values["patch"]!)
            let merge = try require("merge", "the JSON merge patch").json()
            guard merge.objectValue != nil else { throw values["merge"]!.error("must be a mapping") }
            var subresource = Subresource.main
            if let sub = try string("subresource") {
                // `finalize`: a Namespace's spec.finalizers, as `kubectl replace --raw …/finalize`.
                guard sub == "status" || (sub == "finalize" && target.kind == "Namespace") else {
                    throw values["subresource"]!.error("must be status (or finalize, for a Namespace)")
                }
                subresource = sub == "status" ? .status : .finalize
            }
            return step(.patch(target, merge: merge, subresource: subresource))
        case "delete":
            let deleteField = values["delete"]!
            var options = DeleteOptions()
            var targetNode = deleteField.node
            // Options may sit inside `delete:` or beside it.
            if case .mapping(var mapping) = deleteField.node {
                for key in ["gracePeriodSeconds", "force", "propagationPolicy"] {
                    if let v = mapping[Yams.Node(key)] {
                        values[key] = deleteField.child(key, v)
                        mapping[Yams.Node(key)] = nil
                    }
                }
                targetNode = .mapping(mapping)
            }
            let target = try parseTarget(Field(node: targetNode, path: deleteField.path, file: deleteField.file))
            if let g = values["gracePeriodSeconds"] {
                let grace = try g.int()
                guard grace >= 0 else { throw g.error("must not be negative") }
                options.gracePeriodSeconds = Int64(grace)
            }
            if let f = values["force"], try f.bool() { options.gracePeriodSeconds = 0 }
            if let p = values["propagationPolicy"] {
                guard let policy = PropagationPolicy(rawValue: try p.string()) else {
                    throw p.error("must be Background, Foreground or Orphan")
                }
                options.propagationPolicy = policy
            }
            return step(.delete(target, options))
        case "node":
            let node = try values["node"]!.string()
            let actionField = try require("action", "stop-heartbeat, resume-heartbeat, set-condition, cordon, uncordon or delete")
            switch try actionField.string() {
            case "stop-heartbeat": return step(.node(node, .stopHeartbeat))
            case "resume-heartbeat": return step(.node(node, .resumeHeartbeat))
            case "cordon": return step(.node(node, .cordon))
            case "uncordon": return step(.node(node, .uncordon))
            case "delete": return step(.node(node, .delete))
            case "set-condition":
                let type = try require("type", "the condition type, such as Ready").string()
                let status = try require("status", "True, False or Unknown").string()
                guard ["True", "False", "Unknown"].contains(status) else { throw values["status"]!.error("must be True, False or Unknown") }
                let reason = try string("reason")
                let message = try string("message")
                return step(.node(node, .setCondition(Condition(type: type, status: status, reason: reason, message: message))))
            case let other:
                throw actionField.error("unknown node action \"\(other)\" (known: stop-heartbeat, resume-heartbeat, set-condition, cordon, uncordon, delete)")
            }
        case "pod":
            let target = try parseTarget(values["pod"]!)
            let actionField = try require("action", "exit, set-ready, set-unready, fail-liveness, evict or set-behavior")
            switch try actionField.string() {
            case "exit":
                let code = try values["exitCode"].map { f throws(ScenarioError) in try f.int() } ?? 0
                return step(.pod(target, .exit(container: try string("container"), exitCode: code)))
            case "set-ready": return step(.pod(target, .setReady(true)))
            case "set-unready": return step(.pod(target, .setReady(false)))
            case "fail-liveness": return step(.pod(target, .failLiveness(container: try string("container"))))
            case "evict": return step(.pod(target, .evict))
            case "set-behavior":
                var change = BehaviorChange()
                if let f = values["startAfter"] { change.startAfter = try f.duration() }
                if let f = values["runFor"] { change.runFor = .some(try f.duration()) }
                if let f = values["readyAfter"] { change.readyAfter = .some(try f.duration()) }
                if let f = values["exitCode"] { change.exitCodes = [try f.int()] }
                if let f = values["exitCodes"] {
                    let text = try f.string()
                    let codes = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                    guard !codes.isEmpty, codes.allSatisfy({ $0 != nil }) else { throw f.error("must be a list of exit codes such as 1,1,0") }
                    change.exitCodes = codes.compactMap { $0 }
                }
                if let f = values["ignoreSigterm"] { change.ignoreSigterm = try f.bool() }
                return step(.pod(target, .setBehavior(change)))
            case let other:
                throw actionField.error("unknown pod action \"\(other)\" (known: exit, set-ready, set-unready, fail-liveness, evict, set-behavior)")
            }
        default:
            let faultField = values["fault"]!
            let fault = try faultField.string()
            guard fault == "delay-watch" else { throw faultField.error("unknown fault \"\(fault)\" (known: delay-watch)") }
            let kind = try require("kind", "the kind whose events are delayed").string()
            let controller = try require("controller", "the controller that sees them late").string()
            let by = try require("by", "the delay, such as 5s").duration()
            return step(.delayWatch(kind: kind, controller: controller, by: by))
        }
    }

    static func parseTarget(_ field: Field) throws(ScenarioError) -> Target {
        if case .scalar = field.node {
            var t = Target()
            t.name = try field.string()
            return t
        }
        var target = Target()
        for (key, value) in try field.entries(allowed: ["kind", "name", "namespace", "selector", "ordinal"]) {
            switch key {
            case "kind":
                let name = try value.string()
                guard let kind = ResourceKind.lookup(name) else { throw value.error("unknown kind \"\(name)\"") }
                target.kind = kind.kind
            case "name": target.name = try value.string()
            case "namespace": target.namespace = try value.string()
            case "selector":
                let text = try value.string()
                do {
                    target.selector = try LabelSelector(parsing: text)
                } catch {
                    throw value.error("invalid selector \"\(text)\": \(error)")
                }
                target.selectorText = text
            case "ordinal":
                target.ordinal = try value.int()
                guard target.ordinal >= 0 else { throw value.error("must not be negative") }
            default: break
            }
        }
        if ResourceKind.forKind(target.kind)?.namespaced == false { target.namespace = "" }
        guard (target.name == nil) != (target.selector == nil) else {
            throw field.error("name the object by name, or by selector and ordinal (exactly one of them)")
        }
        return target
    }

    static func parseExpectation(_ field: Field, index: Int) throws(ScenarioError) -> Expectation {
        var e = Expectation(line: field.line ?? 0, index: index)
        for (key, value) in try field.entries() {
            switch key {
            case "kind":
                let name = try value.string()
                guard let kind = ResourceKind.lookup(name) else { throw value.error("unknown kind \"\(name)\"") }
                e.kind = kind.kind
                if !kind.namespaced { e.namespace = "" }
            case "apiVersion": _ = try value.string()
            case "namespace":
                let ns = try value.string()
                e.namespace = ns == "*" ? nil : ns
            case "allNamespaces": if try value.bool() { e.namespace = nil }
            case "name": e.name = try value.string()
            case "selector":
                let text = try value.string()
                do {
                    e.selector = try LabelSelector(parsing: text)
                } catch {
                    throw value.error("invalid selector \"\(text)\": \(error)")
                }
                e.selectorText = text
            case "at": e.at = try value.duration()
            case "count":
                let count = try value.int()
                guard count >= 0 else { throw value.error("must not be negative") }
                e.count = count
            case "phase": e.phase = try value.string()
            case "node", "onNode": e.onNode = try value.string()
            case "notOnNode": e.notOnNode = try value.string()
            case "ready": e.ready = try value.bool()
            case "terminating": e.terminating = try value.bool()
            case "exists": e.count = try value.bool() ? e.count : 0
            case "metadata", "spec", "status", "subsets", "reason", "message", "involvedObject", "source", "type", "data",
                 "action", "reportingComponent", "reportingInstance", "eventTime", "series", "firstTimestamp", "lastTimestamp":
                e.fields.append((path: [key], value: try value.json()))
            case "object":
                // A subset of the whole object, for top-level fields with no key of their own
                // (an Event's count, firstTimestamp, lastTimestamp).
                let json = try value.json()
                guard json.objectValue != nil else { throw value.error("must be a map (a subset of the object)") }
                e.fields.append((path: [], value: json))
            default:
                guard key.contains(".") else {
                    throw value.error("unknown expectation field \"\(key)\" (known: kind, namespace, name, selector, at, count, phase, node, notOnNode, ready, terminating, exists, metadata, spec, status, subsets, reason, message, involvedObject, source, type, data, an Event's action, reportingComponent, reportingInstance, eventTime, series, firstTimestamp and lastTimestamp, object, or a dotted path such as status.readyReplicas)")
                }
                e.fields.append((path: key.split(separator: ".").map(String.init), value: try value.json()))
            }
        }
        if ResourceKind.forKind(e.kind)?.namespaced == false { e.namespace = "" }
        return e
    }
}
