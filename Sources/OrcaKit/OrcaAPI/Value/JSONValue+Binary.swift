#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error decoding Orca's binary object encoding (a corrupt or foreign payload).
public struct BinaryDecodingError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }
    public var description: String { "\(message) at byte \(offset)" }
}

/// Orca's compact binary form of a ``JSONValue``, used for objects inside the event log.
///
/// Layout (all integers are LEB128 varints unless noted):
/// - `0` null, `1` false, `2` true
/// - `3` integer (zig-zag varint)
/// - `4` double (8 bytes, IEEE 754 little-endian)
/// - `5` string: length, UTF-8 bytes
/// - `6` array: count, values
/// - `7` object: count, then per member a key and a value. A key is a varint `k`: when `k` is
///   even, it is entry `k/2` of ``BinaryCodec/dictionary``; when odd, `k/2` UTF-8 bytes follow.
/// - `8` string from the dictionary: index
/// - `9` the seq of the record holding the value, as a decimal string (only inside a log
///   record: how a resourceVersion stamped at append time is stored, so that an object can be
///   encoded before its seq is known)
///
/// The dictionary is part of the on-disk format (LogFormat.md): entries are only ever appended,
/// together with a format version bump.
public enum BinaryCodec {
    /// Frequent Kubernetes keys and values. Append only; never reorder.
    public static let dictionary: [String] = [
        "apiVersion", "kind", "metadata", "spec", "status", "name", "namespace", "uid", "resourceVersion",
        "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
        "annotations", "ownerReferences", "finalizers", "generateName", "managedFields", "manager", "operation",
        "time", "fieldsType", "fieldsV1", "FieldsV1", "Update", "Apply", "controller", "blockOwnerDeletion",
        "containers", "initContainers", "image", "imagePullPolicy", "IfNotPresent", "Always", "Never",
        "command", "args", "env", "value", "valueFrom", "ports", "containerPort", "protocol", "TCP", "UDP",
        "resources", "requests", "limits", "cpu", "memory", "restartPolicy", "OnFailure",
        "terminationGracePeriodSeconds", "dnsPolicy", "ClusterFirst", "schedulerName", "default-scheduler",
        "nodeName", "nodeSelector", "affinity", "tolerations", "key", "operator", "effect", "tolerationSeconds",
        "Exists", "Equal", "NoExecute", "NoSchedule", "PreferNoSchedule", "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable", "serviceAccountName", "securityContext", "priority",
        "enableServiceLinks", "preemptionPolicy", "PreemptLowerPriority", "terminationMessagePath",
        "/dev/termination-log", "terminationMessagePolicy", "File", "volumeMounts", "volumes",
        "phase", "Pending", "Running", "Succeeded", "Failed", "Unknown", "conditions", "type", "lastProbeTime",
        "lastTransitionTime", "lastHeartbeatTime", "reason", "message", "True", "False", "PodScheduled",
        "Initialized", "ContainersReady", "Ready", "PodReadyToStartContainers", "hostIP", "hostIPs", "podIP",
        "podIPs", "ip", "startTime", "containerStatuses", "initContainerStatuses", "state", "lastState",
        "running", "waiting", "terminated", "startedAt", "finishedAt", "exitCode", "Completed", "Error",
        "ready", "started", "restartCount", "imageID", "containerID", "qosClass", "BestEffort", "Burstable",
        "Guaranteed", "v1", "apps/v1", "batch/v1", "Pod", "Node", "ReplicaSet", "Job", "DaemonSet", "Service",
        "Endpoints", "Event", "Lease", "ResourceQuota", "default", "selector", "matchLabels", "matchExpressions",
        "values", "In", "NotIn", "DoesNotExist", "template", "replicas", "fullyLabeledReplicas", "readyReplicas",
        "availableReplicas", "observedGeneration", "minReadySeconds", "parallelism", "completions",
        "backoffLimit", "activeDeadlineSeconds", "completionMode", "NonIndexed", "Indexed", "suspend",
        "active", "succeeded", "failed", "uncountedTerminatedPods", "completionTime", "podReplacementPolicy",
        "TerminatingOrFailed", "batch.kubernetes.io/job-tracking", "controller-uid", "job-name",
        "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name", "updateStrategy", "RollingUpdate",
        "OnDelete", "rollingUpdate", "maxUnavailable", "maxSurge", "revisionHistoryLimit", "clusterIP",
        "clusterIPs", "ClusterIP", "None", "sessionAffinity", "port", "targetPort", "subsets", "addresses",
        "notReadyAddresses", "targetRef", "taints", "unschedulable", "capacity", "allocatable", "pods",
        "podCIDR", "podCIDRs", "holderIdentity", "leaseDurationSeconds", "renewTime", "acquireTime",
        "involvedObject", "source", "component", "host", "firstTimestamp", "lastTimestamp", "count", "Normal",
        "Warning", "reportingComponent", "reportingInstance", "eventTime", "hard", "used", "app",
        "topology.kubernetes.io/zone", "kubernetes.io/hostname", "readinessProbe", "livenessProbe",
        "initialDelaySeconds", "periodSeconds", "readinessGates", "conditionType", "hostname", "subdomain",
        "f:metadata", "f:spec", "f:status", "f:labels", "f:annotations", "f:conditions", ".", "k:{\"type\":\"Ready\"}",
        "f:lastTransitionTime", "f:lastProbeTime", "f:type", "f:reason", "f:message",
        "f:containerStatuses", "f:phase", "f:startTime", "f:podIP", "f:podIPs", "f:hostIP", "f:hostIPs",
        "f:ownerReferences", "f:finalizers", "f:name", "f:image", "f:resources", "f:nodeName", "subresource",
        "ContainerCreating", "PodInitializing", "CrashLoopBackOff", "addressType", "address", "InternalIP",
        "kubeletVersion", "nodeInfo", "daemonEndpoints", "allocatedResources", "KubeletReady", "kube-node-lease",
        "kube-system", "",
    ]

