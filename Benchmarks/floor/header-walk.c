/*
 * header-walk: the reading floor of `ckpt-validate --no-digests` (Benchmarks/validate.sh).
 *
 * Walks a tar archive's headers the way ByteStreams' FileSource reads a regular file: reads of 16 KiB doubling
 * up to 1 MiB while reading on, and an lseek (after which reads start at 16 KiB again) whenever the next header
 * lies beyond what was read. It looks at nothing but each header's typeflag and size (it trusts the ustar size
 * field, which the benchmark archive's pax headers do not override), checks nothing and prints the entry count:
 * its run time is what reading the archive costs, with no validation at all.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { minimum_read = 16 << 10, buffer_size = 1 << 20, block = 512 };

static long long octal(const unsigned char *p, int n) {
    long long v = 0;
    int i = 0;
    while (i < n && (p[i] == ' ' || p[i] == 0)) i++;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) v = v * 8 + (p[i] - '0');
    return v;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: header-walk ARCHIVE\n"); return 2; }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror(argv[1]); return 2; }
    static unsigned char buffer[buffer_size];
    long long start = 0, end = 0; /* the file offsets buffered */
    long long next = 0;           /* the next header's offset */
    long long entries = 0;
    int want = minimum_read;
    for (;;) {
        if (next + block > end) {
            /* A header that begins in the buffer is completed by reading on, as is one right after it; any other
             * lies beyond a skip: seek, and start small again. */
            long long kept = next < end ? end - next : 0;
            if (kept > 0) {
                memmove(buffer, buffer + (next - start), (size_t)kept);
            } else if (next != end) {
                if (lseek(fd, next, SEEK_SET) < 0) { perror("lseek"); return 2; }
                want = minimum_read;
            }
            ssize_t got = read(fd, buffer + kept, want);
            if (got < 0) { perror("read"); return 2; }
            if (kept + got < block) break;
            start = next;
            end = next + kept + got;
            if (want < buffer_size) want *= 2;
        }
        const unsigned char *h = buffer + (next - start);
        if (h[0] == 0) break; /* the end-of-archive marker */
        long long size = octal(h + 124, 12);
        if (h[156] != 'x' && h[156] != 'g') entries++;
        next += block + (size + block - 1) / block * block;
    }
    printf("%lld\n", entries);
    close(fd);
    return 0;
}
