import Foundation
import GRDB
import Shared

/// The body of an untargeted job's first dispatch, written from the job's row as the relay reads
/// it: the same message as `JobRecord(row:).envelope(attempt: 1)` through ``JSONCodec``, but the
/// bot's snapshot, the inputs and the variables are the row's JSON text spliced in as stored
/// (``JSONObjectWriter``), not decoded into values and encoded again. Decoding and encoding them
/// was a fifth of the dispatcher's CPU while it published batches of submissions.
enum FirstDispatchBody {
    /// The envelope of attempt 1 of the job in `row` (a row of `jobs`, every column).
    static func json(jobRow row: Row) throws -> Data {
        let account: String? = row["account"]
        let priority: String = row["priority"]
        guard Priority(rawValue: priority) != nil else {
            throw StoreError(operation: "read job", message: "unknown priority '\(priority)'")
        }
        let retryPolicy = try JobRecord.retryPolicies.value(decoding: row["retryPolicy"])
        var writer = JSONObjectWriter()
        writer.field("jobID", row["id"] as Int64)
        writer.field("attempt", 1)
        writer.field("maxAttempts", retryPolicy.maxAttempts)
        writer.field("bot", json: row["botSnapshot"])
        writer.field("group", row["group"] as String)
        writer.field("priority", priority)
        writer.field("environment", row["environment"] as String)
        writer.field("inputs", json: row["inputs"])
        writer.field("account", ifPresent: account)
        writer.field("host", ifPresent: account == nil ? nil : row["dispatchHost"])
        writer.field("timeoutSeconds", row["timeoutSeconds"] as Int)
        writer.field("submittedAt", timestamp(row, "submittedAt"))
        writer.field("variables", jsonIfPresent: row["variables"])
        writer.field("jobToken", ifPresent: row["apiToken"])
        return writer.finish()
    }

    /// A date column as ``JSONCodec`` writes dates (``Timestamp``): the stored text
    /// (`yyyy-MM-dd HH:mm:ss.SSS`, see ``Foundation/Date/storedValue``) with a `T` and a `Z`, or,
    /// stored in another shape, the date read and written again.
    private static func timestamp(_ row: Row, _ column: String) -> String {
        let stored: String = row[column]
        var utf8 = Array(stored.utf8)
        guard utf8.count == 23, utf8[10] == UInt8(ascii: " "), utf8[19] == UInt8(ascii: ".") else {
            return Timestamp.format(row[column] as Date)
        }
        utf8[10] = UInt8(ascii: "T")
        utf8.append(UInt8(ascii: "Z"))
        return String(decoding: utf8, as: UTF8.self)
    }
}
