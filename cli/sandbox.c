/*
 * sandbox.c - no_new_privs and the seccomp allow-list applied after start-up (seccomp(2),
 * libseccomp). By then the capture, database, metrics listener, key log and terminal are
 * open and the threads run; what is left is reading packets, writing files and sockets that
 * exist, threads synchronising, memory, time and signals. A call outside the list fails with
 * EPERM, so an overlooked but harmless call (a library's new way to ask for something) turns
 * into an error message, not a silent death; the calls that only an attacker running code in
 * the process would make (execve, ptrace, ...) kill the whole process instead.
 */
#include "cli/sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/log.h"

/*
 * Sanitizer builds (tests only): LeakSanitizer stops the threads at exit from a helper task
 * made with clone (not a thread) that attaches to them with ptrace; the filter lets those
 * through there, and only there.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SB_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_SANITIZER 1
#endif
#endif

#ifdef HAVE_SECCOMP
#include <linux/sched.h>
#include <net/if.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#endif

int sandbox_no_new_privs(void)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        log_error("cannot set no_new_privs: %s", strerror(errno));
        return ERR_IO;
    }
    return 0;
}

#ifdef HAVE_SECCOMP

bool sandbox_available(void)
{
    return true;
}

/* Allowed with any arguments. */
/* clang-format off */
static const char *const sb_allow[] = {
    /* files and descriptors that exist or are opened by path (sqlite's WAL and journal,
       the next -r file, --metrics-file's temporary and rename) */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "lseek",
    "close", "open", "openat", "fstat", "newfstatat", "stat", "lstat", "statx", "fstatfs",
    "statfs", "fcntl", "fsync", "fdatasync", "ftruncate", "fallocate", "rename", "renameat",
    "renameat2", "unlink", "unlinkat", "readlink", "readlinkat", "access", "faccessat",
    "faccessat2", "getcwd", "fchmod", "fchown", "getdents64", "dup", "dup2", "dup3", "pipe2",
    "eventfd2", "flock",
    /* memory (mmap and mprotect are below: never executable) */
    "brk", "munmap", "mremap", "madvise", "mincore",
    /* threads and their synchronisation (clone is below: threads only) */
    "futex", "set_robust_list", "get_robust_list", "rseq", "sched_yield", "sched_getaffinity",
    "gettid", "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups",
    "exit", "exit_group", "membarrier",
    /* time */
    "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
    "getrusage", "times",
    /* signals (kill and tgkill are below: only this process) */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack",
    "restart_syscall",
    /* waiting for descriptors: pcap, the terminal, the metrics endpoint (poll or epoll) */
    "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_wait", "epoll_pwait", "epoll_pwait2",
    /* sockets that exist: the capture socket, the metrics listener and its connections */
    "accept", "accept4", "recvfrom", "recvmsg", "recvmmsg", "sendto", "sendmsg", "sendmmsg",
    "setsockopt", "getsockopt", "shutdown", "getsockname", "getpeername",
    /* misc */
    "getrandom", "uname", "sysinfo",
};
/* clang-format on */

/* Kill the process: no part of flowmedic runs programs or inspects other processes. */
static const char *const sb_kill[] = {
    "execve", "execveat", "process_vm_readv", "process_vm_writev",
#ifndef SB_SANITIZER
    "ptrace",
#endif
};

#ifdef SB_SANITIZER
/* What LeakSanitizer's exit-time check needs besides (see SB_SANITIZER). */
static const char *const sb_sanitizer[] = {"ptrace", "clone",    "wait4",     "waitid",
                                           "prctl",  "getdents", "arch_prctl"};
#endif

/* ioctl requests allowed: the terminal (ncurses) and pcap's interface checks. */
static const unsigned long sb_ioctls[] = {
    TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, FIONREAD, FIONBIO, SIOCGIFFLAGS, SIOCGIFINDEX,
};

#ifndef SB_SANITIZER
/* prctl options allowed: thread names. */
static const int sb_prctls[] = {PR_SET_NAME, PR_GET_NAME};
#endif

/* Add one rule; a system call this architecture lacks is skipped. */
static int sb_rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
                   const struct scmp_arg_cmp *cmp)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0;
    int rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);
    if (rc < 0)
        log_error("sandbox: cannot add the rule for %s: %s", name, strerror(-rc));
    return rc;
}

/* One argument comparison (the SCMP_A* macros leave datum_b to the compiler's zeroing). */
static struct scmp_arg_cmp sb_cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a,
                                  scmp_datum_t b)
{
    struct scmp_arg_cmp c = {.arg = arg, .op = op, .datum_a = a, .datum_b = b};
    return c;
}

/* The first of two results that is an error, else 0. */
static int sb_first(int rc, int next)
{
    return rc < 0 ? rc : next;
}

