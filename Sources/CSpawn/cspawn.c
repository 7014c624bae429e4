#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int botyard_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int botyard_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int botyard_pidfd_open(pid_t pid) {
    // A pidfd is close-on-exec from the start (the kernel sets it): bots never inherit it.
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int botyard_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int botyard_epoll_watch_once(int epoll, int fd) {
    struct epoll_event event = { .events = EPOLLIN | EPOLLONESHOT, .data = { .fd = fd } };
    return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
}

int botyard_epoll_wait_ready(int epoll, int *ready, int capacity) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int count;
    do {
        count = epoll_wait(epoll, events, capacity, -1);
    } while (count < 0 && errno == EINTR);
    for (int index = 0; index < count; index++) ready[index] = events[index].data.fd;
    return count;
}
