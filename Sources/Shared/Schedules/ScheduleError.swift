/// A cron expression, date, time of day or time zone that a schedule cannot use, and why.
public struct ScheduleError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String
        public var description: String { name }

        /// The cron expression does not parse.
        public static let invalidCron = Code(name: "invalidCron")
        /// The cron expression parses but names no date that exists (`0 0 30 2 *`).
        public static let neverFires = Code(name: "neverFires")
        /// Not a `yyyy-MM-dd` date.
        public static let invalidDate = Code(name: "invalidDate")
        /// Not an `HH:mm` time of day.
        public static let invalidTime = Code(name: "invalidTime")
        /// Not an active window in words (`Mon-Fri 08:00-18:00`).
        public static let invalidWindow = Code(name: "invalidWindow")
        /// Not a time zone identifier Foundation knows (IANA, like `Europe/Berlin`).
        public static let unknownTimeZone = Code(name: "unknownTimeZone")
    }

    public var code: Code
    /// The part that is wrong, when there is one: a cron field (`minute`, `day-of-week`…).
    public var field: String?
    /// What is wrong, naming the value that is (`61 is out of 0-59`).
    public var reason: String

    public init(_ code: Code, field: String? = nil, reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    public var description: String { field.map { "\($0): \(reason)" } ?? reason }
}
