import Foundation

/// Blanks out a run's secrets (its credential's values) from what the bot wrote: its log file,
/// in place, and its outputs, before either leaves the worker.
///
/// A bot that prints its password (a debug line, a failed login echoed back) must not put it in
/// the job's log or outputs, which the API serves to anyone who may read the job.
struct SecretRedactor {
    static let mask = "[redacted]"
    /// Values shorter than this are left alone: blanking every "ab" would wreck the log and hide
    /// nothing (such a secret is guessed faster than found).
    static let minimumLength = 3

    private let secrets: [[UInt8]]
    /// The longest secret's length: how far a secret may reach past where a chunk of a file is cut.
    private let longest: Int

    init(secrets: [String]) {
        // Longest first, so that a secret containing another is blanked whole.
        self.secrets = Set(secrets.filter { $0.utf8.count >= Self.minimumLength }).map { Array($0.utf8) }
            .sorted { $0.count > $1.count }
        longest = self.secrets.first?.count ?? 0
    }

    var isEmpty: Bool { secrets.isEmpty }

    func redact(_ text: String) -> String {
        isEmpty ? text : String(decoding: redact(Array(text.utf8), before: .max).redacted, as: UTF8.self)
    }

    /// Copies `bytes` with every secret that starts before `limit` blanked (a secret may run past it);
    /// `consumed` is where the copy stopped, at or after `limit`, or the end.
    private func redact(_ bytes: [UInt8], before limit: Int) -> (redacted: [UInt8], consumed: Int) {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        scan: while index < min(limit, bytes.count) {
            for secret in secrets where bytes[index] == secret[0] && bytes.count - index >= secret.count
                && bytes[index..<(index + secret.count)].elementsEqual(secret) {
                result += Self.mask.utf8
                index += secret.count
                continue scan
            }
            result.append(bytes[index])
            index += 1
        }
        return (result, index)
    }

    /// Rewrites the file without its secrets, a chunk at a time (a log may be large). The last
    /// `longest - 1` bytes of each read wait for the next one: a secret starting there may not have
    /// arrived whole yet.
    func redact(fileAt path: String) throws {
        guard !isEmpty, let input = FileHandle(forReadingAtPath: path) else { return }
        defer { try? input.close() }
        let redactedPath = path + ".redacted"
        guard FileManager.default.createFile(atPath: redactedPath, contents: nil),
              let output = FileHandle(forWritingAtPath: redactedPath)
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: redactedPath]) }
        defer { try? output.close() }
        do {
            var pending: [UInt8] = []
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                pending += chunk
                let (redacted, consumed) = redact(pending, before: pending.count - (longest - 1))
                try output.write(contentsOf: redacted)
                pending.removeFirst(consumed)
            }
            try output.write(contentsOf: redact(pending, before: .max).redacted)
            try output.synchronize()
            guard rename(redactedPath, path) == 0 else {
                let cause = POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSUnderlyingErrorKey: cause])
            }
        } catch {
            try? FileManager.default.removeItem(atPath: redactedPath)
            throw error
        }
    }
}