/* Rules with argument checks. */
static int sb_arg_rules(scmp_filter_ctx ctx)
{
    const uint32_t ok = SCMP_ACT_ALLOW;
    int rc = 0;
    /* memory: never executable (no code can be mapped or made runnable after start-up) */
    struct scmp_arg_cmp noexec = sb_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
    rc = sb_first(rc, sb_rule(ctx, ok, "mmap", 1, &noexec));
    rc = sb_first(rc, sb_rule(ctx, ok, "mprotect", 1, &noexec));
    /* threads, not processes; clone3's flags are out of reach of a filter, so it reports
       ENOSYS and the C library falls back to clone */
    rc = sb_first(rc, sb_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL));
#ifndef SB_SANITIZER /* there, clone and prctl are allowed with any arguments */
    struct scmp_arg_cmp thread = sb_cmp(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
    rc = sb_first(rc, sb_rule(ctx, ok, "clone", 1, &thread));
#endif
    /* signals to this process only (abort, pthread_kill) */
    struct scmp_arg_cmp self = sb_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0);
    rc = sb_first(rc, sb_rule(ctx, ok, "tgkill", 1, &self));
    rc = sb_first(rc, sb_rule(ctx, ok, "kill", 1, &self));
    /* resource limits may be read (pthread_getattr_np), not changed */
    struct scmp_arg_cmp getonly = sb_cmp(2, SCMP_CMP_EQ, 0, 0);
    rc = sb_first(rc, sb_rule(ctx, ok, "prlimit64", 1, &getonly));
    for (size_t i = 0; i < sizeof(sb_ioctls) / sizeof(sb_ioctls[0]); i++) {
        struct scmp_arg_cmp req = sb_cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffu, sb_ioctls[i]);
        rc = sb_first(rc, sb_rule(ctx, ok, "ioctl", 1, &req));
    }
#ifndef SB_SANITIZER
    for (size_t i = 0; i < sizeof(sb_prctls) / sizeof(sb_prctls[0]); i++) {
        struct scmp_arg_cmp opt = sb_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)sb_prctls[i], 0);
        rc = sb_first(rc, sb_rule(ctx, ok, "prctl", 1, &opt));
    }
#endif
    return rc;
}

int sandbox_enter(void)
{
    int rc;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx) {
        log_error("sandbox: cannot create a seccomp filter");
        return ERR_IO;
    }
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1); /* every thread, atomically */
    if (rc < 0)
        goto fail;
    for (size_t i = 0; i < sizeof(sb_allow) / sizeof(sb_allow[0]); i++)
        if ((rc = sb_rule(ctx, SCMP_ACT_ALLOW, sb_allow[i], 0, NULL)) < 0)
            goto fail;
    for (size_t i = 0; i < sizeof(sb_kill) / sizeof(sb_kill[0]); i++)
        if ((rc = sb_rule(ctx, SCMP_ACT_KILL_PROCESS, sb_kill[i], 0, NULL)) < 0)
            goto fail;
#ifdef SB_SANITIZER
    for (size_t i = 0; i < sizeof(sb_sanitizer) / sizeof(sb_sanitizer[0]); i++)
        if ((rc = sb_rule(ctx, SCMP_ACT_ALLOW, sb_sanitizer[i], 0, NULL)) < 0)
            goto fail;
#endif
    if ((rc = sb_arg_rules(ctx)) < 0)
        goto fail;
    rc = seccomp_load(ctx);
    if (rc < 0)
        goto fail;
    seccomp_release(ctx);
    log_info("sandbox: seccomp filter on (other system calls fail with EPERM; exec and "
             "ptrace kill the process)");
    return 0;
fail:
    log_error("sandbox: cannot install the seccomp filter: %s", strerror(rc < 0 ? -rc : EINVAL));
    seccomp_release(ctx);
    return ERR_IO;
}

#else /* no libseccomp */

bool sandbox_available(void)
{
    return false;
}

int sandbox_enter(void)
{
    return ERR_ARG;
}

#endif

int sandbox_selftest(const char *what)
{
    if (strcmp(what, "execve") == 0) {
        char *const argv[] = {(char *)"true", NULL};
        char *const envp[] = {NULL};
        fprintf(stderr, "sandbox self-test: trying execve\n");
        execve("/bin/true", argv, envp);
        fprintf(stderr, "sandbox self-test: execve failed: %s\n", strerror(errno));
        return 1;
    }
    if (strcmp(what, "socket") == 0) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0) {
            close(fd);
            fprintf(stderr, "sandbox self-test: socket allowed\n");
            return 1;
        }
        fprintf(stderr, "sandbox self-test: socket refused: %s\n", strerror(errno));
        return errno == EPERM ? 0 : 1;
    }
    fprintf(stderr, "sandbox self-test: unknown test %s\n", what);
    return 1;
}
