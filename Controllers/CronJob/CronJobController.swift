public import Orca

/// Kubernetes' CronJob controller (`pkg/controller/cronjob`, the v2 controller of 1.31): at each
/// time the schedule names (in `timeZone`, UTC by default) it makes a Job from the template,
/// named `<cronjob>-<minutes since the epoch>` — unless the time is past `startingDeadlineSeconds`,
/// that time was already run, or `concurrencyPolicy: Forbid` finds one still active (`Replace`
/// deletes the active ones first); it keeps `status.active`, `lastScheduleTime` and
/// `lastSuccessfulTime`, deletes finished Jobs beyond the history limits, and sleeps until the
/// next scheduled time (plus 100 ms, as upstream pads it).
public struct CronJobController: Reconciler {
    public typealias Object = CronJob
    public static let name = "cronjob"
    /// The annotation recording the time a Job was scheduled for.
    public static let scheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"
    /// `nextScheduleDelta`.
    public static let nextScheduleDelta: Duration = .milliseconds(100)

    public init() {}

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [Watch(Job.kind, .controllerOwner)], workers: 5)
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let cronJob = context.get(CronJob.self, request),
              let record = context.snapshot(CronJob.kind).get(namespace: request.namespace, name: request.name) else { return .done }
        let jobs = context.owned(Job.self, namespace: request.namespace, controllerUID: cronJob.metadata.uid ?? "")
        let sync = CronJobSync(cronJob, record: record, context: context)
        var updateStatus = try await sync.cleanupFinishedJobs(jobs)
        let (requeue, changed) = try await sync.syncCronJob(jobs: jobs)
        updateStatus = updateStatus || changed
        if updateStatus {
            var updated = cronJob
            updated.status = CronJobSync.ordered(sync.cronJob.status)
            do {
                _ = try await context.client.updateStatus(updated)
            } catch let error as StoreError where error.reason == .notFound {
                return .done
            }
        }
        return requeue.map { .requeue(after: max($0, .zero)) } ?? .done
    }
}

/// One sync of one CronJob, holding the status as this sync changes it.
final class CronJobSync {
    var cronJob: CronJob
    let record: EventRecord
    let context: ReconcileContext

    init(_ cronJob: CronJob, record: EventRecord, context: ReconcileContext) {
        self.cronJob = cronJob
        self.record = record
        self.context = context
    }

    var namespace: String { cronJob.metadata.namespace ?? "default" }

    func event(_ reason: String, _ message: String, type: String = "Normal") async {
        await context.events.record(record, type: type, reason: reason, message: message)
    }

    /// `IsJobFinished` / `FinishedCondition`: the type of a true Complete or Failed condition.
    static func finished(_ job: Job) -> String? {
        job.status.conditions.first { ($0.type == "Complete" || $0.type == "Failed") && $0.isTrue }?.type
    }

    var active: [ObjectReference] {
        get { cronJob.status.active }
        set { cronJob.status.active = newValue }
    }

    // MARK: History

    /// `cleanupFinishedJobs`: finished Jobs beyond `successfulJobsHistoryLimit` /
    /// `failedJobsHistoryLimit`, earliest started first, are deleted.
    func cleanupFinishedJobs(_ jobs: [Job]) async throws -> Bool {
        var changed = false
        for (type, limit) in [("Complete", cronJob.spec.successfulJobsHistoryLimit), ("Failed", cronJob.spec.failedJobsHistoryLimit)] {
            guard let limit else { continue }
            let finished = jobs.filter { Self.finished($0) == type }
            guard finished.count > limit else { continue }
            // byJobStartTime: started ones by start time, then the unstarted, ties by name.
            let ordered = finished.sorted { a, b in
                switch (a.status.startTime, b.status.startTime) {
                case let (x?, y?) where x != y: return x < y
                case (nil, _?): return false
                case (_?, nil): return true
                default: return (a.metadata.name ?? "") < (b.metadata.name ?? "")
                }
            }
            for job in ordered.prefix(finished.count - limit) where try await deleteJob(job) { changed = true }
        }
        return changed
    }

