/* Runs a libFuzzer target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer: how the checked-in corpus and the regression inputs (crashes
 * the fuzzer found) are replayed in every build, gcc and sanitizers included.
 *
 *   fuzz_<target>_replay PATH...    (files, or directories of files)
 *
 * Each file is read into a buffer of exactly its size, so ASan sees any read
 * past the end. Prints "N inputs" and exits non-zero when a directory or file
 * cannot be read, when none was found, or when the target's optional
 * fuzz_replay_check() fails; a broken invariant aborts. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int fuzz_replay_check(void) __attribute__((weak));

static long g_inputs;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_replay: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            uint8_t *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                buf = NULL;
            } else {
                buf = b;
            }
        }
    }
    fclose(f);
    if (!buf) {
        return 1;
    }
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return 1;
    }
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    g_inputs++;
    return 0;
}

static int compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz_replay: no such file or directory: %s\n", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        return run_file(path);
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "fuzz_replay: cannot read %s\n", path);
        return 1;
    }
    /* In name order, so a run is the same everywhere. */
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char **grown = realloc(names, (count + 1) * sizeof(*names));
        if (!grown) {
            break;
        }
        names = grown;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        names[count] = malloc(n);
        if (!names[count]) {
            break;
        }
        snprintf(names[count], n, "%s/%s", path, e->d_name);
        count++;
    }
    closedir(d);
    qsort(names, count, sizeof(*names), compare);
    int failed = 0;
    for (size_t i = 0; i < count; i++) {
        failed |= run_path(names[i]);
        free(names[i]);
    }
    free(names);
    return failed;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize) {
        LLVMFuzzerInitialize(&argc, &argv);
    }
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        failed |= run_path(argv[i]);
    }
    printf("%s: %ld inputs\n", argv[0], g_inputs);
    if (g_inputs == 0) {
        fprintf(stderr, "fuzz_replay: no inputs\n");
        failed = 1;
    }
    if (fuzz_replay_check && fuzz_replay_check() != 0) {
        failed = 1;
    }
    return failed;
}
