/// A value written in JSON as its text (`description`) and read back with `init(parsing:)`; a
/// text that does not parse is a decoding error carrying the parser's reason.
protocol TextCodable: Codable, CustomStringConvertible {
    init(parsing text: String) throws(ScheduleError)
}

extension TextCodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do {
            try self.init(parsing: try container.decode(String.self))
        } catch let error as ScheduleError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.reason)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
