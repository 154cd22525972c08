#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a plugin built as a dynamic library hands to `orca`: a name and the controllers it adds.
///
/// A plugin library exports two C functions, and nothing else is required of it:
///
/// ```swift
/// import Orca
///
/// @_cdecl("orca_plugin_api_version")
/// public func orcaPluginAPIVersion() -> Int32 { OrcaPlugin.apiVersion }
///
/// @_cdecl("orca_plugin_entry")
/// public func orcaPluginEntry() -> UnsafeMutableRawPointer {
///     OrcaPlugin(name: "node-drain", controllers: [
///         ControllerDescriptor({ NodeDrainController() }, summary: "cordons and drains nodes on request"),
///     ]).retainedPointer()
/// }
/// ```
///
/// `orca run --plugin PATH` opens the library, checks the version the plugin was compiled
/// against, calls the entry point once and registers the controllers beside the built-ins. The
/// library must depend on the dynamic product `Orca` of the OrcaKit package (never on its
/// targets), so that the plugin and `orca` share one copy of the runtime.
public final class OrcaPlugin: Sendable {
    /// The version of this entry-point contract. It is `@inlinable`, so a plugin's
    /// `orca_plugin_api_version` returns the number it was compiled against, and `orca` refuses
    /// a plugin compiled against another. It changes whenever the contract above changes.
    @inlinable public static var apiVersion: Int32 { 1 }

    /// Names the plugin in messages (`orca run` prints it when loading).
    public let name: String
    /// The controllers the plugin adds; their names must not clash with the built-ins'.
    public let controllers: [ControllerDescriptor]

    public init(name: String, controllers: [ControllerDescriptor]) {
        self.name = name
        self.controllers = controllers
    }

    /// Hands each controller to `add` (``ControllerRegistry/add(_:)``, or a simulation's
    /// install); a refusal — a name already taken — becomes a ``PluginError`` naming the plugin
    /// and the library at `path`.
    public func register(from path: String, with add: (ControllerDescriptor) throws(RegistryError) -> Void) throws(PluginError) {
        for descriptor in controllers {
            do {
                try add(descriptor)
            } catch {
                throw PluginError(path: path, message: "plugin \"\(name)\": \(error.message)")
            }
        }
    }

    /// The plugin as the pointer `orca_plugin_entry` returns; `orca` takes ownership of it.
    public func retainedPointer() -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(self).toOpaque()
    }
}

/// Why a plugin library could not be loaded.
public struct PluginError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "cannot load plugin \(path): \(message)" }
}

/// Loads plugin libraries (`dlopen`). A library is never unloaded: its types stay registered
/// with the Swift runtime for the life of the process.
public enum PluginLoader {
    /// The C name of the function that returns the plugin's ``OrcaPlugin/apiVersion``.
    public static let versionSymbol = "orca_plugin_api_version"
    /// The C name of the function that returns the retained ``OrcaPlugin``.
    public static let entrySymbol = "orca_plugin_entry"

    /// Opens the library at `path` and returns its plugin. Every failure — no such file, not a
    /// shared library, unresolved symbols, no entry point, another API version, a plugin that
    /// linked its own copy of the runtime — is a ``PluginError`` naming the path and the fix.
    public static func load(_ path: String) throws(PluginError) -> OrcaPlugin {
        func fail(_ message: String) -> PluginError { PluginError(path: path, message: message) }
        var status = stat()
        guard stat(path, &status) == 0 else { throw fail("no such file") }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw fail("not a regular file") }
        // A bare file name would make dlopen search the library path instead of the directory.
        let resolved = path.contains("/") ? path : "./" + path
        guard let handle = dlopen(resolved, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw fail("\(reason) (a plugin is a shared library built with `swift build`; see Docs/WritingAController.md)")
        }
        guard let versionAddress = dlsym(handle, versionSymbol) else {
            throw fail("not an Orca plugin: it exports no \(versionSymbol) function "
                + "(declare `@_cdecl(\"\(versionSymbol)\") public func …() -> Int32 { OrcaPlugin.apiVersion }`)")
        }
        typealias VersionFunction = @convention(c) () -> Int32
        let version = unsafeBitCast(versionAddress, to: VersionFunction.self)()
        guard version == OrcaPlugin.apiVersion else {
            throw fail("it was built for Orca plugin API version \(version), and this orca speaks version "
                + "\(OrcaPlugin.apiVersion); rebuild the plugin against this Orca")
        }
        guard let entryAddress = dlsym(handle, entrySymbol) else {
            throw fail("not an Orca plugin: it exports no \(entrySymbol) function "
                + "(declare `@_cdecl(\"\(entrySymbol)\") public func …() -> UnsafeMutableRawPointer`)")
        }
        typealias EntryFunction = @convention(c) () -> UnsafeMutableRawPointer?
        guard let pointer = unsafeBitCast(entryAddress, to: EntryFunction.self)() else {
            throw fail("its \(entrySymbol) returned a null pointer instead of an OrcaPlugin")
        }
        let object = Unmanaged<AnyObject>.fromOpaque(pointer).takeRetainedValue()
        guard let plugin = object as? OrcaPlugin else {
            throw fail("its \(entrySymbol) returned a \(type(of: object)), not this orca's OrcaPlugin: the plugin "
                + "carries its own copy of the Orca modules. Depend on the dynamic product `Orca` of the OrcaKit "
                + "package, not on its targets, and build with the same toolchain")
        }
        return plugin
    }
}
