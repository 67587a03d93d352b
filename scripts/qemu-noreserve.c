/*
 * Lets CI run the linux-arm64 executable under Debian 12's qemu-user (7.2) on a machine with less
 * memory than LMDB's map. Loaded into the emulated program only, with
 *     qemu-aarch64 -E LD_PRELOAD=qemu-noreserve.so ...      (built by .ci/run with aarch64-linux-gnu-gcc)
 * and never part of a release.
 *
 * Why: artifactd maps its store with a 64 GiB LMDB map (src/store/lmdb/env.ts) — address space,
 * not memory, on real hardware. qemu 7.2's mmap emulation first reserves the whole range as a
 * *shared anonymous* mapping with the program's own flags and then maps the file over it; Linux
 * accounts shared anonymous memory, and its default overcommit heuristic refuses one larger than
 * RAM + swap. On a 24 GiB machine a 16 GiB map opens and a 32 GiB one fails (strace of qemu:
 * mmap(…, 34359738368, PROT_READ, MAP_SHARED|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM), and
 * lmdb-js then crashes with SIGSEGV rather than throwing — so artifactd's start-up does too.
 *
 * What: adds MAP_NORESERVE to the program's shared file mappings, which qemu passes on to that
 * reservation, so the kernel does not account it. For a file mapping MAP_NORESERVE changes
 * nothing (file pages are never accounted), so the program runs exactly as on an arm64 machine:
 * same binary, same 64 GiB map.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
  if (fd >= 0 && (flags & MAP_SHARED)) flags |= MAP_NORESERVE;
  return (void *)syscall(SYS_mmap, addr, length, prot, flags, fd, offset);
}

void *mmap64(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
    __attribute__((alias("mmap")));
