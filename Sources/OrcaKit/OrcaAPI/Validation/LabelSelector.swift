/// A label selector: `matchLabels` and `matchExpressions`, or kubectl's string form
/// (`a=b,c!=d,e in (f,g),!h,k`).
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Requirement: Sendable, Hashable {
        public enum Operator: String, Sendable, Hashable { case equals = "=", notEquals = "!=", `in` = "In", notIn = "NotIn", exists = "Exists", doesNotExist = "DoesNotExist" }
        public var key: String
        public var op: Operator
        public var values: [String]

        public init(key: String, op: Operator, values: [String] = []) {
            self.key = key
            self.op = op
            self.values = values
        }

        public func matches(_ labels: [String: String]) -> Bool {
            switch op {
            case .equals: return labels[key] == values.first
            case .notEquals: return labels[key] != values.first
            case .in: return labels[key].map(values.contains) ?? false
            case .notIn: return labels[key].map { !values.contains($0) } ?? true
            case .exists: return labels[key] != nil
            case .doesNotExist: return labels[key] == nil
            }
        }
    }

    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    /// Matches every object (an empty, non-nil selector).
    public static let everything = LabelSelector()

    /// The selector an object's `spec.selector` declares, in either shape Kubernetes uses: a
    /// `LabelSelector` (`matchLabels`/`matchExpressions`: ReplicaSet, Job, DaemonSet) or a plain
    /// label map (Service). Nil when absent, malformed or empty — an empty selector selects
    /// nothing for a controller.
    public init?(specSelector json: JSONValue?) {
        guard case .object(let o)? = json else { return nil }
        if o["matchLabels"] == nil && o["matchExpressions"] == nil {
            var labels: [String: String] = [:]
            for entry in o { if let v = entry.value.stringValue { labels[entry.key] = v } }
            self.init(matching: labels)
        } else {
            guard let parsed = try? LabelSelector(json: .object(o)) else { return nil }
            self = parsed
        }
        if isEmpty { return nil }
    }

    /// A Service-style selector: every label in `labels` must be equal. Empty selects everything.
    public init(matching labels: [String: String]) {
        requirements = labels.sorted { $0.key < $1.key }.map { Requirement(key: $0.key, op: .equals, values: [$0.value]) }
    }

    public func matches(_ labels: [String: String]) -> Bool { requirements.allSatisfy { $0.matches(labels) } }
    public var isEmpty: Bool { requirements.isEmpty }

    /// Parses the `metav1.LabelSelector` JSON form.
    /// - Throws: ``FieldError``s (as an array) for unknown operators or missing values.
    public init(json: JSONValue, field: String = "spec.selector") throws(FieldErrors) {
        var reqs: [Requirement] = []
        var errors: [FieldError] = []
        if let labels = json["matchLabels"]?.objectValue {
            for entry in labels.entries.sorted(by: { $0.key < $1.key }) {
                reqs.append(Requirement(key: entry.key, op: .equals, values: [entry.value.stringValue ?? ""]))
            }
        }
        for (i, expr) in (json["matchExpressions"]?.arrayValue ?? []).enumerated() {
            let path = "\(field).matchExpressions[\(i)]"
            let key = expr["key"]?.stringValue ?? ""
            let values = expr["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
            switch expr["operator"]?.stringValue {
            case "In", "NotIn":
                if values.isEmpty { errors.append(.required("\(path).values", "must be specified when `operator` is 'In' or 'NotIn'")) }
                reqs.append(Requirement(key: key, op: expr["operator"]?.stringValue == "In" ? .in : .notIn, values: values))
            case "Exists", "DoesNotExist":
                if !values.isEmpty { errors.append(.forbidden("\(path).values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")) }
                reqs.append(Requirement(key: key, op: expr["operator"]?.stringValue == "Exists" ? .exists : .doesNotExist, values: []))
            default:
                errors.append(.invalid("\(path).operator", expr["operator"], "not a valid selector operator"))
            }
        }
        if !errors.isEmpty { throw FieldErrors(errors) }
        requirements = reqs
    }

    /// Parses kubectl's `-l` form: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`.
    /// - Throws: ``ManifestSyntaxError`` naming what could not be parsed.
    public init(parsing text: String) throws(ManifestSyntaxError) {
        var reqs: [Requirement] = []
        // Split on commas that are not inside parentheses.
        var parts: [String] = []
        var depth = 0
        var current = ""
        for c in text {
            if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
            if c == ",", depth == 0 { parts.append(current); current = "" } else { current.append(c) }
        }
        parts.append(current)
        for raw in parts {
            let part = raw.trimmingSpaces
            if part.isEmpty {
                if text.trimmingSpaces.isEmpty { continue }
                throw ManifestSyntaxError(message: "found '', expected: identifier in selector \"\(text)\"")
            }
            let words = part.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if words.count >= 2, ["in", "notin"].contains(words[1].lowercased()) {
                let rest = part.drop { $0 != "(" }
                guard rest.hasPrefix("("), rest.hasSuffix(")") else {
                    throw ManifestSyntaxError(message: "found '\(rest)', expected: '(' in selector \"\(text)\"")
                }
                let values = rest.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingSpaces }
                reqs.append(Requirement(key: words[0], op: words[1].lowercased() == "in" ? .in : .notIn, values: values))
            } else if let r = part.range(of: "!=") {
                reqs.append(Requirement(key: String(part[..<r.lowerBound]).trimmingSpaces, op: .notEquals,
                                        values: [String(part[r.upperBound...]).trimmingSpaces]))
            } else if let r = part.range(of: "==") ?? part.range(of: "=") {
                reqs.append(Requirement(key: String(part[..<r.lowerBound]).trimmingSpaces, op: .equals,
                                        values: [String(part[r.upperBound...]).trimmingSpaces]))
            } else if part.hasPrefix("!") {
                reqs.append(Requirement(key: String(part.dropFirst()).trimmingSpaces, op: .doesNotExist, values: []))
            } else if words.count == 1 {
                reqs.append(Requirement(key: part, op: .exists, values: []))
            } else {
                throw ManifestSyntaxError(message: "unable to parse requirement \"\(part)\" in selector \"\(text)\"")
            }
        }
        for r in reqs where r.key.isEmpty || r.key.contains(" ") {
            throw ManifestSyntaxError(message: "invalid label key \"\(r.key)\" in selector \"\(text)\"")
        }
        requirements = reqs
    }

    public var description: String {
        requirements.map { r in
            switch r.op {
            case .equals: return "\(r.key)=\(r.values.first ?? "")"
            case .notEquals: return "\(r.key)!=\(r.values.first ?? "")"
            case .in: return "\(r.key) in (\(r.values.joined(separator: ",")))"
            case .notIn: return "\(r.key) notin (\(r.values.joined(separator: ",")))"
            case .exists: return r.key
            case .doesNotExist: return "!\(r.key)"
            }
        }.joined(separator: ",")
    }
}

/// Several field errors at once.
public struct FieldErrors: Error, Sendable, Hashable {
    public var errors: [FieldError]
    public init(_ errors: [FieldError]) { self.errors = errors }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
