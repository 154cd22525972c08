public import Orca
import Synchronization

/// When kube-scheduler tries a pod again after it failed — its scheduling queue
/// (`pkg/scheduler/backend/queue`) as it runs without queueing hints (the 1.31 default).
///
/// A pod that fails waits in `unschedulablePods`, remembering the filter plugins that rejected
/// it. A cluster event moves it out only when one of those plugins registered for the event
/// (`EventsToRegister`):
///
/// | event | plugins it wakes |
/// | --- | --- |
/// | a Node added | all |
/// | a Node's taints, `spec.unschedulable` or labels changed | all (kube-scheduler registers taint and label updates for every plugin that registers Node/Add) |
/// | a Node's allocatable changed | NodeResourcesFit |
/// | a bound pod deleted or finished (kube-scheduler's informer drops finished pods) | NodeResourcesFit |
/// | the pod itself changed other than in its status (`isPodUpdated`) | — (that pod) |
///
/// A woken pod is tried at once if its back-off (1 s doubling per attempt, 10 s at most) has
/// passed since its last attempt, else at the first 1 s tick after it (`flushBackoffQCompleted`).
/// A pod rejected by no plugin ("no nodes available to schedule pods") goes straight to the
/// back-off queue. Every 30 s (`flushUnschedulablePodsLeftover`) a pod that has waited more than
/// 5 minutes since its last attempt is tried regardless. Ticks count from the scheduler's start
/// (its first informer event).
public final class SchedulingQueue: Sendable {
    public static let initialBackoff: Duration = .seconds(1)
    public static let maxBackoff: Duration = .seconds(10)
    /// `podMaxInUnschedulablePodsDuration`.
    public static let maxInUnschedulablePods: Duration = .seconds(300)
    /// How often `flushUnschedulablePodsLeftover` runs.
    public static let unschedulableFlushPeriod: Duration = .seconds(30)
    /// How often `flushBackoffQCompleted` runs.
    public static let backoffFlushPeriod: Duration = .seconds(1)

    /// What to do with a pending pod now.
    public enum Verdict: Sendable, Equatable {
        /// Try to schedule it.
        case attempt
        /// Leave it: nothing it waits for happened; look again after this long.
        case wait(Duration)
    }

    struct Failure {
        var plugins: Set<Scheduling.Plugin>
        var attempts: Int
        var at: Timestamp
        /// The wake counter when it failed: a later wake of one of its plugins moves it.
        var mark: UInt64
    }

    struct State {
        var start: Timestamp?
        var counter: UInt64 = 0
        var wakes: [Scheduling.Plugin: UInt64] = [:]
        var podUpdates: [ObjectKey: UInt64] = [:]
        var failures: [ObjectKey: Failure] = [:]
    }

    let state = Mutex(State())

    public init() {}

    /// Notes the cluster events that move unschedulable pods (see the table above).
    public func observe(_ event: InformerEvent, now: Timestamp) {
        state.withLock { s in
            if s.start == nil { s.start = now }
            let record = event.record
            switch (record.kind, event) {
            case (Node.kind, .added):
                Self.wake(Scheduling.Plugin.allCases, &s)
            case (Node.kind, .updated(let old, let new)):
                let changed = { (path: [String]) in old.value(at: path) != new.value(at: path) }
                if changed(["spec", "taints"]) || changed(["spec", "unschedulable"]) || changed(["metadata", "labels"]) {
                    Self.wake(Scheduling.Plugin.allCases, &s)
                } else if changed(["status", "allocatable"]) {
                    Self.wake([.nodeResourcesFit], &s)
                }
            case (Pod.kind, .deleted(let pod, _)):
                s.failures[pod.key] = nil
                s.podUpdates[pod.key] = nil
                if !(pod.value(at: ["spec", "nodeName"])?.stringValue ?? "").isEmpty, !SchedulerController.isTerminal(pod) {
                    Self.wake([.nodeResourcesFit], &s)
                }
            case (Pod.kind, .updated(let old, let new)):
                let bound = !(new.value(at: ["spec", "nodeName"])?.stringValue ?? "").isEmpty
                if bound, !SchedulerController.isTerminal(old), SchedulerController.isTerminal(new) {
                    Self.wake([.nodeResourcesFit], &s)
                }
                if !SchedulerController.isPending(new) {
                    s.failures[new.key] = nil
                    s.podUpdates[new.key] = nil
                } else if s.failures[new.key] != nil, SchedulerController.podUpdated(old, new) {
                    s.counter += 1
                    s.podUpdates[new.key] = s.counter
                }
            default:
                break
            }
        }
    }