    static let dictionaryIndex = StringIndexTable(dictionary)

    /// Encodes `value`, appending to `out`.
    public static func encode(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(0)
        case .bool(let b): out.append(b ? 2 : 1)
        case .int(let i):
            out.append(3)
            writeVarint(UInt64(bitPattern: (i << 1) ^ (i >> 63)), into: &out)
        case .double(let d):
            out.append(4)
            withUnsafeBytes(of: d.bitPattern.littleEndian) { out.append(contentsOf: $0) }
        case .string(let s):
            if let i = dictionaryIndex.index(of: s) {
                out.append(8)
                writeVarint(UInt64(i), into: &out)
            } else {
                out.append(5)
                writeVarint(UInt64(s.utf8.count), into: &out)
                out.append(contentsOf: s.utf8)
            }
        case .array(let items):
            out.append(6)
            writeVarint(UInt64(items.count), into: &out)
            for item in items { encode(item, into: &out) }
        case .object(let object):
            out.append(7)
            writeVarint(UInt64(object.count), into: &out)
            for entry in object.entries {
                writeKey(entry.key, into: &out)
                encode(entry.value, into: &out)
            }
        }
    }

    /// Encodes an object whose `metadata.resourceVersion` is to be the seq of the record it is
    /// stored in: that field is written as tag 9 (added at the end of `metadata` when absent,
    /// where setting it would put it). Values without a `metadata` object encode as usual.
    public static func encodeStampingResourceVersion(_ value: JSONValue, into out: inout [UInt8]) {
        guard case .object(let root) = value, case .object(let metadata)? = root["metadata"] else {
            encode(value, into: &out)
            return
        }
        out.append(7)
        writeVarint(UInt64(root.count), into: &out)
        for entry in root.entries {
            writeKey(entry.key, into: &out)
            guard entry.key == "metadata" else {
                encode(entry.value, into: &out)
                continue
            }
            let hasVersion = metadata["resourceVersion"] != nil
            out.append(7)
            writeVarint(UInt64(metadata.count + (hasVersion ? 0 : 1)), into: &out)
            for field in metadata.entries {
                writeKey(field.key, into: &out)
                if field.key == "resourceVersion" { out.append(9) } else { encode(field.value, into: &out) }
            }
            if !hasVersion {
                writeKey("resourceVersion", into: &out)
                out.append(9)
            }
        }
    }

    @inline(__always)
    static func writeKey(_ key: String, into out: inout [UInt8]) {
        if let i = dictionaryIndex.index(of: key) {
            writeVarint(UInt64(i) << 1, into: &out)
        } else {
            writeVarint(UInt64(key.utf8.count) << 1 | 1, into: &out)
            out.append(contentsOf: key.utf8)
        }
    }

    /// Encodes `value` into a new byte array.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        encode(value, into: &out)
        return out
    }

    /// Decodes one value from `bytes`; the whole buffer must be consumed.
    ///
    /// - Throws: ``BinaryDecodingError`` on truncated or malformed input (never traps).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(BinaryDecodingError) -> JSONValue {
        var reader = BinaryReader(bytes: bytes)
        let value = try reader.readValue(depth: 0)
        guard reader.offset == bytes.count else { throw reader.error("trailing bytes after value") }
        return value
    }

    /// Decodes one value from a byte array.
    public static func decode(_ bytes: [UInt8]) throws(BinaryDecodingError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in Result { () throws(BinaryDecodingError) in try decode(buffer) } }
        return try result.get()
    }

    @inline(__always)
    public static func writeVarint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}

