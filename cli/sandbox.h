/*
 * sandbox.h - confine the process once start-up is over: no new privileges (prctl), and a
 * seccomp allow-list of the system calls analysis and sinks need (libseccomp, when built with
 * it). See README "Security" for what is allowed and why.
 */
#ifndef FM_SANDBOX_H
#define FM_SANDBOX_H

#include <stdbool.h>

#include "capture/err.h"

/*
 * Set PR_SET_NO_NEW_PRIVS: no execve can gain privileges again (set-user-ID, file
 * capabilities). Inherited by threads created afterwards, so call it before any thread
 * starts. 0 or ERR_IO (the message is logged).
 */
int sandbox_no_new_privs(void) FM_WUR;

/* True when this build has seccomp support (libseccomp). */
bool sandbox_available(void);

/*
 * Install the seccomp filter on every thread of the process (TSYNC). After it, a system call
 * outside the allow-list fails with EPERM, except execve/execveat/ptrace and the like, which
 * kill the whole process (SIGSYS): nothing flowmedic does needs them, so reaching one means
 * the process is no longer running flowmedic's code. 0, ERR_ARG when the build has no
 * libseccomp (check sandbox_available first), or ERR_IO when the kernel or libseccomp refuses
 * (the message is logged).
 */
int sandbox_enter(void) FM_WUR;

/*
 * Test hook (hidden option --sandbox-selftest): try one forbidden action and report on stderr.
 * what is "execve" (expected: the process is killed by SIGSYS) or "socket" (expected: EPERM,
 * returns 0 when refused, 1 when it was allowed).
 */
int sandbox_selftest(const char *what);

#endif
