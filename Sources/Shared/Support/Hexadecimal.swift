/// Lowercase hexadecimal digits, written by hand: `String(format: "%02x")` for each byte was a
/// measurable part of the dispatcher's CPU where every request spells a hash.
public enum Hexadecimal {
    /// Two digits a byte.
    public static func digits(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes { append(byte, to: &text) }
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends `byte`'s two digits to `text`.
    public static func append(_ byte: UInt8, to text: inout [UInt8]) {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }

    private static let digits = Array("0123456789abcdef".utf8)
}