    static func wake(_ plugins: some Sequence<Scheduling.Plugin>, _ s: inout State) {
        s.counter += 1
        for plugin in plugins { s.wakes[plugin] = s.counter }
    }

    /// Whether `key` is to be tried now, or how long until it might be.
    public func verdict(for key: ObjectKey, now: Timestamp) -> Verdict {
        state.withLock { s in
            guard let failure = s.failures[key] else { return .attempt }
            let start = s.start ?? failure.at
            let flushAt = Self.tick(after: failure.at.adding(Self.maxInUnschedulablePods), strictly: true,
                                    period: Self.unschedulableFlushPeriod, from: start)
            if now >= flushAt { return .attempt }
            let moved = failure.plugins.isEmpty
                || failure.plugins.contains { (s.wakes[$0] ?? 0) > failure.mark }
                || (s.podUpdates[key] ?? 0) > failure.mark
            guard moved else { return .wait(flushAt.since(now)) }
            let backoffEnd = failure.at.adding(Self.backoff(attempts: failure.attempts))
            if now >= backoffEnd { return .attempt }
            let ready = Self.tick(after: backoffEnd, strictly: false, period: Self.backoffFlushPeriod, from: start)
            return .wait(ready.since(now))
        }
    }

    /// Records a failed attempt at `now`, rejected by `plugins`; returns when to look again
    /// (its 5-minute flush, or for a pod no plugin rejected, the end of its back-off).
    public func failed(_ key: ObjectKey, plugins: Set<Scheduling.Plugin>, now: Timestamp) -> Duration {
        state.withLock { s in
            let start = s.start ?? now
            if s.start == nil { s.start = now }
            let attempts = (s.failures[key]?.attempts ?? 0) + 1
            s.failures[key] = Failure(plugins: plugins, attempts: attempts, at: now, mark: s.counter)
            s.podUpdates[key] = nil
            let next = plugins.isEmpty
                ? Self.tick(after: now.adding(Self.backoff(attempts: attempts)), strictly: false, period: Self.backoffFlushPeriod, from: start)
                : Self.tick(after: now.adding(Self.maxInUnschedulablePods), strictly: true, period: Self.unschedulableFlushPeriod, from: start)
            return next.since(now)
        }
    }

    /// Forgets `key` (bound).
    public func scheduled(_ key: ObjectKey) {
        state.withLock { s in
            s.failures[key] = nil
            s.podUpdates[key] = nil
        }
    }

    /// `calculateBackoffDuration`: 1 s, doubled for every attempt after the first, at most 10 s.
    public static func backoff(attempts: Int) -> Duration {
        var duration = initialBackoff
        var i = 1
        while i < attempts, duration < maxBackoff {
            duration *= 2
            i += 1
        }
        return min(duration, maxBackoff)
    }

    /// The first tick (`start` + k·`period`) at or after `time` — strictly after it when `strictly`.
    public static func tick(after time: Timestamp, strictly: Bool, period: Duration, from start: Timestamp) -> Timestamp {
        let p = period.components.seconds * 1_000_000_000 + period.components.attoseconds / 1_000_000_000
        let offset = time.nanoseconds - start.nanoseconds
        guard offset >= 0 else { return start }
        var k = offset / p
        if k * p < offset || (strictly && k * p == offset) { k += 1 }
        return Timestamp(nanoseconds: start.nanoseconds + k * p)
    }
}
