/// A controller that can be started by name (`orca run --controllers NAME`).
public struct ControllerDescriptor: Sendable {
    public let name: String
    /// One line for `orca run --help`.
    public let summary: String
    let install: @Sendable (ControllerManager) -> [Controller]

    /// Describes a controller made of several reconcilers under one name (the garbage
    /// collector has one per kind); `install` registers them all.
    public init(name: String, summary: String, install: @escaping @Sendable (ControllerManager) -> [Controller]) {
        self.name = name
        self.summary = summary
        self.install = install
    }

    /// Describes the reconciler made by `make`.
    public init<R: Reconciler>(_ make: @escaping @Sendable () -> R, summary: String) {
        name = R.name
        self.summary = summary
        install = { manager in [manager.register(make())] }
    }

    /// Registers a new instance with `manager`.
    @discardableResult
    public func install(into manager: ControllerManager) -> [Controller] { install(manager) }
}

/// The controllers a program knows, by name. The built-in controllers are registered here
/// exactly as a plugin's are.
public struct ControllerRegistry: Sendable {
    public private(set) var descriptors: [ControllerDescriptor] = []

    public init(_ descriptors: [ControllerDescriptor] = []) {
        for d in descriptors { try? add(d) }
    }

    /// Adds a controller. A name registered twice is an error.
    public mutating func add(_ descriptor: ControllerDescriptor) throws(RegistryError) {
        guard !descriptors.contains(where: { $0.name == descriptor.name }) else {
            throw RegistryError("a controller named \"\(descriptor.name)\" is already registered")
        }
        descriptors.append(descriptor)
    }

    public var names: [String] { descriptors.map(\.name) }

    /// The descriptors named in `names` (all when nil), in registration order.
    public func select(_ names: [String]?) throws(RegistryError) -> [ControllerDescriptor] {
        guard let names else { return descriptors }
        for name in names where !self.names.contains(name) {
            throw RegistryError("unknown controller \"\(name)\"; known controllers: \(self.names.joined(separator: ", "))")
        }
        return descriptors.filter { names.contains($0.name) }
    }
}

public struct RegistryError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