    /// `deleteJob`: the Job (in the background) and its entry in `status.active`.
    func deleteJob(_ job: Job) async throws -> Bool {
        let name = job.metadata.name ?? ""
        do {
            _ = try await context.client.delete(kind: Job.kind, namespace: namespace, name: name,
                                                options: DeleteOptions(propagationPolicy: .background))
        } catch let error as StoreError where error.reason != .notFound {
            await event("FailedDelete", "Deleted job: \(error.message)", type: "Warning")
            return false
        }
        active.removeAll { $0.uid == job.metadata.uid }
        await event("SuccessfulDelete", "Deleted job \(name)")
        return true
    }

    // MARK: Sync

    /// `syncCronJob`: returns when to look again (nil: not until something changes) and whether
    /// the status changed.
    func syncCronJob(jobs: [Job]) async throws -> (Duration?, Bool) {
        let now = context.now
        var changed = false
        var children = Set<String>()
        for job in jobs {
            let uid = job.metadata.uid ?? ""
            children.insert(uid)
            let isActive = active.contains { $0.uid == uid }
            let finished = Self.finished(job)
            if !isActive, finished == nil {
                await event("UnexpectedJob", "Saw a job that the controller did not create or forgot: \(job.metadata.name ?? "")", type: "Warning")
            } else if isActive, let finished {
                active.removeAll { $0.uid == uid }
                await event("SawCompletedJob", "Saw completed job: \(job.metadata.name ?? ""), condition: \(finished)")
                changed = true
            } else if finished == "Complete", let completion = job.status.completionTime {
                if cronJob.status.lastSuccessfulTime.map({ completion > $0 }) ?? true {
                    cronJob.status.lastSuccessfulTime = completion
                    changed = true
                }
            }
        }
        for reference in active where !children.contains(reference.uid ?? "") {
            // An uncached read before calling it missing.
            if try context.client.store.get(kind: Job.kind, namespace: reference.namespace ?? namespace, name: reference.name ?? "") == nil {
                await event("MissingJob", "Active job went missing: \(reference.name ?? "")")
                active.removeAll { $0.uid == reference.uid }
                changed = true
            }
        }
        if cronJob.metadata.deletionTimestamp != nil { return (nil, changed) }
        let zone = cronJob.spec.timeZone
        if let zone, !CronSchedule.isKnownTimeZone(zone) {
            await event("UnknownTimeZone", "invalid timeZone: \"\(zone)\": unknown time zone \(zone)", type: "Warning")
            return (nil, changed)
        }
        if cronJob.spec.suspend == true { return (nil, changed) }
        let scheduleText = cronJob.spec.schedule ?? ""
        let schedule: CronSchedule
        do {
            schedule = try CronSchedule(parsing: scheduleText)
        } catch {
            await event("UnparseableSchedule", "unparseable schedule: \"\(scheduleText)\" : \(error.message)", type: "Warning")
            return (nil, changed)
        }
        let (_, mostRecent, manyMissed, invalid) = mostRecentScheduleTime(schedule, now: now, includingDeadline: true)
        if invalid {
            await event("InvalidSchedule", "invalid schedule: \(scheduleText) : time difference between two schedules is less than 1 second",
                        type: "Warning")
            return (nil, changed)
        }
        guard let scheduled = mostRecent, scheduled <= now else {
            return (nextScheduleDuration(schedule, now: now), changed)
        }
        if manyMissed {
            await event("TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
                        type: "Warning")
        }
        if let deadline = cronJob.spec.startingDeadlineSeconds, scheduled.adding(.seconds(deadline)) < now {
            await event("MissSchedule", "Missed scheduled time to start a job: \(Self.rfc1123z(scheduled))", type: "Warning")
            return (nextScheduleDuration(schedule, now: now), changed)
        }
        let name = Self.jobName(cronJob, scheduled)
        if active.contains(where: { $0.name == name }) || cronJob.status.lastScheduleTime == scheduled {
            return (nextScheduleDuration(schedule, now: now), changed)
        }
        if cronJob.spec.concurrencyPolicy == "Forbid", !active.isEmpty {
            await event("JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
            return (nextScheduleDuration(schedule, now: now), changed)
        }
        if cronJob.spec.concurrencyPolicy == "Replace" {
            for reference in active {
                guard let found = try context.client.store.get(kind: Job.kind, namespace: reference.namespace ?? namespace, name: reference.name ?? ""),
                      let job = Job(found.value) else { continue }
                guard try await deleteJob(job) else { throw ReplaceError(message: "could not replace job \(namespace)/\(reference.name ?? "")") }
                changed = true
            }
        }
        let job: Job
        do {
            job = try await context.client.create(Self.job(from: cronJob, scheduled: scheduled))
            await event("SuccessfulCreate", "Created job \(job.metadata.name ?? "")")
        } catch let error as StoreError where error.reason == .alreadyExists {
            // Made earlier (its status update lost): added to the active list again if it is ours.
            guard let found = try context.client.store.get(kind: Job.kind, namespace: namespace, name: name), let existing = Job(found.value),
                  existing.metadata.ownerReferences.contains(where: { $0.controller == true && $0.uid == cronJob.metadata.uid }),
                  !active.contains(where: { $0.uid == existing.metadata.uid }) else { return (nil, changed) }
            job = existing
        } catch let error as StoreError {
            await event("FailedCreate", "Error creating job: \(error.message)", type: "Warning")
            throw error
        }
        active.append(Self.reference(to: job))
        cronJob.status.lastScheduleTime = scheduled
        return (nextScheduleDuration(schedule, now: now), true)
    }

    struct ReplaceError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// `mostRecentScheduleTime`: the latest scheduled time at or before `now` since the last one
    /// run (or the CronJob's creation, or `now − startingDeadlineSeconds` when later); whether
    /// more than 100 were missed; whether the schedule is degenerate (two times under a second
    /// apart).
    func mostRecentScheduleTime(_ schedule: CronSchedule, now: Timestamp, includingDeadline: Bool)
        -> (earliest: Timestamp, mostRecent: Timestamp?, manyMissed: Bool, invalid: Bool) {
        var earliest = cronJob.status.lastScheduleTime ?? cronJob.metadata.creationTimestamp ?? now
        if includingDeadline, let deadline = cronJob.spec.startingDeadlineSeconds {
            let limit = now.adding(.seconds(-deadline))
            if limit > earliest { earliest = limit }
        }
        let zone = cronJob.spec.timeZone
        guard let t1 = schedule.next(after: earliest, timeZone: zone) else { return (earliest, nil, false, false) }
        if now < t1 { return (earliest, nil, false, false) }
        guard let t2 = schedule.next(after: t1, timeZone: zone) else { return (earliest, t1, false, false) }
        if now < t2 { return (earliest, t1, false, false) }
        let between = (t2.nanoseconds - t1.nanoseconds + 500_000_000) / 1_000_000_000
        guard between >= 1 else { return (earliest, nil, false, true) }
        let elapsed = (now.nanoseconds - t1.nanoseconds) / 1_000_000_000
        let missed = elapsed / between + 1
        let potentialEarliest = t1.adding(.seconds((missed - 2) * between))
        var mostRecent: Timestamp?
        var t = schedule.next(after: potentialEarliest, timeZone: zone)
        while let current = t, current <= now {
            mostRecent = current
            t = schedule.next(after: current, timeZone: zone)
        }
        return (earliest, mostRecent, missed > 100, false)
    }

    /// `nextScheduleTimeDuration`: until the schedule's next time after the most recent one
    /// (ignoring the deadline), plus 100 ms.
    func nextScheduleDuration(_ schedule: CronSchedule, now: Timestamp) -> Duration? {
        let (earliest, mostRecent, _, invalid) = mostRecentScheduleTime(schedule, now: now, includingDeadline: false)
        let from = invalid ? now : (mostRecent ?? earliest)
        guard let next = schedule.next(after: from, timeZone: cronJob.spec.timeZone) else { return nil }
        return next.adding(CronJobController.nextScheduleDelta).since(now)
    }

    // MARK: Jobs

    /// `getJobName`: the CronJob's name and the scheduled time in minutes since the epoch.
    static func jobName(_ cronJob: CronJob, _ scheduled: Timestamp) -> String {
        "\(cronJob.metadata.name ?? "")-\(scheduled.nanoseconds / 60_000_000_000)"
    }

    /// `getJobFromTemplate2`: the template's labels, annotations (with the scheduled time in the
    /// CronJob's time zone) and spec, a controller reference.
    static func job(from cronJob: CronJob, scheduled: Timestamp) -> Job {
        let template = cronJob.spec.jobTemplate
        var metadata = ObjectMeta()
        metadata.name = jobName(cronJob, scheduled)
        metadata.namespace = cronJob.metadata.namespace
        let labels = template.metadata.labels
        if !labels.isEmpty { metadata.labels = labels }
        var annotations = template.metadata.annotations
        annotations[CronJobController.scheduledTimestampAnnotation] = rfc3339(scheduled, timeZone: cronJob.spec.timeZone)
        metadata.annotations = annotations
        metadata.ownerReferences = [OwnerReference(apiVersion: CronJob.apiVersion, kind: CronJob.kind, name: cronJob.metadata.name ?? "",
                                                   uid: cronJob.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)]
        var job = Job(metadata: metadata)
        job.spec = template.spec
        return job
    }

    /// The Job as an `ObjectReference` (`ref.GetReference`), in its field order.
    static func reference(to job: Job) -> ObjectReference {
        ObjectReference(raw: ["kind": "Job", "namespace": .string(job.metadata.namespace ?? "default"), "name": .string(job.metadata.name ?? ""),
                              "uid": .string(job.metadata.uid ?? ""), "apiVersion": "batch/v1",
                              "resourceVersion": .string(job.metadata.resourceVersion ?? "")])
    }

    /// RFC 3339 in the named zone (Go's `time.RFC3339`: `Z` for UTC, else the offset).
    static func rfc3339(_ time: Timestamp, timeZone: String?) -> String {
        guard let timeZone, timeZone != "UTC", let offset = CronSchedule.utcOffset(at: time, timeZone: timeZone), offset != 0 else {
            return Timestamp(seconds: time.seconds).rfc3339
        }
        let local = Timestamp(seconds: time.seconds + Int64(offset)).rfc3339.dropLast()  // without the Z
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset)
        return "\(local)\(sign)\(String(format2: magnitude / 3600)):\(String(format2: magnitude % 3600 / 60))"
    }

    /// Go's `time.RFC1123Z` in UTC: `Mon, 02 Jan 2006 15:04:05 +0000`.
    static func rfc1123z(_ time: Timestamp) -> String {
        let text = Timestamp(seconds: time.seconds).rfc3339  // 2006-01-02T15:04:05Z
        let parts = text.split(separator: "T")
        let date = parts[0].split(separator: "-").compactMap { Int($0) }
        guard date.count == 3, parts.count == 2 else { return text }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
        let dayIndex = Int(((time.seconds / 86_400) % 7 + 7) % 7)
        return "\(days[dayIndex]), \(String(format2: date[2])) \(months[date[1] - 1]) \(date[0]) \(parts[1].dropLast()) +0000"
    }

    /// CronJobStatus in the API's field order.
    static func ordered(_ status: CronJobStatus) -> CronJobStatus {
        var raw = status.raw
        if raw["active"]?.arrayValue?.isEmpty == true { raw["active"] = nil }
        return CronJobStatus(raw: raw.ordered(first: ["active", "lastScheduleTime", "lastSuccessfulTime"]))
    }
}

extension String {
    /// A number written with at least two digits.
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : String(value) }
}
