public import Yams

/// A problem in a YAML or JSON manifest, with its position when known.
public struct ManifestSyntaxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int?
    public var column: Int?
    public init(message: String, line: Int? = nil, column: Int? = nil) {
        self.message = message
        self.line = line
        self.column = column
    }
    public var description: String {
        if let line { return "line \(line)" + (column.map { ", column \($0)" } ?? "") + ": \(message)" }
        return message
    }
}

extension JSONValue {
    /// Parses every YAML document in `text` (YAML 1.1 scalars, as kubectl's decoder reads them).
    /// Empty documents are skipped. JSON is valid YAML, so JSON manifests parse here too.
    ///
    /// - Throws: ``ManifestSyntaxError`` with the line of the problem.
    public static func parseYAMLDocuments(_ text: String) throws -> [JSONValue] {
        var documents: [JSONValue] = []
        do {
            var sequence = try Yams.compose_all(yaml: text)
            while let node = sequence.next() {
                let value = try fromYAML(node)
                if !value.isNull { documents.append(value) }
            }
            // The sequence stops at a syntax error and keeps it rather than throwing.
            if let error = sequence.error { throw error }
        } catch let error as YamlError {
            throw ManifestSyntaxError(yamlError: error)
        }
        return documents
    }

    /// Converts one composed YAML node (YAML 1.1 scalars, as kubectl reads them).
    public static func fromYAML(_ node: Yams.Node) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return .bool(node.bool ?? false)
            case .int:
                if let i = Int64(scalar.string) { return .int(i) }
                if let i = node.int { return .int(Int64(i)) }
                return .string(scalar.string)
            case .float:
                guard let d = node.float, d.isFinite else {
                    throw ManifestSyntaxError(message: "the value \(scalar.string) is not a finite number",
                                              line: node.mark?.line, column: node.mark?.column)
                }
                return .double(d)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var object = JSONObject()
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ManifestSyntaxError(message: "a mapping key must be a scalar",
                                              line: key.mark?.line, column: key.mark?.column)
                }
                if Tag.Name(rawValue: key.tag.rawValue) == .merge {
                    // `<<: *anchor` merges the aliased mapping's keys (without overriding).
                    if case .object(let merged) = try fromYAML(value) {
                        for entry in merged where object[entry.key] == nil { object[entry.key] = entry.value }
                    }
                    continue
                }
                object[keyScalar.string] = try fromYAML(value)
            }
            return .object(object)
        case .sequence(let sequence):
            return .array(try sequence.map { try fromYAML($0) })
        case .alias:
            throw ManifestSyntaxError(message: "unresolved YAML alias", line: node.mark?.line, column: node.mark?.column)
        }
    }

    /// YAML text for the value (block style, keys in order), as `kubectl get -o yaml` prints.
    public func yamlString() -> String {
        var out = ""
        YAMLWriter.write(self, into: &out, indent: 0, context: .root)
        return out
    }
}

extension ManifestSyntaxError {
    init(yamlError: YamlError) {
        switch yamlError {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            self.init(message: problem, line: mark.line, column: mark.column)
        case .reader(let problem, _, _, _):
            self.init(message: problem, line: nil, column: nil)
        case .duplicatedKeysInMapping(let duplicates, _):
            self.init(message: "duplicate keys in mapping: \(duplicates.joined(separator: ", "))", line: nil, column: nil)
        default:
            self.init(message: "\(yamlError)", line: nil, column: nil)
        }
    }
}

/// A small block-style YAML emitter that keeps key order and quotes strings YAML 1.1 would misread.
enum YAMLWriter {
    enum Context { case root, mapValue, sequenceItem }

    static func write(_ value: JSONValue, into out: inout String, indent: Int, context: Context) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let object) where !object.isEmpty:
            var first = true
            for entry in object.entries {
                if !(first && context == .sequenceItem) { out += pad }
                first = false
                out += scalarString(entry.key) + ":"
                switch entry.value {
                case .object(let o) where !o.isEmpty:
                    out += "\n"
                    write(entry.value, into: &out, indent: indent + 2, context: .mapValue)
                case .array(let a) where !a.isEmpty:
                    out += "\n"
                    write(entry.value, into: &out, indent: indent, context: .mapValue)
                default:
                    out += " " + inline(entry.value) + "\n"
                }
            }
        case .array(let items) where !items.isEmpty:
            for item in items {
                out += pad + "- "
                switch item {
                case .object(let o) where !o.isEmpty:
                    write(item, into: &out, indent: indent + 2, context: .sequenceItem)
                case .array(let a) where !a.isEmpty:
                    out += "\n"
                    write(item, into: &out, indent: indent + 2, context: .mapValue)
                default:
                    out += inline(item) + "\n"
                }
            }
        default:
            out += (context == .sequenceItem ? "" : pad) + inline(value) + "\n"
        }
    }

    static func inline(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double: return value.jsonString()
        case .string(let s): return scalarString(s)
        case .array: return "[]"
        case .object: return "{}"
        }
    }

    static let reserved: Set<String> = [
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES",
        "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "<<", "=",
    ]

    static func scalarString(_ s: String) -> String {
        if needsQuotes(s) { return JSONValue.string(s).jsonString() }
        return s
    }

    static func needsQuotes(_ s: String) -> Bool {
        if reserved.contains(s) { return true }
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return true }
        if first == " " || last == " " { return true }
        if "-?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(first) { return true }
        if s.contains(": ") || s.contains(" #") || s.hasSuffix(":") { return true }
        for scalar in s.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F { return true }
        // Anything that reads as a number or timestamp must stay a string.
        if first.properties.numericType != nil || first == "." || first == "+" {
            if Double(s) != nil || Int(s) != nil { return true }
            if s.allSatisfy({ $0.isNumber || "._:-+eEoxXabcdefABCDEF".contains($0) }) { return true }
        }
        return false
    }
}
