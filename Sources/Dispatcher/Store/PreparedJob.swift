import Foundation
import GRDB

/// A new job's row with its values computed before the writer's transaction — JSON text, and
/// dates as the database stores them — so that the transaction, on the store's one writer
/// thread, only binds them.
struct PreparedJob: Sendable {
    var record: JobRecord
    /// In the order of ``JobRecord/writtenColumns``.
    let values: [DatabaseValue]
    /// When the job is stored: the time of its first history row and outbox row.
    let now: Date
    /// `now` as the database stores it.
    let at: DatabaseValue

    /// Gives a job without a token its own.
    init(_ record: JobRecord, at now: Date) throws {
        var record = record
        if record.apiToken == nil { record.apiToken = JobToken.generate(at: now) }
        self.record = record
        self.values = try record.databaseValues()
        self.now = now
        self.at = now.storedValue
    }
}
