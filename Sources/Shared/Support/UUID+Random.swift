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
}
