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
        var writer = BinaryWriter()
        writer.value(value)
        writer.copy(into: &out)
    }

    /// Encodes an object whose `metadata.resourceVersion` is to be the seq of the record it is
    /// stored in: that field is written as tag 9 (added at the end of `metadata` when absent,
    /// where setting it would put it). Values without a `metadata` object encode as usual.
    public static func encodeStampingResourceVersion(_ value: JSONValue, into out: inout [UInt8]) {
        var writer = BinaryWriter()
        writer.valueStampingResourceVersion(value)
        writer.copy(into: &out)
    }

    /// Appends a log record's object as record version 3 stores it: the ``MemberTable`` a read
    /// would otherwise build by walking the object (``MemberTable/write(_:into:)``), then the
    /// object, with `metadata.resourceVersion` as tag 9 when `stampingResourceVersion` (as
    /// ``encodeStampingResourceVersion(_:into:)``).
    package static func encodeRecordObject(_ value: JSONValue, stampingResourceVersion: Bool, into out: inout [UInt8]) {
        var writer = BinaryWriter()
        let table = writer.recordObject(value, stamping: stampingResourceVersion)
        MemberTable.write(table, into: &out)
        writer.copy(into: &out)
    }

    /// Encodes `value` into a new byte array.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        encode(value, into: &out)
        return out
    }

    /// Decodes one value from `bytes`; the whole buffer must be consumed.
    ///
    /// - Throws: ``BinaryDecodingError`` on truncated or malformed input (never traps).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(BinaryDecodingError) -> JSONValue {
        var reader = BinaryReader(bytes: bytes)
        let value = try reader.readJSONValue()
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
    /// buffer (timestamps, images) is shared instead of allocated again. Only while a whole
    /// value is decoded (``readJSONValue()``): a read of one field or of a record's header
    /// meets few repeats, and the table's allocation cost more than it saved.
    var recent: [(offset: Int, count: Int, string: String)] = []
    var recentNext = 0
    var sharesRepeatedStrings = false

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
        if n > 15, sharesRepeatedStrings, let base = bytes.baseAddress {
            for entry in recent where entry.count == n && memcmp(base + entry.offset, base + offset, n) == 0 {
                offset += n
                return entry.string
            }
        }
        guard let s = FastStrings.string(slice) else { throw error("invalid UTF-8") }
        if n > 15, sharesRepeatedStrings {
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

    /// Reads one value in ``BinaryCodec``'s encoding.
    public mutating func readJSONValue() throws(BinaryDecodingError) -> JSONValue {
        sharesRepeatedStrings = true
        defer { sharesRepeatedStrings = false }
        return try readValue(depth: 0)
    }

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
