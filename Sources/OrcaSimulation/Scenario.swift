public import Orca
import KubeletSimulator

/// A parsed scenario (SCENARIOS.md §1): a simulated cluster, what happens to it, and what must
/// hold at the end.
public struct Scenario: Sendable {
    public var file: String
    public var name: String = ""
    public var seed: UInt64 = 1
    public var start: Timestamp = Timestamp(rfc3339: "2026-01-01T00:00:00Z") ?? .zero
    public var until: Duration = .seconds(600)
    public var config = SimulationConfig()
    public var nodes: [NodeDeclaration] = []
    public var objects: [Located<JSONValue>] = []
    public var steps: [Step] = []
    public var expectations: [Expectation] = []

    public init(file: String) { self.file = file }
}

/// A value with the line it came from (for error messages).
public struct Located<T: Sendable>: Sendable {
    public var value: T
    public var line: Int
    public var field: String
}

/// A Node at t=0, and whether it gets a simulated kubelet.
public struct NodeDeclaration: Sendable {
    public var manifest: JSONValue
    public var kubelet: Bool
    public var line: Int
}

/// Control-plane settings (`config:`), with Kubernetes' defaults.
public struct SimulationConfig: Sendable {
    public var nodeMonitorPeriod: Duration = .seconds(5)
    public var nodeMonitorGracePeriod: Duration = .seconds(40)
    public var nodeStartupGracePeriod: Duration = .seconds(60)
    public var nodeEvictionRate: Double = 0.1
    public var secondaryNodeEvictionRate: Double = 0.01
    public var largeClusterSizeThreshold = 50
    public var unhealthyZoneThreshold: Double = 0.55
    public var podGCPeriod: Duration = .seconds(20)
    public var podGCQuarantine: Duration = .seconds(40)
    public var terminatedPodGCThreshold = 12_500
    public var defaultTolerationSeconds: Int64 = 300
    public var terminationGracePeriodSeconds: Int64 = 30
    /// Controllers not to run (names as `orca run --help` lists them).
    public var disabled: Set<String> = []
    public init() {}
}

/// Names an object: by name, or the ordinal-th live object matching a selector in creation order.
public struct Target: Sendable, CustomStringConvertible {
    public var kind: String = "Pod"
    public var namespace: String = "default"
    public var name: String?
    public var selector: LabelSelector?
    public var selectorText: String?
    public var ordinal: Int = 0

    public var description: String {
        if let name { return "\(kind) \(namespace)/\(name)" }
        return "\(kind) in \(namespace) with selector \(selectorText ?? "") (ordinal \(ordinal))"
    }
}

/// One input at a moment of the run.
public struct Step: Sendable {
    public var at: Duration
    public var line: Int
    public var index: Int
    public var action: Action

    public enum Action: Sendable {
        case apply([Located<JSONValue>])
        /// A merge patch of the object (`subresource: status` or, for a Namespace, `finalize`).
        case patch(Target, merge: JSONValue, subresource: Subresource)
        case delete(Target, DeleteOptions)
        case node(String, NodeAction)
        case pod(Target, PodAction)
        case delayWatch(kind: String, controller: String, by: Duration)
    }

    public enum NodeAction: Sendable {
        case stopHeartbeat, resumeHeartbeat, cordon, uncordon, delete
        case setCondition(Condition)
    }

    public enum PodAction: Sendable {
        case exit(container: String?, exitCode: Int)
        case setReady(Bool)
        case failLiveness(container: String?)
        case evict
        case setBehavior(BehaviorChange)
    }
}

/// The keys of a `set-behavior` action; nil leaves a setting as it is.
public struct BehaviorChange: Sendable {
    public var startAfter: Duration?
    public var runFor: Duration??
    public var exitCodes: [Int]?
    public var readyAfter: Duration??
    public var ignoreSigterm: Bool?

    func applied(to behavior: Behavior) -> Behavior {
        var b = behavior
        if let startAfter { b.startAfter = startAfter }
        if let runFor { b.runFor = runFor }
        if let exitCodes { b.exitCodes = exitCodes }
        if let readyAfter { b.readyAfter = readyAfter }
        if let ignoreSigterm { b.ignoreSigterm = ignoreSigterm }
        return b
    }
}

/// One `expect:` entry: objects of a kind, filtered, and what they must look like.
public struct Expectation: Sendable {
    public var line: Int
    public var index: Int
    public var kind = "Pod"
    /// nil: every namespace.
    public var namespace: String? = "default"
    public var name: String?
    public var selector: LabelSelector?
    public var selectorText: String?
    /// When to look (offset from the start; nil = the end of the run).
    public var at: Duration?
    public var count: Int?
    public var phase: String?
    public var onNode: String?
    public var notOnNode: String?
    public var ready: Bool?
    public var terminating: Bool?
    /// `metadata`/`spec`/`status` subsets, and dotted paths, that must match.
    public var fields: [(path: [String], value: JSONValue)] = []
}
