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

extension JSONValue {
    /// The RFC 7386 merge patch that turns `old` into `new` (`old.applyingMergePatch(patch) ==
    /// new`), or nil when they are equal: changed members of objects recursively, a removed
    /// member as `null`, anything else (arrays included) whole. A member whose new value is
    /// `null` cannot be expressed in a merge patch; it is removed instead.
    public static func mergePatch(from old: JSONValue, to new: JSONValue) -> JSONValue? {
        guard old != new else { return nil }
        guard case .object(let a) = old, case .object(let b) = new else { return new }
        var patch = JSONObject()
        for (key, value) in b {
            if let before = a[key] {
                if let change = mergePatch(from: before, to: value) { patch[key] = change }
            } else {
                patch[key] = value
            }
        }
        for (key, _) in a where b[key] == nil { patch[key] = .null }
        return patch.isEmpty ? nil : .object(patch)
    }
}
