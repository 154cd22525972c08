import Orca
import Testing
@testable import OrcaSimulation

@Suite struct ExpectationMatchingTests {
    @Test("an expected list item matches any element of the actual list; objects match as subsets")
    func listSubset() throws {
        let actual = try JSONValue.parse(#"{"conditions":[{"type":"A","status":"True"},{"type":"Initialized","status":"False","reason":"X"}]}"#)
        let expected = try JSONValue.parse(#"{"conditions":[{"reason":"X"}]}"#)
        #expect(Expectation.contains(actual, expected))
        let wrong = try JSONValue.parse(#"{"conditions":[{"reason":"Y"}]}"#)
        #expect(!Expectation.contains(actual, wrong))
        #expect(Expectation.contains(actual, try JSONValue.parse(#"{"missing":[]}"#)))
        #expect(!Expectation.contains(actual, try JSONValue.parse(#"{"conditions":[]}"#)))
    }
}
