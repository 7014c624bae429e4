/// One opening of a channel number on a connection.
///
/// Channel numbers are reused (lowest free first) as channels close and open; what outlives its
/// channel (a delivery acknowledged late, a handle kept after a failure) holds the opening it
/// belongs to, so that it can never act on a later channel that got the same number.
struct ChannelID: Hashable, Sendable, CustomStringConvertible {
    let number: UInt16
    /// Counts the connection's channel openings; never reused.
    let generation: UInt64

    var description: String { "channel \(number)" }
}
