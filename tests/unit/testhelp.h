/* testhelp.h - tiny assertion macros for unit tests (after redis src/testhelp.h). */
#ifndef FM_TESTHELP_H
#define FM_TESTHELP_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static int th_failed; /* number of failed checks in this test binary */
static int th_checks; /* number of checks run */

/* Count a check; on failure print file:line and the expression, and keep going. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        th_checks++;                                                                               \
        if (!(cond)) {                                                                             \
            th_failed++;                                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* Compare two unsigned integers and print both values on failure. */
#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        uint64_t th_a_ = (uint64_t)(a), th_b_ = (uint64_t)(b);                                     \
        th_checks++;                                                                               \
        if (th_a_ != th_b_) {                                                                      \
            th_failed++;                                                                           \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%" PRIu64 " != %" PRIu64 ")\n",     \
                    __FILE__, __LINE__, #a, #b, th_a_, th_b_);                                     \
        }                                                                                          \
    } while (0)

/* Run one test function by name. */
#define TEST_RUN(fn)                                                                               \
    do {                                                                                           \
        int th_before_ = th_failed;                                                                \
        fn();                                                                                      \
        fprintf(stderr, "%s %s\n", th_failed == th_before_ ? "ok  " : "FAIL", #fn);                \
    } while (0)

/* Print the summary; use as `return TEST_REPORT();` at the end of main. */
#define TEST_REPORT()                                                                              \
    (fprintf(stderr, "%d checks, %d failed\n", th_checks, th_failed), th_failed ? 1 : 0)

#endif
