import Foundation
import GRDB
import GRDBSQLite

/// The values of one row, taken in the order of the columns a read names.
///
/// A record read this way names its columns once, in the read's SQL, and takes its values one
/// after another. GRDB's `Row`, made for reads by name, first builds a dictionary of the row's
/// lowercased column names (37 of them for a job) and looks each value up in it: a job's row read
/// that way was 5 % of the steady fleet's dispatcher.
protocol ColumnValues {
    /// The next column's value.
    mutating func next() -> DatabaseValue
}

extension ColumnValues {
    /// The next column's value, which must not be NULL.
    mutating func next<Value: DatabaseValueConvertible>(_ column: String) throws -> Value {
        guard let value: Value = try nextOptional(column) else {
            throw StoreError(operation: "read \(column)", message: "NULL where a value was expected")
        }
        return value
    }

    /// The next column's value, nil for NULL.
    mutating func nextOptional<Value: DatabaseValueConvertible>(_ column: String) throws -> Value? {
        let value = next()
        if value.isNull { return nil }
        guard let converted = Value.fromDatabaseValue(value) else {
            throw StoreError(operation: "read \(column)", message: "\(value) is no \(Value.self)")
        }
        return converted
    }

    /// The next column's date, stored as ``Foundation/Date/storedValue`` writes it.
    mutating func nextDate(_ column: String) throws -> Date {
        guard let date = try nextOptionalDate(column) else {
            throw StoreError(operation: "read \(column)", message: "NULL where a date was expected")
        }
        return date
    }

    /// The next column's date, nil for NULL.
    mutating func nextOptionalDate(_ column: String) throws -> Date? {
        let value = next()
        if value.isNull { return nil }
        guard let date = Date(storedValue: value) else {
            throw StoreError(operation: "read \(column)", message: "\(value) is no date")
        }
        return date
    }
}

/// The row a statement stands on after a step, by position.
struct StatementColumns: ColumnValues {
    private let statement: SQLiteStatement
    private var index: CInt = 0

    init(_ statement: SQLiteStatement) {
        self.statement = statement
    }

    mutating func next() -> DatabaseValue {
        defer { index += 1 }
        return DatabaseValue(sqliteStatement: statement, index: index)
    }
}

/// A GRDB `Row`'s values in the order of `columns`, looked up by name; NULL for a column the row
/// lacks, and past the last of `columns`.
struct RowColumns: ColumnValues {
    private let row: Row
    private var columns: IndexingIterator<[String]>

    init(_ row: Row, columns: [String]) {
        self.row = row
        self.columns = columns.makeIterator()
    }

    mutating func next() -> DatabaseValue {
        guard let column = columns.next() else { return .null }
        return (row[column] as DatabaseValue?) ?? .null
    }
}

extension Statement {
    /// The first row of the statement, run with `values` bound to its parameters in order, as
    /// `read` reads it from the row's ``StatementColumns``; nil when there is none.
    ///
    /// The statement is stepped once by GRDB (its checks, its errors with the statement's SQL) and
    /// reset when the row is read.
    ///
    /// - Throws: as ``execute(binding:)``, and what `read` throws.
    func fetchFirst<Value>(binding values: [DatabaseValue],
                           read: (inout StatementColumns) throws -> Value) throws -> Value? {
        try bind(values)
        defer { sqlite3_reset(sqliteStatement) }
        return try withoutActuallyEscaping(read) { read in
            try FirstRowCursor(statement: self, read: read).next()
        }
    }
}

/// Steps a statement once through GRDB's cursor machinery (its `step` is GRDB's own), handing the
/// row it stands on to `read`.
private final class FirstRowCursor<Element>: DatabaseCursor {
    let _statement: Statement
    var _isDone = false
    private let read: (inout StatementColumns) throws -> Element

    init(statement: Statement, read: @escaping (inout StatementColumns) throws -> Element) {
        _statement = statement
        self.read = read
    }

    func _element(sqliteStatement: SQLiteStatement) throws -> Element {
        var columns = StatementColumns(sqliteStatement)
        return try read(&columns)
    }
}
