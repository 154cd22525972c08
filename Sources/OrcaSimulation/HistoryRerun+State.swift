import Orca

/// The bookkeeping of one ``HistoryRerun/run()``: what was recorded of each object, its
/// counterpart in the run, and the world's events waiting for one.
struct RerunState {
    let rerun: HistoryRerun
    let log: any EventLog
    let manager: ControllerManager
    let clock: VirtualClock
    /// The actors the run's controllers write as (`controller/<name>`).
    let runActors: Set<String>

    /// One recorded object (by UID, or by key when the history gives none).
    struct Recorded {
        var key: ObjectKey
        /// Its latest recorded version; nil once deleted.
        var latest: JSONValue?
        /// A replaced writer created it: its counterpart is matched, not created.
        var createdByReplaced: Bool
        /// A replaced writer created or wrote it: its end state is compared.
        var compared: Bool
        var createdAt: Timestamp
        /// The controlling owner's recorded UID at creation.
        var owner: String?
    }

    /// An object the run's controllers created that no recorded object matched yet.
    struct Candidate {
        var key: ObjectKey
        var uid: String
        var owner: String?
        var time: Timestamp
    }

    enum Change {
        case patch(JSONValue)
        case delete
    }

    struct Held {
        var line: Int
        var writer: String
        var change: Change
    }

    var recorded: [String: Recorded] = [:]
    var order: [String] = []
    /// Recorded id → the run's object (key and UID).
    var counterparts: [String: (key: ObjectKey, uid: String)] = [:]
    /// Recorded UID → the counterpart's UID, for translating references.
    var uids: [String: String] = [:]
    /// Recorded name → the counterpart's, where they differ (the names of created objects are
    /// generated), for translating references and messages.
    var names: [String: String] = [:]
    var pending: [String] = []
    var held: [String: [Held]] = [:]
    var candidates: [Candidate] = []
    var scanned: UInt64 = 0
    var rerunCreated: [String: [ObjectKey]] = [:]
    var lags: [String: [Duration]] = [:]
    var skipped: [HistoryRerun.Report.Skipped] = []

    init(rerun: HistoryRerun) {
        self.rerun = rerun
        log = rerun.simulation.log
        manager = rerun.simulation.manager
        clock = rerun.simulation.clock
        runActors = Set(manager.controllers.map { "controller/\($0.name)" })
    }


    static func controllingOwner(of object: JSONValue) -> String? {
        let owners = Unstructured(object).ownerReferences
        return (owners.first { $0.controller == true } ?? owners.first)?.uid
    }

    // MARK: The loop

    /// Runs the timers due before `time` (those due at `time` run after its events), then sets
    /// the clock to it.
    mutating func advance(to time: Timestamp) async throws {
        while let wake = manager.nextTimer, wake < time {
            let now = clock.now()
            clock.advance(to: max(wake, now))
            try await settle()
            if wake <= now, let next = manager.nextTimer, next <= wake { break }  // nothing fell due
        }
        clock.advance(to: time)
    }

    /// Drains the controllers, then matches what they created to the recorded objects waiting
    /// for a counterpart (which may apply held events, and so drains again).
    mutating func settle() async throws {
        repeat {
            try await manager.drain()
            try scanRun()
        } while try await matchPending()
    }

    mutating func process(_ entry: History.Entry, writer: String, replaced isReplaced: Bool) async throws {
        let object = entry.object
        let id = History.identity(of: object)
        let key = Unstructured(object).key
        let previous = recorded[id]

        guard let previous, previous.latest != nil else {
            // The object's first version (or first since a deletion).
            switch entry.type {
            case .deleted:
                skipped.append(.init(line: entry.line, key: key, reason: "deleted, but the history never showed it"))
            case .added where isReplaced:
                remember(id, key: key, latest: object, createdByReplaced: true)
                pending.append(id)
            case .added, .modified:
                // Created by the world, or there before the history starts: created as recorded.
                remember(id, key: key, latest: object, createdByReplaced: false)
                recorded[id]?.compared = isReplaced
                try await create(object, writer: writer, id: id, line: entry.line)
            }
            return
        }
        recorded[id]?.latest = entry.type == .deleted ? JSONValue?.none : object
        if isReplaced {
            recorded[id]?.compared = true
            return
        }
        switch entry.type {
        case .deleted:
            try await deliver(.delete, to: id, key: key, writer: writer, line: entry.line)
        case .added, .modified:
            guard let patch = JSONValue.mergePatch(from: Self.identityless(previous.latest ?? .null), to: Self.identityless(object))
            else { return }
            try await deliver(.patch(patch), to: id, key: key, writer: writer, line: entry.line)
        }
    }

