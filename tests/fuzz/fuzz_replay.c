/*
 * fuzz_replay.c - a plain main() for builds without libFuzzer: feeds every file named on the
 * command line, or found (recursively) under a directory named there, to
 * LLVMFuzzerTestOneInput once (as libpcap testprogs/fuzz/onefile.c). Exit 0 unless a file
 * cannot be read; a crash is the failure the sanitizers report.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_FILE (256u * 1024 * 1024) /* larger files are skipped */
#define REPLAY_MAX_DEPTH 16                  /* directory recursion bound */

static unsigned long replay_files;  /* inputs run */
static unsigned long replay_failed; /* inputs that could not be read */

/* Read one file and run it. */
static void run_file(const char *path, off_t size)
{
    if (size < 0 || (uint64_t)size > REPLAY_MAX_FILE) {
        fprintf(stderr, "fuzz_replay: %s: skipped (larger than %u bytes)\n", path, REPLAY_MAX_FILE);
        return;
    }
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
    size_t got = 0;
    if (!f || !buf) {
        fprintf(stderr, "fuzz_replay: %s: cannot read\n", path);
        replay_failed++;
        goto out;
    }
    got = fread(buf, 1, (size_t)size, f);
    /* Copy to an exact-size buffer so ASan sees reads past the end of the input. */
    uint8_t *exact = malloc(got ? got : 1);
    if (!exact) {
        replay_failed++;
        goto out;
    }
    memcpy(exact, buf, got);
    LLVMFuzzerTestOneInput(exact, got);
    free(exact);
    replay_files++;
out:
    free(buf);
    if (f)
        fclose(f);
}

static void run_path(const char *path, int depth)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "fuzz_replay: %s: not found\n", path);
        replay_failed++;
        return;
    }
    if (S_ISREG(sb.st_mode)) {
        run_file(path, sb.st_size);
        return;
    }
    if (!S_ISDIR(sb.st_mode) || depth > REPLAY_MAX_DEPTH)
        return;
    DIR *d = opendir(path);
    if (!d) {
        replay_failed++;
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char sub[4096];
        if (de->d_name[0] == '.')
            continue;
        int n = snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        if (n > 0 && (size_t)n < sizeof sub)
            run_path(sub, depth + 1);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        run_path(argv[i], 0);
    fprintf(stderr, "fuzz_replay: %lu inputs run, %lu unreadable\n", replay_files, replay_failed);
    return replay_failed ? 1 : 0;
}
