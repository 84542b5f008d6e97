#include "CSysShims.h"

#include <errno.h>
#include <linux/fs.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int64_t csys_copy_file_range(int fd_in, int64_t off_in, int fd_out, int64_t off_out, uint64_t len) {
    loff_t in = (loff_t)off_in, out = (loff_t)off_out;
    return (int64_t)copy_file_range(fd_in, off_in < 0 ? NULL : &in, fd_out, off_out < 0 ? NULL : &out,
                                    (size_t)len, 0);
}

int csys_clone_range(int src_fd, uint64_t src_off, uint64_t len, int dst_fd, uint64_t dst_off) {
    struct file_clone_range range = {
        .src_fd = src_fd, .src_offset = src_off, .src_length = len, .dest_offset = dst_off,
    };
    return ioctl(dst_fd, FICLONERANGE, &range);
}

int csys_clone_file(int src_fd, int dst_fd) { return ioctl(dst_fd, FICLONE, src_fd); }

int csys_errno(void) { return errno; }

uint64_t csys_makedev(uint32_t major, uint32_t minor) { return (uint64_t)makedev(major, minor); }

int csys_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
#ifdef SYS_renameat2
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int csys_mknodat(int dirfd, const char *path, uint32_t mode, uint32_t major, uint32_t minor) {
    return mknodat(dirfd, path, (mode_t)mode, makedev(major, minor));
}

int csys_current_cpu(void) { return sched_getcpu(); }

int csys_keep_off_cpu(int cpu) {
    cpu_set_t allowed;
    if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
    if (!CPU_ISSET(cpu, &allowed) || CPU_COUNT(&allowed) < 2) return -1;
    CPU_CLR(cpu, &allowed);
    return sched_setaffinity(0, sizeof allowed, &allowed);
}

void *csys_pin_to_cpu(int cpu) {
    cpu_set_t *saved = malloc(sizeof *saved);
    if (saved == NULL) return NULL;
    if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof *saved, saved) != 0 || !CPU_ISSET(cpu, saved)) {
        free(saved);
        return NULL;
    }
    cpu_set_t only;
    CPU_ZERO(&only);
    CPU_SET(cpu, &only);
    if (sched_setaffinity(0, sizeof only, &only) != 0) {
        free(saved);
        return NULL;
    }
    return saved;
}

void csys_restore_affinity(pthread_t thread, void *saved) {
    if (saved == NULL) return;
    (void)pthread_setaffinity_np(thread, sizeof(cpu_set_t), (cpu_set_t *)saved);
    free(saved);
}

int csys_thread_may_run_on(pthread_t thread, int cpu) {
    cpu_set_t set;
    if (cpu < 0 || cpu >= CPU_SETSIZE || pthread_getaffinity_np(thread, sizeof set, &set) != 0) return -1;
    return CPU_ISSET(cpu, &set) ? 1 : 0;
}
