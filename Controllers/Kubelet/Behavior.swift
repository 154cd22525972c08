import Orca

/// How a simulated container behaves: from the pod's `sim.orca.dev/*` annotations, changed by a
/// scenario's `set-behavior` action.
public struct Behavior: Sendable, Hashable {
    public static let startAfterAnnotation = "sim.orca.dev/start-after"
    public static let runForAnnotation = "sim.orca.dev/run-for"
    public static let exitCodeAnnotation = "sim.orca.dev/exit-code"
    public static let exitCodesAnnotation = "sim.orca.dev/exit-codes"
    public static let readyAfterAnnotation = "sim.orca.dev/ready-after"
    public static let ignoreSigtermAnnotation = "sim.orca.dev/ignore-sigterm"
    public static let frozenAnnotation = "sim.orca.dev/frozen"
    public static let kubeletAnnotation = "sim.orca.dev/kubelet"

    /// Binding to Running (default 1 s).
    public var startAfter: Duration = .seconds(1)
    /// Each run exits on its own after this long (nil: runs until stopped).
    public var runFor: Duration?
    /// Exit codes of successive runs; the last repeats (default `[0]`).
    public var exitCodes: [Int] = [0]
    /// Readiness this long after Running (nil: at once, or the readiness probe's initial delay).
    public var readyAfter: Duration?
    /// Runs on after SIGTERM until the grace period ends, then is killed.
    public var ignoreSigterm = false
    /// The kubelet never changes this pod's status.
    public var frozen = false

    public init() {}

    /// The behaviour the annotations describe. Throws a message naming the annotation for a
    /// value that does not parse.
    public init(annotations: [String: String]) throws(BehaviorError) {
        func duration(_ key: String) throws(BehaviorError) -> Duration? {
            guard let text = annotations[key] else { return nil }
            guard let d = Duration.parseGo(text), d >= .zero else {
                throw BehaviorError("annotation \(key): invalid duration \"\(text)\" (use Go syntax such as 30s or 1m30s)")
            }
            return d
        }
        if let d = try duration(Self.startAfterAnnotation) { startAfter = d }
        runFor = try duration(Self.runForAnnotation)
        readyAfter = try duration(Self.readyAfterAnnotation)
        if let text = annotations[Self.exitCodesAnnotation] {
            let codes = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !codes.isEmpty, codes.allSatisfy({ $0 != nil }) else {
                throw BehaviorError("annotation \(Self.exitCodesAnnotation): invalid exit codes \"\(text)\" (use a list such as 1,1,0)")
            }
            exitCodes = codes.compactMap { $0 }
        } else if let text = annotations[Self.exitCodeAnnotation] {
            guard let code = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw BehaviorError("annotation \(Self.exitCodeAnnotation): invalid exit code \"\(text)\"")
            }
            exitCodes = [code]
        }
        ignoreSigterm = annotations[Self.ignoreSigtermAnnotation] == "true"
        frozen = annotations[Self.frozenAnnotation] == "true"
    }

    /// The exit code of the `run`-th run (counting from 0).
    public func exitCode(run: Int) -> Int {
        exitCodes.isEmpty ? 0 : exitCodes[min(run, exitCodes.count - 1)]
    }
}

public struct BehaviorError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
