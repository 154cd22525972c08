import OrcaStore
import Testing

@Suite("seeded identities")
struct IdentityTests {
    @Test("UIDs and name suffixes increase in creation order, repeat for a seed and differ between seeds")
    func monotonicAndReproducible() {
        let a = SeededIdentityGenerator(seed: 7), b = SeededIdentityGenerator(seed: 7), c = SeededIdentityGenerator(seed: 8)
        let uids = (0..<2000).map { _ in a.uid() }
        let suffixes = (0..<2000).map { _ in a.nameSuffix() }
        #expect(uids == uids.sorted() && Set(uids).count == uids.count)
        #expect(suffixes == suffixes.sorted() && Set(suffixes).count == suffixes.count)
        #expect(uids.allSatisfy { $0.count == 36 && $0.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12] })
        #expect(suffixes.allSatisfy { $0.count == 5 && $0.allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) } })
        #expect((0..<2000).map { _ in b.uid() } == uids)
        #expect(c.uid() != uids[0])
    }
}
