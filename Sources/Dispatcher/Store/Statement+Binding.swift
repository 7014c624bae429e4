import GRDB
import GRDBSQLite

extension Statement {
    /// Runs the statement with `values` bound to its parameters, in order.
    ///
    /// GRDB's `execute(arguments:)` builds a `StatementArguments` of the values, matches it against
    /// the statement's parameter names into a second array, and binds each value either in a
    /// closure nested in the previous one (up to 20) or through its checked `setArguments` (more).
    /// `botyard-bench statements` on this machine: an insert of 36 values (a new job's row) took
    /// 11 µs that way and 4.6–4.8 µs bound here; one of 6 values (a history row's), 3.6–3.7 µs and
    /// 1.3–1.4 µs.
    ///
    /// The values are bound by GRDB's own `StatementBinding`, as its lasting bindings are (SQLite
    /// copies strings and blobs), after `setUncheckedArguments` of no arguments has reset the
    /// statement, cleared its bindings and taken the ones made here as its own. GRDB then runs
    /// the statement as it runs any other: its transaction observers see the change.
    ///
    /// - Throws: `DatabaseError` (`SQLITE_MISUSE`) unless there is one value for each parameter;
    ///   `DatabaseError` of a binding SQLite refused, or of running the statement.
    public func execute(binding values: [DatabaseValue]) throws {
        try bindAndExecute(values)
    }

    /// Runs the statement with `values` bound to its parameters, in order (nil binds NULL), as the
    /// form taking an array of `DatabaseValue` does.
    public func execute(binding values: (any DatabaseValueConvertible)?...) throws {
        try bindAndExecute(values.lazy.map { $0?.databaseValue ?? .null })
    }

    private func bindAndExecute(_ values: some Collection<DatabaseValue>) throws {
        try bind(values)
        try execute()
    }

    /// Resets the statement and binds `values` to its parameters, in order, as GRDB's own lasting
    /// bindings do.
    func bind(_ values: some Collection<DatabaseValue>) throws {
        let parameters = Int(sqlite3_bind_parameter_count(sqliteStatement))
        guard values.count == parameters else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE,
                                message: "\(values.count) values for \(parameters) statement arguments", sql: sql)
        }
        setUncheckedArguments(StatementArguments())
        for (index, value) in zip(CInt(1)..., values) {
            let code = value.bind(to: sqliteStatement, at: index)
            guard code == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code),
                                    message: "cannot bind statement argument \(index)", sql: sql)
            }
        }
    }
}
