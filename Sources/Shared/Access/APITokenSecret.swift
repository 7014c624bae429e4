import Crypto
import Foundation

/// The bearer secret of an API token, `byt_<id>_<key>`: the id finds the token's row, the key
/// proves it. Only the key's SHA-256 is stored (the key is 256 random bits, so a plain hash is
/// as hard to reverse as the key is to guess); the whole secret is shown once, when it is made.
public struct APITokenSecret: Sendable, Equatable, CustomStringConvertible {
    public static let prefix = "byt_"

    /// The token's public id (12 hexadecimal digits).
    public let id: String
    /// 64 hexadecimal digits.
    let key: String

    /// A new random secret.
    public static func generate() -> APITokenSecret {
        APITokenSecret(id: randomHex(bytes: 6), key: randomHex(bytes: 32))
    }

    private init(id: String, key: String) {
        self.id = id
        self.key = key
    }

    /// The secret `text` spells; nil when it is not shaped as an API token's (it may be a job's).
    ///
    /// Checked byte by byte: every request parses its token, and `Character`'s properties
    /// (`isHexDigit` over grapheme clusters) cost ~3 % of the dispatcher's CPU.
    public init?(parsing text: some StringProtocol) {
        let bytes = Array(text.utf8)
        let prefix = Self.prefix.utf8, idEnd = prefix.count + 12, keyStart = idEnd + 1
        guard bytes.count == keyStart + 64, bytes.starts(with: prefix), bytes[idEnd] == UInt8(ascii: "_"),
              bytes[prefix.count..<idEnd].allSatisfy(Self.isHexDigit),
              bytes[keyStart...].allSatisfy(Self.isHexDigit) else { return nil }
        self.init(id: String(decoding: bytes[prefix.count..<idEnd], as: UTF8.self),
                  key: String(decoding: bytes[keyStart...], as: UTF8.self))
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
             UInt8(ascii: "A")...UInt8(ascii: "F"): true
        default: false
        }
    }

    /// What the store keeps to check the secret against: the key's SHA-256, hexadecimal.
    public var keyHash: String { Hexadecimal.digits(SHA256.hash(data: Data(key.utf8))) }

    /// Whether this secret's key is the one whose hash was stored, compared in constant time.
    public func matches(keyHash stored: String) -> Bool {
        let computed = Array(keyHash.utf8), stored = Array(stored.utf8)
        guard computed.count == stored.count else { return false }
        return zip(computed, stored).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The secret as the caller sends it.
    public var text: String { "\(Self.prefix)\(id)_\(key)" }

    /// Never the key: secrets are not logged by accident.
    public var description: String { "\(Self.prefix)\(id)_…" }

    private static func randomHex(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Hexadecimal.digits((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
