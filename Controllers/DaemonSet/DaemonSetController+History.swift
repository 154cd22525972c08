import Orca

extension DaemonSetController {
    /// `constructHistory`: claims the DaemonSet's ControllerRevisions, labels any without a
    /// hash, finds (or creates) the one matching the current template, keeps only the newest of
    /// duplicates and gives the current one the highest revision. Returns the current hash.
    func constructHistory(_ sync: Sync, context: ReconcileContext) async throws -> String {
        var current: [ControllerRevision] = []
        var old: [ControllerRevision] = []
        for var revision in try await controlledHistories(sync, context: context) {
            if revision.metadata.labels[DaemonSetPlanning.revisionHashLabel] == nil {
                revision.metadata.labels[DaemonSetPlanning.revisionHashLabel] = revision.metadata.name ?? ""
                revision = try await context.client.update(revision)
            }
            if DaemonSetHistory.matches(sync.ds, revision) { current.append(revision) } else { old.append(revision) }
        }
        let next = (old.compactMap(\.revision).max() ?? 0) + 1
        var cur: ControllerRevision
        if current.isEmpty {
            cur = try await snapshot(sync, revision: next, context: context)
        } else {
            cur = try await dedupCurrent(sync, current, context: context)
            if (cur.revision ?? 0) < next {
                cur.revision = next
                cur = try await context.client.update(cur)
            }
        }
        return cur.metadata.labels[DaemonSetPlanning.revisionHashLabel] ?? ""
    }

    /// `controlledHistories`: the revisions this DaemonSet controls after adopting matching
    /// orphans (once it is confirmed to exist) and releasing its revisions that stopped matching.
    func controlledHistories(_ sync: Sync, context: ReconcileContext) async throws -> [ControllerRevision] {
        try await ControllerRefManager(owner: sync.owner, namespace: sync.namespace, selector: sync.selector, deleting: false)
            .claim(context.list(ControllerRevision.self, namespace: sync.namespace), context: context)
    }

    /// `snapshot`: creates the revision for the current template. A same-named revision with a
    /// different template is a hash collision: `status.collisionCount` goes up and the sync is
    /// retried (with the new count the hash, and so the name, changes).
    func snapshot(_ sync: Sync, revision number: Int, context: ReconcileContext) async throws -> ControllerRevision {
        let revision = DaemonSetHistory.revision(for: sync.ds, number: number, owner: sync.owner)
        do {
            return try await context.client.create(revision)
        } catch let error as StoreError where error.reason == .alreadyExists {
            let name = revision.metadata.name ?? ""
            guard let existing = try context.client.store.get(kind: ControllerRevision.kind, namespace: sync.namespace, name: name)
                .flatMap({ ControllerRevision($0.value) }) else { throw error }
            if DaemonSetHistory.matches(sync.ds, existing) { return existing }
            guard let fresh = try context.client.store.get(kind: DaemonSet.kind, namespace: sync.namespace, name: sync.ds.metadata.name ?? "")
                .flatMap({ DaemonSet($0.value) }) else { throw error }
            if fresh.status.collisionCount != sync.ds.status.collisionCount {
                throw SyncError(messages: ["found a stale collision count (\(sync.ds.status.collisionCount ?? 0), expected \(fresh.status.collisionCount ?? 0)) of DaemonSet \"\(sync.ds.metadata.name ?? "")\" while processing; will retry until it is updated"])
            }
            var bumped = fresh
            bumped.status.collisionCount = (fresh.status.collisionCount ?? 0) + 1
            try await context.client.updateStatus(bumped)
            throw error
        }
    }

    /// `dedupCurHistories`: keeps the current revision with the highest number, relabels pods
    /// that carry another duplicate's hash, and deletes the other duplicates.
    func dedupCurrent(_ sync: Sync, _ revisions: [ControllerRevision], context: ReconcileContext) async throws -> ControllerRevision {
        guard var keep = revisions.first else { throw SyncError(messages: ["no current revision to keep"]) }
        guard revisions.count > 1 else { return keep }
        for revision in revisions where (revision.revision ?? 0) >= (keep.revision ?? 0) { keep = revision }
        let hash = keep.metadata.labels[DaemonSetPlanning.revisionHashLabel] ?? ""
        let pods = try await claimPods(sync, context: context)
        var labels = JSONObject()
        labels[DaemonSetPlanning.revisionHashLabel] = .string(hash)
        for pod in pods where pod.metadata.labels[DaemonSetPlanning.revisionHashLabel] != hash {
            try await context.client.patch(kind: "Pod", namespace: sync.namespace, name: pod.metadata.name ?? "",
                                           mergePatch: ["metadata": ["labels": .object(labels)]])
        }
        for revision in revisions where revision.metadata.name != keep.metadata.name {
            try await context.client.delete(kind: ControllerRevision.kind, namespace: sync.namespace, name: revision.metadata.name ?? "")
        }
        return keep
    }

    /// `cleanupHistory`: deletes the oldest old revisions beyond `revisionHistoryLimit`, never
    /// one a live pod (terminal ones included) still carries.
    func cleanupHistory(_ sync: Sync, context: ReconcileContext) async throws {
        let limit = sync.ds.spec.revisionHistoryLimit ?? 10
        let old = try await controlledHistories(sync, context: context).filter { !DaemonSetHistory.matches(sync.ds, $0) }
        guard old.count > limit else { return }
        let pods = DaemonSetPlanning.nodeToDaemonPods(sync.pods, includeDeletedTerminal: true).values.joined()
        let live = Set(pods.compactMap { $0.metadata.labels[DaemonSetPlanning.revisionHashLabel] })
        for name in DaemonSetHistory.revisionsToDelete(old: old, limit: limit, liveHashes: live) {
            do {
                try await context.client.delete(kind: ControllerRevision.kind, namespace: sync.namespace, name: name)
            } catch let error as StoreError where error.reason == .notFound {
                continue
            }
        }
    }
}
