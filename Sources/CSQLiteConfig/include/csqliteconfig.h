#ifndef BOTYARD_CSQLITECONFIG_H
#define BOTYARD_CSQLITECONFIG_H

/// The size up to which SQLite keeps a statement journal in memory in this process, in bytes, or 0
/// when SQLite refused to change it (SQLite's default then: 64 KiB).
///
/// A process-wide SQLite setting (`sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL)`), which SQLite
/// takes only before it initializes and which Swift cannot make (the function is variadic): this
/// target makes it when the process starts, before any code can open a database.
int botyard_sqlite_statement_journal_spill(void);

#endif
