import Foundation

extension UUID {
    /// A random (version 4) UUID drawn from the system's generator (`getrandom`, two calls).
    ///
    /// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for each one: three
    /// system calls and a file descriptor for every job token, message id and report.
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        var halves = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeMutableBytes(of: &halves) { bytes in
            bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
            bytes[8] = (bytes[8] & 0x3F) | 0x80  // variant RFC 4122
            return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        }
    }

    /// A time-ordered (version 7, RFC 9562) UUID: the milliseconds since 1970 in its first 48 bits,
    /// 74 random bits after them.
    ///
    /// Its text sorts by time, so that an index of such ids grows at its end: the store keeps every
    /// applied report's id (`applied_events`, once-only application), and a batch of reports with
    /// random ids wrote a random page of that index for each, however large it had grown.
    public static func timeOrdered(at now: Date = Date()) -> UUID {
        var bytes = random().uuid
        let milliseconds = UInt64(max(0, (now.timeIntervalSince1970 * 1000).rounded(.down)))
        withUnsafeMutableBytes(of: &bytes) { bytes in
            // The first bytes come first in the text.
            for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> UInt64(40 - 8 * index)) }
            bytes[6] = (bytes[6] & 0x0F) | 0x70  // version 7
        }
        return UUID(uuid: bytes)
    }
}
