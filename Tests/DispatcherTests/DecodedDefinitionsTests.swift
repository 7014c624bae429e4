import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("Decoded definitions")
struct DecodedDefinitionsTests {
    @Test("a definition is decoded again when its text changed, and its text kept while it is the same")
    func textDecides() throws {
        let definitions = DecodedDefinitions<[AccountStatus]>()
        let one = [AccountStatus(name: "robot1", limit: 1)], two = [AccountStatus(name: "robot2", limit: 2)]
        let oneText = try definitions.json(of: one, named: "w1")
        #expect(try definitions.definition(named: "w1", json: oneText) == one)
        let twoText = String(decoding: try JSONCodec.encode(two), as: UTF8.self)
        #expect(try definitions.definition(named: "w1", json: twoText) == two)
        #expect(try definitions.json(of: two, named: "w1") == twoText)
        #expect(throws: CodecError.self) { try definitions.definition(named: "w1", json: "[{}]") }
    }

    @Test("past its limit of names it forgets them, and each definition is still read and written right")
    func limit() throws {
        let definitions = DecodedDefinitions<[AccountStatus]>(limit: 2)
        for round in 0..<2 {
            for index in 0..<5 {
                let accounts = [AccountStatus(name: "robot\(index)", limit: 1, running: round)]
                let text = try definitions.json(of: accounts, named: "w\(index)")
                #expect(try definitions.definition(named: "w\(index)", json: text) == accounts)
                #expect(definitions.count <= 2)
            }
        }
    }
}
