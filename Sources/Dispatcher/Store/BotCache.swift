import Shared
import Synchronization

/// Bots' definitions as last read, by name, so that a submission finds its bot without a read
/// of the store. Only the store's own `saveBot` changes a bot, and it tells the cache
/// (``changed(_:)``) once the change has committed.
///
/// A definition read while a change commits may be the older one: the cache counts changes, and
/// keeps what a read found only when no change came between the read's start and its end.
final class BotCache: Sendable {
    private struct State {
        var definitions: [String: BotDefinition] = [:]
        var changes: UInt64 = 0
    }

    private let state = Mutex(State())
    private let limit: Int

    /// - Parameter limit: bots kept at most; past it, all are forgotten and read again.
    init(limit: Int = 10_000) {
        self.limit = limit
    }

    /// The definition of the bot named `name`: the one kept, or what `read` finds in the store
    /// (nil: no such bot, which is not kept).
    func definition(named name: String, read: () async throws -> BotDefinition?) async rethrows -> BotDefinition? {
        let (kept, changes) = state.withLock { ($0.definitions[name], $0.changes) }
        if let kept { return kept }
        guard let definition = try await read() else { return nil }
        state.withLock { state in
            guard state.changes == changes else { return }
            if state.definitions.count >= limit { state.definitions.removeAll() }
            state.definitions[name] = definition
        }
        return definition
    }

    /// The bot named `name` changed in the store: its next lookup reads it again.
    func changed(_ name: String) {
        state.withLock { state in
            state.definitions[name] = nil
            state.changes &+= 1
        }
    }

    /// Bots kept now.
    var count: Int { state.withLock { $0.definitions.count } }
}
