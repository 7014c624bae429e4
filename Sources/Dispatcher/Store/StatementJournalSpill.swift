import CSQLiteConfig

/// How much of a statement journal SQLite keeps in memory before writing it to a temporary file.
///
/// A statement that may change several rows — until issue 12's seventeenth session every new job
/// and every change of a job's state, through the triggers that kept the job counts
/// (``JobStateCounts``) — journals each page it changes, to undo itself alone. A change of state
/// touches the job's page and one or two pages of each of its indexes: at SQLite's default
/// threshold, 64 KiB, now and then one spilled to a file, and from then to the end of its
/// transaction every statement's journal went there: two `pwrite` calls a page, thousands a second
/// in the end-to-end bench. Up to 127 KiB (`CSQLiteConfig`, set when the process starts) such a
/// statement's journal stays in memory and is dropped when the statement ends.
///
/// The journal only ever undoes a statement inside a live transaction: a crash needs none of it
/// (the WAL holds no commit of an unfinished transaction), so durability is the same wherever it
/// is kept.
enum StatementJournalSpill {
    /// The threshold in bytes; nil when SQLite had initialized before the process could set it.
    static var bytes: Int? {
        let bytes = botyard_sqlite_statement_journal_spill()
        return bytes > 0 ? Int(bytes) : nil
    }

    /// A line for the dispatcher's log.
    static var description: String {
        bytes.map { "statement journals stay in memory up to \($0 >> 10) KiB" }
            ?? "SQLite was initialized before its statement journals' threshold could be set: they spill beyond 64 KiB"
    }
}