    mutating func remember(_ id: String, key: ObjectKey, latest: JSONValue, createdByReplaced: Bool) {
        if recorded[id] == nil { order.append(id) }
        recorded[id] = Recorded(key: key, latest: latest, createdByReplaced: createdByReplaced, compared: createdByReplaced,
                                createdAt: clock.now(), owner: Self.controllingOwner(of: latest))
    }

    /// The object without what differs between an object and its counterpart by nature: UID,
    /// name (generated), creation time and the bookkeeping of every write.
    static func identityless(_ object: JSONValue) -> JSONValue {
        guard case .object(var o) = object, case .object(var meta)? = o["metadata"] else { return object }
        for field in ["uid", "name", "resourceVersion", "managedFields", "creationTimestamp", "selfLink"] { meta[field] = nil }
        o["metadata"] = .object(meta)
        return .object(o)
    }

    /// `value` without any `resourceVersion` member at any depth: an object reference's
    /// (`involvedObject`, `targetRef`) names a position in its own log, never comparable to one
    /// in another log.
    static func withoutResourceVersions(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let items): return .array(items.map(withoutResourceVersions))
        case .object(let o):
            return .object(JSONObject(entries: o.entries.compactMap { entry in
                entry.key == "resourceVersion" ? nil : (entry.key, withoutResourceVersions(entry.value))
            }))
        default: return value
        }
    }

    /// Every recorded UID in `value` replaced by its counterpart's, and every recorded name of a
    /// created object by its counterpart's, also inside text (`Created pod: web-x7k2p`).
    func translated(_ value: JSONValue) -> JSONValue {
        guard !uids.isEmpty || !names.isEmpty else { return value }
        switch value {
        case .string(let s): return .string(uids[s] ?? translatedNames(s))
        case .array(let items): return .array(items.map(translated))
        case .object(let o): return .object(JSONObject(entries: o.entries.map { ($0.key, translated($0.value)) }))
        default: return value
        }
    }

    /// `text` with each recorded name of a created object (a run of letters, digits and `-`
    /// between other characters) replaced by its counterpart's.
    func translatedNames(_ text: String) -> String {
        guard !names.isEmpty else { return text }
        var out = ""
        var word = ""
        func flush() {
            out += names[word] ?? word
            word = ""
        }
        for c in text {
            if c.isLetter || c.isNumber || c == "-" {
                word.append(c)
            } else {
                flush()
                out.append(c)
            }
        }
        flush()
        return out
    }

    // MARK: Writing the world's events

    mutating func create(_ object: JSONValue, writer: String, id: String, line: Int) async throws {
        var copy = translated(object)
        copy[path: ["metadata", "resourceVersion"]] = nil
        let draft = EventDraft(time: clock.now(), type: .added, actor: writer, cause: nil, object: copy)
        let key = Unstructured(copy).key
        let created = try await log.transact { txn -> Bool in
            guard try txn.current(key) == nil else { return false }
            try txn.append(draft)
            return true
        }
        guard created else {
            skipped.append(.init(line: line, key: key, reason: "not created: the run already has an object of that name"))
            return
        }
        let uid = Unstructured(copy).uid
        counterparts[id] = (key, uid)
    }

    mutating func deliver(_ change: Change, to id: String, key: ObjectKey, writer: String, line: Int) async throws {
        guard counterparts[id] != nil else {
            if pending.contains(id) {
                held[id, default: []].append(Held(line: line, writer: writer, change: change))
            } else {
                skipped.append(.init(line: line, key: key, reason: "no counterpart in the run"))
            }
            return
        }
        try await apply(Held(line: line, writer: writer, change: change), to: id, key: key)
    }

    mutating func apply(_ event: Held, to id: String, key: ObjectKey) async throws {
        guard let target = counterparts[id] else { return }
        let now = clock.now()
        let change: Change
        switch event.change {
        case .patch(let patch): change = .patch(translated(patch))
        case .delete: change = .delete
        }
        let done = try await log.transact { txn -> Bool in
            guard let current = try txn.current(target.key), current.uid == target.uid else { return false }
            switch change {
            case .patch(let patch):
                try txn.append(EventDraft(time: now, type: .modified, actor: event.writer, cause: nil,
                                          object: current.object.applyingMergePatch(patch)))
            case .delete:
                try txn.append(EventDraft(time: now, type: .deleted, actor: event.writer, cause: nil, object: current.object))
            }
            return true
        }
        if !done { skipped.append(.init(line: event.line, key: key, reason: "its counterpart \(target.key) is gone from the run")) }
    }

    // MARK: Matching

    /// Notes the objects the run's controllers created (and forgets unmatched ones they deleted).
    mutating func scanRun() throws {
        let latest = try log.latestSeq()
        while scanned < latest {
            let batch = try log.read(from: scanned + 1, limit: 4096)
            guard let last = batch.last else { break }
            for record in batch {
                if record.type == .added, runActors.contains(record.actor) {
                    rerunCreated[record.kind, default: []].append(record.key)
                    candidates.append(Candidate(key: record.key, uid: record.uid,
                                                owner: Self.controllingOwner(of: record.object), time: record.time))
                } else if record.type == .deleted {
                    candidates.removeAll { $0.uid == record.uid && $0.key == record.key }
                }
            }
            scanned = last.seq
        }
    }

    /// Gives waiting recorded objects counterparts, in recorded order; true when one got one.
    mutating func matchPending() async throws -> Bool {
        var matchedAny = false
        var index = 0
        while index < pending.count {
            let id = pending[index]
            guard let object = recorded[id] else {
                pending.remove(at: index)
                continue
            }
            let owner = object.owner.map { uids[$0] ?? $0 }
            let fits = { (c: Candidate) in
                c.key.kind == object.key.kind && c.key.namespace == object.key.namespace && c.owner == owner
            }
            guard let found = candidates.firstIndex(where: { fits($0) && $0.key.name == object.key.name })
                ?? candidates.firstIndex(where: fits)
            else {
                index += 1
                continue
            }
            let candidate = candidates.remove(at: found)
            pending.remove(at: index)
            counterparts[id] = (candidate.key, candidate.uid)
            if !id.hasPrefix("key:") { uids[id] = candidate.uid }
            if candidate.key.name != object.key.name { names[object.key.name] = candidate.key.name }
            lags[object.key.kind, default: []].append(candidate.time.since(object.createdAt))
            for event in held.removeValue(forKey: id) ?? [] { try await apply(event, to: id, key: object.key) }
            matchedAny = true
        }
        return matchedAny
    }
}