/// A bounds-checked cursor over a byte buffer.
public struct BinaryReader {
    public let bytes: UnsafeRawBufferPointer
    public var offset: Int
    /// The seq tag 9 stands for; nil outside a log record, where tag 9 is an error.
    public var recordSeq: UInt64?
    /// The last few long strings read (offset, length, string): a string repeated within one
    /// buffer (timestamps, images) is shared instead of allocated again.
    var recent: [(offset: Int, count: Int, string: String)] = []
    var recentNext = 0

    public init(bytes: UnsafeRawBufferPointer, offset: Int = 0, recordSeq: UInt64? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.recordSeq = recordSeq
    }

    func error(_ message: String) -> BinaryDecodingError { BinaryDecodingError(message: message, offset: offset) }

    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func readByte() throws(BinaryDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw error("unexpected end of data") }
        let b = bytes[offset]
        offset += 1
        return b
    }

    public mutating func readVarint() throws(BinaryDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw error("unexpected end of data in varint") }
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw error("varint too long") }
        }
    }

    public mutating func readLength() throws(BinaryDecodingError) -> Int {
        let n = try readVarint()
        guard n <= UInt64(bytes.count - offset) else { throw error("length \(n) exceeds the remaining data") }
        return Int(n)
    }

    public mutating func readString() throws(BinaryDecodingError) -> String {
        let n = try readLength()
        return try readUTF8(count: n)
    }

    mutating func readUTF8(count n: Int) throws(BinaryDecodingError) -> String {
        guard n <= bytes.count - offset else { throw error("string exceeds the remaining data") }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
        // Strings of up to 15 UTF-8 bytes are stored inline and cost nothing to make.
        if n > 15, let base = bytes.baseAddress {
            for entry in recent where entry.count == n && memcmp(base + entry.offset, base + offset, n) == 0 {
                offset += n
                return entry.string
            }
        }
        guard let s = FastStrings.string(slice) else { throw error("invalid UTF-8") }
        if n > 15 {
            if recent.count < 8 {
                if recent.isEmpty { recent.reserveCapacity(8) }
                recent.append((offset, n, s))
            } else {
                recent[recentNext] = (offset, n, s)
                recentNext = (recentNext + 1) & 7
            }
        }
        offset += n
        return s
    }

    public mutating func readUInt64BE() throws(BinaryDecodingError) -> UInt64 {
        guard bytes.count - offset >= 8 else { throw error("unexpected end of data") }
        let v = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        offset += 8
        return v
    }

    /// Steps over one value, checking it exactly as ``readJSONValue()`` would (tags, lengths,
    /// dictionary entries, UTF-8, nesting, tag 9 only inside a record) without building it: no
    /// allocation for ASCII strings. After it succeeds, decoding the same bytes cannot fail.
    public mutating func skipJSONValue() throws(BinaryDecodingError) {
        var unused: MemberTable?
        try skipJSONValue(table: &unused)
    }

    /// ``skipJSONValue()``, also filling `table` with where the members of the value (an
    /// object) and of its object members start, so that ``readJSONValue(at:table:)`` can jump.
    public mutating func skipJSONValue(table: inout MemberTable?) throws(BinaryDecodingError) {
        // A fast walk that only says yes or no; on no, the checked walk below finds the message.
        if let base = bytes.baseAddress {
            var walker = FastWalker(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count, offset: offset,
                                    allowsRecordSeq: recordSeq != nil)
            let start = offset
            var built = MemberTable()
            let isObject = walker.offset < walker.count && walker.base[walker.offset] == 7
            let ok = isObject ? walker.skipRecording(into: &built, origin: start) : walker.skipValue(depth: 0)
            if ok {
                offset = walker.offset
                if isObject { table = built }
                return
            }
        }
        try skipValue(depth: 0)
    }

    mutating func skipValue(depth: Int) throws(BinaryDecodingError) {
        guard depth < 512 else { throw error("nesting too deep") }
        let tag = try readByte()
        switch tag {
        case 0, 1, 2: return
        case 3: _ = try readVarint()
        case 4:
            guard bytes.count - offset >= 8 else { throw error("unexpected end of data in double") }
            offset += 8
        case 5: try skipUTF8(count: try readLength())
        case 8:
            let i = try readVarint()
            guard i < UInt64(BinaryCodec.dictionary.count) else { throw error("unknown dictionary entry \(i)") }
        case 9:
            guard recordSeq != nil else { throw error("a record-seq value outside a log record") }
        case 6:
            let n = try readLength()
            for _ in 0..<n { try skipValue(depth: depth + 1) }
        case 7:
            let n = try readLength()
            for _ in 0..<n {
                let k = try readVarint()
                if k & 1 == 0 {
                    guard k >> 1 < UInt64(BinaryCodec.dictionary.count) else { throw error("unknown dictionary key \(k >> 1)") }
                } else {
                    guard k >> 1 <= UInt64(bytes.count - offset) else { throw error("key exceeds the remaining data") }
                    try skipUTF8(count: Int(k >> 1))
                }
                try skipValue(depth: depth + 1)
            }
        default:
            throw error("unknown value tag \(tag)")
        }
    }

    mutating func skipUTF8(count n: Int) throws(BinaryDecodingError) {
        guard n <= bytes.count - offset else { throw error("string exceeds the remaining data") }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
        guard FastStrings.isASCII(slice) || String(validating: slice.assumingMemoryBound(to: UInt8.self), as: UTF8.self) != nil else {
            throw error("invalid UTF-8")
        }
        offset += n
    }

    /// Decodes only the value at `path` (object keys from the value at the cursor), stepping
    /// over every member that is not on the path; nil when a step is missing or not an object.
    /// The bytes are expected to have been checked with ``skipJSONValue()``.
    public mutating func readJSONValue(at path: [String]) throws(BinaryDecodingError) -> JSONValue? {
        try readJSONValue(at: path[...], table: nil)
    }

    /// ``readJSONValue(at:)`` for the value whose ``skipJSONValue(table:)`` filled `table`
    /// (the cursor at its start): the first one or two steps of the path are looked up there.
    public mutating func readJSONValue(at path: [String], table: MemberTable?) throws(BinaryDecodingError) -> JSONValue? {
        try readJSONValue(at: path[...], table: table)
    }

    mutating func readJSONValue(at path: ArraySlice<String>, table: MemberTable?) throws(BinaryDecodingError) -> JSONValue? {
        var path = path
        if let table, let first = path.first {
            switch table.lookup(first, path.dropFirst().first) {
            case .absent:
                return nil
            case .at(let relative, let steps):
                offset += relative
                path = path.dropFirst(steps)
            case .unknown:
                break
            }
        }
        guard let base = bytes.baseAddress else { throw error("unexpected end of data") }
        var walker = FastWalker(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count, offset: offset,
                                allowsRecordSeq: recordSeq != nil)
        for component in path {
            guard walker.offset < walker.count else { throw error("unexpected end of data") }
            guard walker.base[walker.offset] == 7 else { return nil }
            walker.offset += 1
            guard let n = walker.varint() else { throw error("malformed object") }
            let wanted = BinaryCodec.dictionaryIndex.index(of: component).map { UInt64($0) }
            let wantedCount = component.utf8.count
            var found = false
            for _ in 0..<n {
                guard let k = walker.varint() else { throw error("malformed key") }
                if k & 1 == 0 {
                    if k >> 1 == wanted { found = true; break }
                } else {
                    let len = Int(k >> 1)
                    guard len <= walker.count - walker.offset else { throw error("key exceeds the remaining data") }
                    let match = len == wantedCount
                        && component.utf8.elementsEqual(UnsafeBufferPointer(start: walker.base + walker.offset, count: len))
                    walker.offset += len
                    if match { found = true; break }
                }
                guard walker.skipValue(depth: 1) else { throw error("malformed value") }
            }
            guard found else { return nil }
        }
        offset = walker.offset
        return try readValue(depth: 0)
    }

    /// Reads one value in ``BinaryCodec``'s encoding.
    public mutating func readJSONValue() throws(BinaryDecodingError) -> JSONValue { try readValue(depth: 0) }

    mutating func readValue(depth: Int) throws(BinaryDecodingError) -> JSONValue {
        guard depth < 512 else { throw error("nesting too deep") }
        let tag = try readByte()
        switch tag {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3:
            let z = try readVarint()
            return .int(Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
        case 4:
            guard bytes.count - offset >= 8 else { throw error("unexpected end of data in double") }
            let bits = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
            return .double(Double(bitPattern: bits))
        case 5: return .string(try readString())
        case 8:
            let i = try readVarint()
            guard i < UInt64(BinaryCodec.dictionary.count) else { throw error("unknown dictionary entry \(i)") }
            return .string(BinaryCodec.dictionary[Int(i)])
        case 9:
            guard let seq = recordSeq else { throw error("a record-seq value outside a log record") }
            return .string(String(seq))
        case 6:
            let n = try readLength()
            var items: [JSONValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try readValue(depth: depth + 1)) }
            return .array(items)
        case 7:
            let n = try readLength()
            var object = JSONObject()
            object.reserveCapacity(n)
            for _ in 0..<n {
                let k = try readVarint()
                let key: String
                if k & 1 == 0 {
                    let i = k >> 1
                    guard i < UInt64(BinaryCodec.dictionary.count) else { throw error("unknown dictionary key \(i)") }
                    key = BinaryCodec.dictionary[Int(i)]
                } else {
                    let len = k >> 1
                    guard len <= UInt64(bytes.count - offset) else { throw error("key exceeds the remaining data") }
                    key = try readUTF8(count: Int(len))
                }
                object.appendUnchecked(key, try readValue(depth: depth + 1))
            }
            return .object(object)
        default:
            throw error("unknown value tag \(tag)")
        }
    }
}

