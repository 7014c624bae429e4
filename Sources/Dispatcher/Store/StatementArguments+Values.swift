import GRDB

extension StatementArguments {
    /// Arguments from values converted already. GRDB's initializer for a sequence of concrete
    /// values reads each through a key path (`\.databaseValue`, unspecialized across modules):
    /// for the 36 values of every new job's row, 5 % of the dispatcher's CPU while it stored
    /// batches. Its initializer for optional existentials calls the property directly.
    init(databaseValues: [DatabaseValue]) {
        self.init(databaseValues.map { $0 as (any DatabaseValueConvertible)? })
    }
}
