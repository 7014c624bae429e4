#ifndef BOTYARD_CSPAWN_H
#define BOTYARD_CSPAWN_H

#include <malloc.h> // malloc_trim, for a worker giving back its free heap when idle
#include <spawn.h>
#include <sys/types.h>

/// glibc's GNU extensions to posix_spawn, which Swift's Glibc module does not export.
int botyard_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path);
int botyard_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from);

/// A file descriptor that becomes readable when the child `pid` exits (Linux 5.3 and later),
/// close-on-exec; -1 with errno set when the kernel has none.
int botyard_pidfd_open(pid_t pid);

/// A new epoll set, close-on-exec; -1 with errno.
int botyard_epoll_create(void);

/// Adds `fd` to the epoll set `epoll` for one readable event (EPOLLIN | EPOLLONESHOT); 0 or -1 with errno.
int botyard_epoll_watch_once(int epoll, int fd);

/// Waits for readable descriptors of the epoll set `epoll` (blocking, EINTR retried) and stores up
/// to `capacity` of them in `ready`; returns how many, or -1 with errno.
int botyard_epoll_wait_ready(int epoll, int *ready, int capacity);

#endif
