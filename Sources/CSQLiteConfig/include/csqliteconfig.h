#ifndef BOTYARD_CSQLITECONFIG_H
#define BOTYARD_CSQLITECONFIG_H

// Process-wide SQLite settings (`sqlite3_config`), which SQLite takes only before it initializes
// and which Swift cannot make (the function is variadic): this target makes them when the process
// starts, before any code can open a database.

/// The size up to which SQLite keeps a statement journal in memory in this process, in bytes, or 0
/// when SQLite refused to change it (SQLite's default then: 64 KiB).
int botyard_sqlite_statement_journal_spill(void);

/// 1 when SQLite keeps no statistics of its allocations (`SQLITE_CONFIG_MEMSTATUS` off): an
/// allocation takes no process-wide mutex; 0 when SQLite refused (it counts them, its default).
int botyard_sqlite_allocations_uncounted(void);

#endif