extension RerunState {
    /// What differs between a recorded version and the run's (nil: no object), as the end-state
    /// comparison sees it.
    func differences(_ recorded: JSONValue?, _ run: JSONValue?) -> [CauseChain.Change] {
        CauseChain.changes(from: recorded.map { Self.withoutResourceVersions(Self.identityless(translated($0))) },
                           to: run.map { Self.withoutResourceVersions(Self.identityless($0)) })
            .filter { !rerun.ignores($0.path) }
    }

    /// Sets each differing end state's ``HistoryRerun/Report/EndState/since``: walking both
    /// sides' versions of the object in time, the first moment after which the fields that differ
    /// at the end (or fields above or below them) never agree again; nil when they never agreed.
    func dateDivergences(_ endStates: inout [HistoryRerun.Report.EndState]) throws {
        guard !endStates.isEmpty else { return }
        typealias Version = (time: Timestamp, object: JSONValue?)
        let wanted = Set(endStates.map(\.recorded))
        var recordedVersions: [ObjectKey: [Version]] = [:]
        var reader = try rerun.source.makeReader()
        var index = 0
        while let batch = try reader.next() {
            for entry in batch {
                defer { index += 1 }
                let key = Unstructured(entry.object).key
                guard wanted.contains(key), index < rerun.times.count else { continue }
                recordedVersions[key, default: []].append((rerun.times[index], entry.type == .deleted ? nil : entry.object))
            }
        }
        let runKeys = Dictionary(endStates.compactMap { state in state.rerun.map { ($0, state.recorded) } }, uniquingKeysWith: { a, _ in a })
        var runVersions: [ObjectKey: [Version]] = [:]
        try log.scan { batch in
            for record in batch {
                guard let key = runKeys[record.key] else { continue }
                runVersions[key, default: []].append((record.time, record.type == .deleted ? nil : record.object))
            }
            return true
        }
        for i in endStates.indices {
            let key = endStates[i].recorded
            let a = recordedVersions[key] ?? []
            let b = runVersions[key] ?? []
            let moments = Set(a.map(\.time) + b.map(\.time)).sorted()
            let paths = endStates[i].changes.map(\.path)
            func related(_ path: String) -> Bool {
                path.isEmpty || paths.contains { HistoryRerun.path(path, isAtOrBelow: $0) || HistoryRerun.path($0, isAtOrBelow: path) }
            }
            var lastAgreement: Int?
            var ia = -1, ib = -1
            for (m, moment) in moments.enumerated() {
                while ia + 1 < a.count, a[ia + 1].time <= moment { ia += 1 }
                while ib + 1 < b.count, b[ib + 1].time <= moment { ib += 1 }
                let x = ia >= 0 ? a[ia].object : nil
                let y = ib >= 0 ? b[ib].object : nil
                if x != nil || y != nil, !differences(x, y).contains(where: { related($0.path) }) { lastAgreement = m }
            }
            if let last = lastAgreement, last + 1 < moments.count { endStates[i].since = moments[last + 1] }
        }
    }

