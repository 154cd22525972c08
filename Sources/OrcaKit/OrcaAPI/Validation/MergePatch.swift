extension JSONValue {
    /// Applies an RFC 7386 JSON merge patch: objects merge recursively, `null` removes a key,
    /// anything else (arrays included) replaces.
    public func applyingMergePatch(_ patch: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var target = objectValue ?? JSONObject()
        for entry in patchObject.entries {
            if entry.value.isNull {
                target[entry.key] = nil
            } else {
                target[entry.key] = (target[entry.key] ?? .null).applyingMergePatch(entry.value)
            }
        }
        return .object(target)
    }
}
