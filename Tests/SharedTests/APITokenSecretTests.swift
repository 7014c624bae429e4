import Testing

@testable import Shared

@Suite("API token secrets")
struct APITokenSecretTests {
    @Test("the stored hash of a key is its SHA-256 in lowercase hexadecimal")
    func keyHash() throws {
        let zeros = try #require(APITokenSecret(parsing: "byt_0123456789ab_" + String(repeating: "0", count: 64)))
        #expect(zeros.keyHash == "60e05bd1b195af2f94112fa7197a5c88289058840ce7c6df9693756bc6250f55")
        let digits = try #require(APITokenSecret(parsing: "byt_0123456789ab_" + String(repeating: "0123456789abcdef",
                                                                                        count: 4)))
        #expect(digits.keyHash == "a8ae6e6ee929abea3afcfc5258c8ccd6f85273e0d4626d26c7279f3250f77c8e")
        #expect(zeros.matches(keyHash: zeros.keyHash) && !zeros.matches(keyHash: digits.keyHash))
    }

    @Test("a new secret reads back as itself: 12 hexadecimal digits of id, 64 of key")
    func generated() throws {
        let secret = APITokenSecret.generate()
        let parsed = try #require(APITokenSecret(parsing: secret.text))
        #expect(parsed == secret && secret.id.count == 12 && secret.text.count == 4 + 12 + 1 + 64)
        #expect(secret.text.utf8.dropFirst(4).allSatisfy { Array("0123456789abcdef_".utf8).contains($0) })
    }

    @Test("text not shaped as an API token is not one: another prefix, lengths, separator, digits")
    func misshapen() {
        let id = "0123456789ab", key = String(repeating: "0123456789abcdef", count: 4)
        #expect(APITokenSecret(parsing: "byt_\(id)_\(key)") != nil)
        #expect(APITokenSecret(parsing: "byt_\(id.uppercased())_\(key)") != nil)
        for text in [
            "byx_\(id)_\(key)", "byt_\(id.dropLast())_\(key)", "byt_\(id)_\(key.dropLast())", "byt_\(id)_\(key)0",
            "byt_\(id)-\(key)", "byt_\(id)_\(key.dropLast())g", "byt_\(id.dropLast())\u{FF10}_\(key)", "",
            "byt_", "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        ] {
            #expect(APITokenSecret(parsing: text) == nil, "\(text)")
        }
    }
}