/// The unchecked-by-exception twin of ``BinaryReader``'s skip: the same checks, answered as a
/// Bool with the cursor in a register (a log read walks every object once, so this is hot).
struct FastWalker {
    let base: UnsafePointer<UInt8>
    let count: Int
    var offset: Int
    let allowsRecordSeq: Bool

    @inline(__always)
    mutating func varint() -> UInt64? {
        guard offset < count else { return nil }
        let first = base[offset]
        offset += 1
        if first < 0x80 { return UInt64(first) }
        var result = UInt64(first & 0x7F)
        var shift: UInt64 = 7
        while offset < count {
            let b = base[offset]
            offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift >= 64 { return nil }
        }
        return nil
    }

    /// Steps over `n` bytes that must be valid UTF-8.
    @inline(__always)
    mutating func text(_ n: UInt64) -> Bool {
        guard n <= UInt64(count - offset) else { return false }
        let n = Int(n)
        var i = 0
        var acc: UInt64 = 0
        let raw = UnsafeRawPointer(base + offset)
        while i + 8 <= n {
            acc |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < n {
            acc |= UInt64(base[offset + i])
            i += 1
        }
        if acc & 0x8080_8080_8080_8080 != 0,
           String(validating: UnsafeBufferPointer(start: base + offset, count: n), as: UTF8.self) == nil {
            return false
        }
        offset += n
        return true
    }

    mutating func skipValue(depth: Int) -> Bool {
        guard depth < 512, offset < count else { return false }
        let tag = base[offset]
        offset += 1
        let dictionaryCount = UInt64(BinaryCodec.dictionary.count)
        switch tag {
        case 0, 1, 2: return true
        case 3: return varint() != nil
        case 4:
            guard count - offset >= 8 else { return false }
            offset += 8
            return true
        case 5:
            guard let n = varint() else { return false }
            return text(n)
        case 8:
            guard let i = varint() else { return false }
            return i < dictionaryCount
        case 9: return allowsRecordSeq
        case 6:
            guard let n = varint(), n <= UInt64(count - offset) else { return false }
            for _ in 0..<n where !skipValue(depth: depth + 1) { return false }
            return true
        case 7:
            guard let n = varint(), n <= UInt64(count - offset) else { return false }
            for _ in 0..<n {
                guard let k = varint() else { return false }
                if k & 1 == 0 {
                    guard k >> 1 < dictionaryCount else { return false }
                } else {
                    guard text(k >> 1) else { return false }
                }
                guard skipValue(depth: depth + 1) else { return false }
            }
            return true
        default:
            return false
        }
    }
}

extension FastWalker {
    /// Steps over an object (the cursor on its tag 7), noting where each member's value starts
    /// and, for members that are objects, where each of their members' values starts.
    mutating func skipRecording(into table: inout MemberTable, origin: Int) -> Bool {
        let dictionaryCount = UInt64(BinaryCodec.dictionary.count)
        offset += 1
        guard let n = varint(), n <= UInt64(count - offset) else { return false }
        table.entries.reserveCapacity(Int(n) * 6)
        for _ in 0..<n {
            guard let k = varint() else { return false }
            var outer: UInt64?
            if k & 1 == 0 {
                guard k >> 1 < dictionaryCount else { return false }
                outer = k >> 1
            } else {
                table.complete = false
                guard text(k >> 1) else { return false }
            }
            if let outer, table.entries.contains(where: { $0 >> 48 == outer && ($0 >> 32) & 0xFFFF == MemberTable.none }) {
                table.ambiguous = true  // a repeated key: lookups fall back to walking
            }
            guard let outer, offset < count, base[offset] == 7 else {
                if let outer { table.add(outer, MemberTable.none, offset - origin) }
                guard skipValue(depth: 1) else { return false }
                continue
            }
            table.add(outer, MemberTable.none, offset - origin)
            table.objects.append(outer)
            offset += 1
            guard let m = varint(), m <= UInt64(count - offset) else { return false }
            for _ in 0..<m {
                guard let k2 = varint() else { return false }
                if k2 & 1 == 0 {
                    guard k2 >> 1 < dictionaryCount else { return false }
                    table.add(outer, k2 >> 1, offset - origin)
                } else {
                    table.complete = false
                    guard text(k2 >> 1) else { return false }
                }
                guard skipValue(depth: 2) else { return false }
            }
        }
        return true
    }
}

/// Where the members of an encoded object start (two levels deep, dictionary keys only), found
/// while the object is checked: a path read jumps to `metadata.labels` or `spec.nodeName`
/// instead of stepping over everything before it.
public struct MemberTable: Sendable {
    static let none: UInt64 = 0xFFFF
    /// `outer key << 48 | inner key (or none) << 32 | offset`, keys as dictionary indexes,
    /// offsets from the object's tag, in encoding order.
    var entries: [UInt64] = []
    /// The outer members whose values are objects (their members are in `entries`).
    var objects: [UInt64] = []
    /// Every key at both levels is a dictionary key, so a key missing here is missing.
    var complete = true
    /// A key repeated at the top level: the table is not used.
    var ambiguous = false

