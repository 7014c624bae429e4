import Foundation
import Shared

/// A job's own API token (`BOTYARD_JOB_TOKEN`): the milliseconds since 1970 when it was drawn
/// (12 hexadecimal digits), then 128 random bits from the system's generator (32 digits).
///
/// Time first, so that tokens drawn one after another sort one after another and the unique index
/// that finds a job by its token (`jobs_api_token`) grows at its end, as the jobs table does. A
/// random UUID put every new job's token on a random page of that index: a transaction storing
/// a thousand jobs wrote a thousand of its pages, however large it had grown, where now it writes
/// the few at its end. The random bits alone keep it from being guessed.
enum JobToken {
    static func generate(at now: Date = Date()) -> String {
        let milliseconds = UInt64(max(0, (now.timeIntervalSince1970 * 1000).rounded(.down)))
        var generator = SystemRandomNumberGenerator()
        var text: [UInt8] = []
        text.reserveCapacity(44)
        for shift in stride(from: 40, through: 0, by: -8) {
            Hexadecimal.append(UInt8(truncatingIfNeeded: milliseconds >> UInt64(shift)), to: &text)
        }
        for _ in 0..<2 {
            let random: UInt64 = generator.next()
            for shift in stride(from: 56, through: 0, by: -8) {
                Hexadecimal.append(UInt8(truncatingIfNeeded: random >> UInt64(shift)), to: &text)
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}
