import Foundation
import GRDB
import Shared

/// The body of an untargeted job's first dispatch, written from the job's row as the relay reads
/// it: the same message as `JobRecord(row:).envelope(attempt: 1)` through ``JSONCodec``, but the
/// bot's snapshot, the inputs and the variables are the row's JSON text spliced in as stored
/// (``JSONObjectWriter``), not decoded into values and encoded again. Decoding and encoding them
/// was a fifth of the dispatcher's CPU while it published batches of submissions.
enum FirstDispatchBody {
    /// The job's columns the body is written from, in the order ``json(jobRow:startingAt:)`` reads
    /// them, by position: a column read by its name costs a hash of the name, lowercased, every time.
    enum Columns: Int, CaseIterable {
        case id, account, priority, retryPolicy, botSnapshot, group, environment, inputs, dispatchHost
        case timeoutSeconds, submittedAt, variables, apiToken
    }

    /// `jobs."id", jobs."account", …`: the columns of ``Columns`` for a statement's selection.
    static let selection = Columns.allCases.map { "jobs.\"\($0)\"" }.joined(separator: ", ")

    /// The envelope of attempt 1 of the job whose ``Columns`` are `row`'s, from column `start` on.
    static func json(jobRow row: Row, startingAt start: Int = 0) throws -> Data {
        func at(_ column: Columns) -> Int { start + column.rawValue }
        let account: String? = row[at(.account)]
        let priority: String = row[at(.priority)]
        guard Priority(rawValue: priority) != nil else {
            throw StoreError(operation: "read job", message: "unknown priority '\(priority)'")
        }
        let retryPolicy = try JobRecord.retryPolicies.value(decoding: row[at(.retryPolicy)])
        var writer = JSONObjectWriter()
        writer.field("jobID", row[at(.id)] as Int64)
        writer.field("attempt", 1)
        writer.field("maxAttempts", retryPolicy.maxAttempts)
        writer.field("bot", json: row[at(.botSnapshot)])
        writer.field("group", row[at(.group)] as String)
        writer.field("priority", priority)
        writer.field("environment", row[at(.environment)] as String)
        writer.field("inputs", json: row[at(.inputs)])
        writer.field("account", ifPresent: account)
        writer.field("host", ifPresent: account == nil ? nil : row[at(.dispatchHost)])
        writer.field("timeoutSeconds", row[at(.timeoutSeconds)] as Int)
        writer.field("submittedAt", timestamp(row, at(.submittedAt)))
        writer.field("variables", jsonIfPresent: row[at(.variables)])
        writer.field("jobToken", ifPresent: row[at(.apiToken)])
        return writer.finish()
    }

    /// A date column as ``JSONCodec`` writes dates (``Timestamp``): the stored text
    /// (`yyyy-MM-dd HH:mm:ss.SSS`, see ``Foundation/Date/storedValue``) with a `T` and a `Z`, or,
    /// stored in another shape, the date read and written again.
    private static func timestamp(_ row: Row, _ index: Int) -> String {
        let stored: String = row[index]
        var utf8 = Array(stored.utf8)
        guard utf8.count == 23, utf8[10] == UInt8(ascii: " "), utf8[19] == UInt8(ascii: ".") else {
            return Timestamp.format(row[index] as Date)
        }
        utf8[10] = UInt8(ascii: "T")
        utf8.append(UInt8(ascii: "Z"))
        return String(decoding: utf8, as: UTF8.self)
    }
}