    func report() throws -> HistoryRerun.Report {
        typealias Report = HistoryRerun.Report
        var actorCounts: [String: Int] = [:]
        try log.scan { batch in
            for record in batch where runActors.contains(record.actor) { actorCounts[record.actor, default: 0] += 1 }
            return true
        }
        var recordedByKind: [String: [String]] = [:]
        for id in order where recorded[id]?.createdByReplaced == true {
            recordedByKind[recorded[id]?.key.kind ?? "", default: []].append(id)
        }
        let kinds = Set(recordedByKind.keys).union(rerunCreated.keys).sorted()
        let creations = kinds.map { kind -> Report.Creations in
            let ids = recordedByKind[kind] ?? []
            let lag = lags[kind].flatMap { values in values.min().flatMap { low in values.max().map { low...$0 } } }
            return Report.Creations(
                kind: kind, recorded: ids.count, rerun: rerunCreated[kind]?.count ?? 0,
                matched: ids.filter { counterparts[$0] != nil }.count,
                unmatchedRecorded: ids.filter { counterparts[$0] == nil }.compactMap { recorded[$0]?.key },
                unmatchedRerun: candidates.filter { $0.key.kind == kind }.map(\.key), lag: lag, inHistory: rerun.kinds.contains(kind))
        }
        var endStates: [Report.EndState] = []
        var compared = 0
        for id in order {
            guard let object = recorded[id], object.compared else { continue }
            compared += 1
            let counterpart = counterparts[id]
            // (JSONValue takes a nil literal as JSON null: the optional is spelled out.)
            let final: JSONValue? = try counterpart.flatMap { target in
                try log.current(target.key).flatMap { $0.uid == target.uid ? Optional($0.object) : Optional<JSONValue>.none }
            }
            let changes = differences(object.latest, final)
            guard !changes.isEmpty else { continue }
            endStates.append(Report.EndState(recorded: object.key, rerun: counterpart?.key, existsRecorded: object.latest != nil,
                                             existsInRerun: final != nil, changes: changes, since: nil))
        }
        try dateDivergences(&endStates)
        var skipped = skipped
        for id in order {
            for event in held[id] ?? [] {
                skipped.append(.init(line: event.line, key: recorded[id]?.key ?? ObjectKey(kind: "", namespace: "", name: ""),
                                     reason: "the run never created a counterpart"))
            }
        }
        skipped.sort { $0.line < $1.line }
        var writers: [String: Report.Writer] = [:]
        for writer in rerun.writers {
            writers[writer.name, default: Report.Writer(name: writer.name, events: 0, replaced: 0)].events += 1
            if writer.replaced { writers[writer.name]?.replaced += 1 }
        }
        let replaced = rerun.writers.filter(\.replaced).count
        return Report(
            events: rerun.times.count, applied: rerun.times.count - replaced - skipped.count, replaced: replaced,
            writers: writers.values.sorted { ($0.events, $1.name) > ($1.events, $0.name) },
            skipped: skipped, rerunEvents: Int(try log.latestSeq()),
            rerunWrites: actorCounts.map { Report.ActorCount(actor: $0.key, events: $0.value) }.sorted { $0.actor < $1.actor },
            creations: creations, compared: compared, endStates: endStates)
    }
}
