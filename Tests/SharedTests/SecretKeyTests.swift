import Foundation
import Testing

@testable import Shared

@Suite("Secret keys")
struct SecretKeyTests {
    let credential = AccountCredential(username: "svc-robot", password: "Tr0ub4dor&3")

    @Test("a sealed credential opens with the same key and context, and shows neither of its values")
    func sealAndOpen() throws {
        let key = SecretKey.generate()
        let sealed = key.seal(credential, context: "job 1")
        #expect(!sealed.contains("Tr0ub4dor") && !sealed.contains("svc-robot"))
        #expect(try key.openCredential(sealed, context: "job 1") == credential)
    }

    @Test("a credential sealed for one context does not open for another: a reply cannot be replayed")
    func contextBinds() {
        let key = SecretKey.generate()
        let sealed = key.seal(credential, context: "credential reply r1 job 1 h1/robot1")
        #expect(throws: SecretKeyError.cannotOpen(context: "credential reply r2 job 1 h1/robot1")) {
            try key.openCredential(sealed, context: "credential reply r2 job 1 h1/robot1")
        }
    }

    @Test("a group's key opens what was sealed for it, not what was sealed for another group or at rest")
    func derivedKeysDiffer() throws {
        let secrets = SecretKey.generate()
        let desk = secrets.derived(for: .group("desk"))
        let sealed = secrets.derived(for: .group("desk")).seal(credential, context: "c")
        #expect(try desk.openCredential(sealed, context: "c") == credential)
        for other in [secrets.derived(for: .group("demo")), secrets.derived(for: .credentialsAtRest), secrets] {
            #expect(throws: SecretKeyError.self) { try other.openCredential(sealed, context: "c") }
        }
        #expect(desk.base64 != secrets.base64 && desk.base64 != secrets.derived(for: .group("demo")).base64)
    }

    @Test("an altered sealed value, or one that is not base64, does not open")
    func tampering() {
        let key = SecretKey.generate()
        var bytes = Data(base64Encoded: key.seal(credential, context: "c"))!
        bytes[bytes.count / 2] ^= 0x01
        #expect(throws: SecretKeyError.self) { try key.openCredential(bytes.base64EncodedString(), context: "c") }
        #expect(throws: SecretKeyError.self) { try key.open("not base64!", context: "c") }
    }

    @Test("a key file is written for its owner only, is not replaced, and reads back as the same key")
    func keyFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = try SecretKey.create(at: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try SecretKey.load(from: path).base64 == key.base64)
        #expect(throws: SecretKeyError.self) { try SecretKey.create(at: path) }
        #expect(try SecretKey.load(from: path).base64 == key.base64)
    }

    @Test("a key that is not 32 bytes of base64, or a missing file, is refused with what was wrong and no key material")
    func badKeys() throws {
        #expect(throws: SecretKeyError.malformed(source: "$K")) { try SecretKey(base64: "c2hvcnQ=", source: "$K") }
        #expect(throws: SecretKeyError.malformed(source: "$K")) { try SecretKey(base64: "%%%", source: "$K") }
        do {
            _ = try SecretKey.load(from: "/nonexistent/botyard.key")
            Issue.record("a missing key file was read")
        } catch {
            #expect("\(error)".hasPrefix("secret key file /nonexistent/botyard.key cannot be read"))
        }
    }

    @Test("a key is taken from the option's file, else the file variable's, else the key variable; none is nil")
    func configured() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let option = try SecretKey.create(at: folder.appendingPathComponent("option").path)
        let variable = try SecretKey.create(at: folder.appendingPathComponent("variable").path)
        let inline = SecretKey.generate()
        let environment = ["F": folder.appendingPathComponent("variable").path, "K": inline.base64]
        func configured(_ file: String?, _ environment: [String: String]) throws -> String? {
            try SecretKey.configured(file: file, fileVariable: "F", keyVariable: "K", environment: environment)?.base64
        }
        #expect(try configured(folder.appendingPathComponent("option").path, environment) == option.base64)
        #expect(try configured(nil, environment) == variable.base64)
        #expect(try configured(nil, ["K": inline.base64]) == inline.base64)
        #expect(try configured(nil, [:]) == nil)
    }
}
