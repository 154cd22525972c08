// The umbrella module a plugin author imports: the resource model, the log's read side and the store.
@_exported import OrcaAPI
@_exported import OrcaLog
@_exported import OrcaStore
@_exported import OrcaReplay
@_exported import OrcaRuntime
