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

    init(secrets: [String]) {
        // Longest first, so that a secret containing another is blanked whole.
        self.secrets = Set(secrets.filter { $0.utf8.count >= Self.minimumLength }).map { Array($0.utf8) }
            .sorted { $0.count > $1.count }
    }

    var isEmpty: Bool { secrets.isEmpty }

    func redact(_ text: String) -> String {
        isEmpty ? text : String(decoding: redact(Array(text.utf8)), as: UTF8.self)
    }

    func redact(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        scan: while index < bytes.count {
            for secret in secrets where bytes[index] == secret[0] && bytes.count - index >= secret.count
                && bytes[index..<(index + secret.count)].elementsEqual(secret) {
                result += Self.mask.utf8
                index += secret.count
                continue scan
            }
            result.append(bytes[index])
            index += 1
        }
        return result
    }

    /// Rewrites the file without its secrets, a chunk at a time (a log may be large); a secret that
    /// straddles two chunks is caught by carrying the end of each chunk into the next.
    func redact(fileAt path: String) throws {
        guard !isEmpty, let input = FileHandle(forReadingAtPath: path) else { return }
        defer { try? input.close() }
        let redactedPath = path + ".redacted"
        guard FileManager.default.createFile(atPath: redactedPath, contents: nil),
              let output = FileHandle(forWritingAtPath: redactedPath)
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: redactedPath]) }
        defer { try? output.close() }
        let carry = (secrets.map(\.count).max() ?? 1) - 1
        var pending: [UInt8] = []
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            pending += chunk
            // Everything but the last `carry` bytes is final, unless a secret starts there and runs on:
            // cut where no secret can straddle, by redacting the whole and keeping the unredacted tail.
            let cut = pending.count - carry
            guard cut > 0 else { continue }
            let (done, rest) = split(pending, before: cut)
            try output.write(contentsOf: redact(done))
            pending = rest
        }
        try output.write(contentsOf: redact(pending))
        try output.synchronize()
        guard rename(redactedPath, path) == 0 else {
            let cause = POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSUnderlyingErrorKey: cause])
        }
    }

    /// Splits `bytes` at `cut`, moved earlier to the start of any secret that would straddle it.
    private func split(_ bytes: [UInt8], before cut: Int) -> ([UInt8], [UInt8]) {
        var cut = cut
        for start in max(0, cut - (secrets.map(\.count).max() ?? 1) + 1)..<cut {
            if secrets.contains(where: { secret in
                bytes.count - start >= secret.count && start + secret.count > cut
                    && bytes[start..<(start + secret.count)].elementsEqual(secret)
            }) {
                cut = start
                break
            }
        }
        return (Array(bytes[..<cut]), Array(bytes[cut...]))
    }
}
