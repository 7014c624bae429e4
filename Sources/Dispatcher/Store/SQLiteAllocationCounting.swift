import CSQLiteConfig

/// Whether SQLite counts its allocations in the dispatcher's processes.
///
/// Debian's SQLite keeps statistics of its memory (`sqlite3_memory_used`) and is built without
/// its lookaside allocator, so every allocation it makes — several for each statement run, each
/// row read or written — enters and leaves a process-wide mutex to count itself. Nothing here reads
/// the counts; while the dispatcher stored batches of jobs the mutex was a twentieth of its CPU.
/// With the statistics off (`CSQLiteConfig`, set when the process starts) SQLite allocates as
/// `malloc` does, with no lock of its own.
enum SQLiteAllocationCounting {
    /// SQLite counts no allocations; false when it had initialized before the process could say so.
    static var isOff: Bool { botyard_sqlite_allocations_uncounted() != 0 }

    /// A line for the dispatcher's log.
    static var description: String {
        isOff ? "SQLite counts no allocations"
            : "SQLite was initialized before its allocation statistics could be turned off: "
            + "each allocation takes a process-wide lock"
    }
}
