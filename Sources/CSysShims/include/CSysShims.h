#ifndef CSYS_SHIMS_H
#define CSYS_SHIMS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/xattr.h>

/// copy_file_range(2) with explicit offsets; offsets < 0 mean "use and advance the file position".
/// Returns bytes copied, or -1 with errno set.
int64_t csys_copy_file_range(int fd_in, int64_t off_in, int fd_out, int64_t off_out, uint64_t len);

/// ioctl(FICLONERANGE): share `len` bytes of `src_fd` at `src_off` into `dst_fd` at `dst_off`.
/// Returns 0, or -1 with errno set (EOPNOTSUPP on file systems without reflink, EINVAL when unaligned).
int csys_clone_range(int src_fd, uint64_t src_off, uint64_t len, int dst_fd, uint64_t dst_off);

/// ioctl(FICLONE): share the whole of `src_fd` into `dst_fd`. Returns 0, or -1 with errno set.
int csys_clone_file(int src_fd, int dst_fd);

/// The errno of the calling thread (Swift's Glibc overlay hides it behind a computed property on some builds).
int csys_errno(void);

/// makedev(3) (a macro in C): the device number of a major/minor pair.
uint64_t csys_makedev(uint32_t major, uint32_t minor);

/// RENAME_NOREPLACE for csys_renameat2 (fail with EEXIST instead of replacing the new path).
#define CSYS_RENAME_NOREPLACE 1u

/// renameat2(2) through syscall(2), so it works with any glibc; returns 0, or -1 with errno set
/// (ENOSYS on kernels without it, EINVAL on file systems that do not support the flags).
int csys_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

/// mknodat(2) of a character device, block device or FIFO from a major/minor pair
/// (`mode` carries the file type bits S_IFCHR, S_IFBLK or S_IFIFO). Returns 0, or -1 with errno set.
int csys_mknodat(int dirfd, const char *path, uint32_t mode, uint32_t major, uint32_t minor);

/// The CPU the calling thread is running on (sched_getcpu(3)), or -1.
int csys_current_cpu(void);

/// Lets the calling thread run on every CPU it may run on now except `cpu`. Returns 0, or -1 when nothing was
/// changed (`cpu` is not among them, they are fewer than two, or a call failed).
int csys_keep_off_cpu(int cpu);

/// 1 when `thread`'s affinity lets it run on `cpu`, 0 when it does not, -1 when it cannot be read.
int csys_thread_may_run_on(pthread_t thread, int cpu);

/// Lets the calling thread run on `cpu` only. Returns the CPUs it could run on before, for
/// `csys_restore_affinity`, or NULL when nothing was changed (`cpu` is not among them, or a call failed).
void *csys_pin_to_cpu(int cpu);

/// Lets `thread` run on the CPUs `saved` holds again (a result of `csys_pin_to_cpu`), and frees `saved`.
void csys_restore_affinity(pthread_t thread, void *saved);

#endif
