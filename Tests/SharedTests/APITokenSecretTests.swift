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
}
