public import OrcaAPI

/// An API error, shaped like Kubernetes' `metav1.Status`: a reason, an HTTP code and a message
/// in Kubernetes' words (`pods "web" not found`, `ReplicaSet.apps "web" is invalid: …`).
public struct StoreError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Kubernetes' `StatusReason`; new reasons may be added.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public let httpCode: Int
        public var description: String { rawValue }
        public static let notFound = Reason(rawValue: "NotFound", httpCode: 404)
        public static let alreadyExists = Reason(rawValue: "AlreadyExists", httpCode: 409)
        public static let conflict = Reason(rawValue: "Conflict", httpCode: 409)
        public static let invalid = Reason(rawValue: "Invalid", httpCode: 422)
        public static let forbidden = Reason(rawValue: "Forbidden", httpCode: 403)
        public static let badRequest = Reason(rawValue: "BadRequest", httpCode: 400)
        public static let internalError = Reason(rawValue: "InternalError", httpCode: 500)
    }

    public var reason: Reason
    public var message: String
    /// The field errors behind an `Invalid` error.
    public var causes: [FieldError]
    /// `metav1.StatusDetails`' kind and name: the object an `Invalid` error is about.
    public var detailsKind: String?
    public var detailsName: String?
    /// A `metav1.StatusCause` type the error carries besides field errors: `NamespaceTerminating`
    /// when a create was refused because its namespace is being deleted.
    public var causeType: String?

    /// The `StatusCause` type of a create refused in a namespace being deleted.
    public static let namespaceTerminatingCause = "NamespaceTerminating"

    /// Whether this is the refusal of a create in a namespace being deleted
    /// (`apierrors.HasStatusCause(err, v1.NamespaceTerminatingCause)`).
    public var isNamespaceTerminating: Bool { causeType == Self.namespaceTerminatingCause }

    public init(_ reason: Reason, _ message: String, causes: [FieldError] = []) {
        self.reason = reason
        self.message = message
        self.causes = causes
    }

    public var description: String { message }

    static func resource(_ kind: String) -> String {
        ResourceKind.forKind(kind)?.groupResource ?? (kind.lowercased() + "s")
    }

    public static func notFound(_ kind: String, _ name: String) -> StoreError {
        StoreError(.notFound, "\(resource(kind)) \"\(name)\" not found")
    }
    public static func alreadyExists(_ kind: String, _ name: String) -> StoreError {
        StoreError(.alreadyExists, "\(resource(kind)) \"\(name)\" already exists")
    }
    public static func conflict(_ kind: String, _ name: String) -> StoreError {
        StoreError(.conflict, "Operation cannot be fulfilled on \(resource(kind)) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again")
    }
    /// `errors.NewInvalid`: the message names the kind qualified by its group (`Pod`,
    /// `ReplicaSet.apps`, `Job.batch`), the details the bare kind and the name.
    public static func invalid(_ kind: String, _ name: String, _ errors: [FieldError]) -> StoreError {
        let list = errors.count == 1 ? errors[0].description : "[" + errors.map(\.description).joined(separator: ", ") + "]"
        let group = ResourceKind.forKind(kind)?.group ?? ""
        let qualified = group.isEmpty ? kind : "\(kind).\(group)"
        var error = StoreError(.invalid, "\(qualified) \"\(name)\" is invalid: \(list)", causes: errors)
        error.detailsKind = kind
        error.detailsName = name
        return error
    }
    public static func forbidden(_ kind: String, _ name: String, _ detail: String) -> StoreError {
        StoreError(.forbidden, "\(resource(kind)) \"\(name)\" is forbidden: \(detail)")
    }
    /// The NamespaceLifecycle admission plugin's refusal; `name` is the object's name, or its
    /// `generateName` (the plugin runs before names are generated).
    public static func namespaceTerminating(_ kind: String, _ name: String, namespace: String) -> StoreError {
        var error = forbidden(kind, name, "unable to create new content in namespace \(namespace) because it is being terminated")
        error.causeType = namespaceTerminatingCause
        return error
    }
}
