import Crypto
import Foundation

/// A 256-bit key that seals secrets (ChaCha20-Poly1305), written as base64 text in a key file or
/// an environment variable.
///
/// The dispatcher holds one secrets key and derives from it a key per purpose
/// (``SecretKey/Purpose``): one seals the credentials stored in SQLite, one per runner group seals
/// the credentials sent to that group's workers. A group's key reveals neither the secrets key
/// nor another group's key.
public struct SecretKey: Sendable {
    private let key: SymmetricKey

    /// What a derived key is for; each purpose gets an unrelated key.
    public enum Purpose: Sendable, Equatable {
        /// Credentials stored in the dispatcher's database.
        case credentialsAtRest
        /// Credentials sent to the workers of one runner group.
        case group(String)

        var info: String {
            switch self {
            case .credentialsAtRest: "botyard credentials at rest v1"
            case .group(let group): "botyard credentials for group \(group) v1"
            }
        }
    }

    private init(key: SymmetricKey) { self.key = key }

    /// A new random key.
    public static func generate() -> SecretKey { SecretKey(key: SymmetricKey(size: .bits256)) }

    /// The key written as `text` (base64 of 32 bytes; surrounding white space ignored).
    public init(base64 text: String, source: String) throws(SecretKeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: trimmed), bytes.count == 32 else { throw .malformed(source: source) }
        key = SymmetricKey(data: bytes)
    }

    /// The key in the file at `path`.
    public static func load(from path: String) throws(SecretKeyError) -> SecretKey {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return try SecretKey(base64: text, source: path)
    }

    /// The key a program was given: the file `file` names (an option), else the file the variable
    /// `fileVariable` names, else the key in the variable `keyVariable`; nil when none is.
    public static func configured(file: String?, fileVariable: String, keyVariable: String,
                                  environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(SecretKeyError) -> SecretKey?
    {
        if let path = file ?? environment[fileVariable] { return try load(from: path) }
        return try environment[keyVariable].map { text throws(SecretKeyError) in
            try SecretKey(base64: text, source: "$\(keyVariable)")
        }
    }

    /// Writes a new random key to `path`, readable by its owner only.
    @discardableResult
    public static func create(at path: String) throws(SecretKeyError) -> SecretKey {
        let key = generate()
        try key.write(to: path)
        return key
    }

    /// Writes the key to a new file at `path`, readable by its owner only; refuses to replace a file.
    public func write(to path: String) throws(SecretKeyError) {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw .unwritable(path: path, reason: "a file is there already; it is not replaced")
        }
        guard FileManager.default.createFile(atPath: path, contents: Data((base64 + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw .unwritable(path: path, reason: "it could not be created")
        }
    }

    /// The key as base64 text, for a key file.
    public var base64: String { key.withUnsafeBytes { Data($0).base64EncodedString() } }

    /// The key for `purpose` (HKDF-SHA256 of this key).
    public func derived(for purpose: Purpose) -> SecretKey {
        SecretKey(key: HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.info.utf8),
                                              outputByteCount: 32))
    }

    /// `plaintext` sealed and bound to `context` (which must be given again to open it), as base64
    /// of nonce, ciphertext and tag.
    public func seal(_ plaintext: Data, context: String) -> String {
        // Sealing fails only for a key of the wrong size, which this type never holds.
        let box = try! ChaChaPoly.seal(plaintext, using: key, authenticating: Data(context.utf8))
        return box.combined.base64EncodedString()
    }

    /// What ``seal(_:context:)`` sealed with this key and the same `context`.
    public func open(_ sealed: String, context: String) throws(SecretKeyError) -> Data {
        do {
            guard let combined = Data(base64Encoded: sealed) else { throw SecretKeyError.cannotOpen(context: context) }
            return try ChaChaPoly.open(ChaChaPoly.SealedBox(combined: combined), using: key,
                                       authenticating: Data(context.utf8))
        } catch {
            throw .cannotOpen(context: context)
        }
    }
}

/// A key that cannot be read, or a sealed secret it cannot open. Never contains key material.
public enum SecretKeyError: Error, CustomStringConvertible, Sendable, Equatable {
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    case malformed(source: String)
    /// Sealed with another key, for another context, or altered.
    case cannotOpen(context: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "secret key file \(path) cannot be read: \(reason)"
        case .unwritable(let path, let reason): "secret key file \(path) cannot be written: \(reason)"
        case .malformed(let source): "secret key in \(source) is not 32 bytes of base64"
        case .cannotOpen(let context):
            "a secret sealed for \(context) cannot be opened: another key sealed it, or it was altered"
        }
    }
}
