#ifndef BOTYARD_CSPAWN_H
#define BOTYARD_CSPAWN_H

#include <spawn.h>

/// glibc's GNU extensions to posix_spawn, which Swift's Glibc module does not export.
int botyard_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path);
int botyard_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from);

#endif
