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

    @Test("an absent field holds its zero value, as the API omits zero counts (readyReplicas: 0), false and empty strings")
    func absentIsZero() throws {
        let status = try JSONValue.parse(#"{"replicas":0,"observedGeneration":2}"#)
        #expect(Expectation.contains(status, try JSONValue.parse(#"{"replicas":0,"readyReplicas":0,"observedGeneration":2}"#)))
        #expect(Expectation.contains(status, try JSONValue.parse(#"{"paused":false,"reason":""}"#)))
        #expect(!Expectation.contains(status, try JSONValue.parse(#"{"readyReplicas":1}"#)))
        #expect(!Expectation.contains(status, try JSONValue.parse(#"{"reason":"X"}"#)))
        #expect(Expectation.contains(status, try JSONValue.parse(#"{"lastState":{},"spec":{"paused":false}}"#)))
        #expect(!Expectation.contains(status, try JSONValue.parse(#"{"lastState":{"terminated":{"exitCode":1}}}"#)))
    }
}
