#include "csqliteconfig.h"

#include <sqlite3.h>

/// 127 KiB. Not 128 KiB or more: SQLite writes an in-memory journal that spills to its file one
/// chunk of this size at a time, and its Unix layer writes at most 128 KiB - 1 bytes in one call
/// (`nBuf &= 0x1ffff`), so a larger chunk is cut short and the spill fails as `SQLITE_FULL`
/// (measured: 1 MiB failed under the end-to-end bench).
static const int spillBytes = 127 * 1024;

static int appliedSpill = 0;
static int appliedNoMemoryStatistics = 0;

__attribute__((constructor)) static void botyard_sqlite_configure(void) {
    if (sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, spillBytes) == SQLITE_OK) {
        appliedSpill = spillBytes;
    }
    appliedNoMemoryStatistics = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
}

int botyard_sqlite_statement_journal_spill(void) {
    return appliedSpill;
}

int botyard_sqlite_allocations_uncounted(void) {
    return appliedNoMemoryStatistics;
}
