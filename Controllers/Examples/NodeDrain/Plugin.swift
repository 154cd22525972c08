import Orca

// The two C functions that make this library an Orca plugin (see `OrcaPlugin`).

/// The plugin API version this library was compiled against; `orca` refuses any other.
@_cdecl("orca_plugin_api_version")
public func orcaPluginAPIVersion() -> Int32 { OrcaPlugin.apiVersion }

/// The plugin: its name and its controllers. Called once by `orca run --plugin PATH`.
@_cdecl("orca_plugin_entry")
public func orcaPluginEntry() -> UnsafeMutableRawPointer {
    OrcaPlugin(name: "node-drain", controllers: [
        ControllerDescriptor({ NodeDrainController() },
                             summary: "cordons nodes annotated drain.orca.dev/requested=true and deletes their pods"),
    ]).retainedPointer()
}