    @inline(__always)
    mutating func add(_ outer: UInt64, _ inner: UInt64, _ offset: Int) {
        entries.append(outer << 48 | inner << 32 | UInt64(truncatingIfNeeded: offset))
    }

    enum Lookup {
        case absent
        /// The value of the first `steps` path components starts `offset` bytes after the object's.
        case at(offset: Int, steps: Int)
        case unknown
    }

    func lookup(_ first: String, _ second: String?) -> Lookup {
        if ambiguous { return .unknown }
        guard let a = BinaryCodec.dictionaryIndex.index(of: first).map({ UInt64($0) }) else {
            return complete ? .absent : .unknown
        }
        var outerOffset: Int?
        for e in entries where e >> 48 == a && (e >> 32) & 0xFFFF == Self.none {
            outerOffset = Int(e & 0xFFFF_FFFF)
            break
        }
        guard let outerOffset else { return complete ? .absent : .unknown }
        guard let second, objects.contains(a) else { return .at(offset: outerOffset, steps: 1) }
        guard let b = BinaryCodec.dictionaryIndex.index(of: second).map({ UInt64($0) }) else {
            return complete ? .absent : .at(offset: outerOffset, steps: 1)
        }
        let key = a << 48 | b << 32
        for e in entries where e & 0xFFFF_FFFF_0000_0000 == key {
            return .at(offset: Int(e & 0xFFFF_FFFF), steps: 2)
        }
        return complete ? .absent : .at(offset: outerOffset, steps: 1)
    }
}
