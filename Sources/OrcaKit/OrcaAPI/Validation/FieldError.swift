/// One problem with one field, rendered as Kubernetes renders `field.Error`.
public struct FieldError: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case required, invalid, duplicate, notSupported, forbidden, tooLong
    }

    public var kind: Kind
    /// The field path, e.g. `spec.containers[0].name`.
    public var field: String
    /// The offending value, already rendered (`"App"`, `-1`), or nil.
    public var badValue: String?
    public var detail: String

    public init(_ kind: Kind, _ field: String, badValue: String? = nil, _ detail: String = "") {
        self.kind = kind
        self.field = field
        self.badValue = badValue
        self.detail = detail
    }

    public static func required(_ field: String, _ detail: String = "") -> FieldError { FieldError(.required, field, detail) }
    public static func invalid(_ field: String, _ value: JSONValue?, _ detail: String) -> FieldError {
        FieldError(.invalid, field, badValue: render(value), detail)
    }
    public static func duplicate(_ field: String, _ value: JSONValue?) -> FieldError {
        FieldError(.duplicate, field, badValue: render(value))
    }
    public static func notSupported(_ field: String, _ value: JSONValue?, _ supported: [String]) -> FieldError {
        FieldError(.notSupported, field, badValue: render(value),
                   "supported values: " + supported.map { "\"\($0)\"" }.joined(separator: ", "))
    }
    public static func forbidden(_ field: String, _ detail: String) -> FieldError { FieldError(.forbidden, field, detail) }

    /// Renders a value as Go's `%#v`-ish form used in Kubernetes messages: strings quoted,
    /// numbers bare, maps as `map[string]string{"a":"b"}`.
    public static func render(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        switch value {
        case .string(let s): return "\"\(s)\""
        case .object(let o):
            if o.allSatisfy({ $0.value.stringValue != nil }) {
                let body = o.entries.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value.stringValue ?? "")\"" }
                return "map[string]string{" + body.joined(separator: ", ") + "}"
            }
            return value.jsonString()
        default: return value.jsonString()
        }
    }

    public var description: String {
        var out = field + ": "
        switch kind {
        case .required: out += "Required value"
        case .invalid: out += "Invalid value"
        case .duplicate: out += "Duplicate value"
        case .notSupported: out += "Unsupported value"
        case .forbidden: out += "Forbidden"
        case .tooLong: out += "Too long"
        }
        if let badValue, kind != .required, kind != .forbidden { out += ": " + badValue }
        if !detail.isEmpty { out += ": " + detail }
        return out
    }
}

/// Kubernetes' name formats.
public enum NameFormat {
    static func isAlnumLower(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }

    /// RFC 1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
    public static func isDNS1123Label(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard !b.isEmpty, b.count <= 63, isAlnumLower(b[0]), isAlnumLower(b[b.count - 1]) else { return false }
        return b.allSatisfy { isAlnumLower($0) || $0 == 45 }
    }

    /// RFC 1123 subdomain: dot-separated labels, at most 253 characters.
    public static func isDNS1123Subdomain(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            let b = Array(part.utf8)
            guard !b.isEmpty, isAlnumLower(b[0]), isAlnumLower(b[b.count - 1]) else { return false }
            return b.allSatisfy { isAlnumLower($0) || $0 == 45 }
        }
    }

    /// RFC 1035 label: `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
    public static func isDNS1035Label(_ s: String) -> Bool {
        guard let first = s.utf8.first, first >= 97, first <= 122 else { return false }
        return isDNS1123Label(s)
    }

    public static let dns1123LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    public static let dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    public static let dns1035LabelMessage = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
}
