/* What the fuzz targets share: a failing check that aborts (libFuzzer and
 * the replay driver both report an abort with its input), an allocator hook
 * that counts, and, in the sanitizer builds of the libFuzzer targets
 * (FUZZ_MALLOC_HOOKS), a watch on every malloc the process makes while a
 * window is armed, msgpack-c's included. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const char *fuzz_target_name = "fuzz";

/* The malloc watch. Armed: every malloc of the thread that armed it is
 * counted and the largest kept (not another thread's: libFuzzer starts its
 * own threads whenever it likes); `fuzz_watch.own` > 0 marks the target's
 * own allocations, which are not counted either. With `fuzz_watch.forbid`
 * set the first counted malloc prints its stack. */
typedef struct fuzz_watch_state {
    volatile int armed, own, forbid;
    volatile long count;
    volatile size_t largest;
    pthread_t thread;
} fuzz_watch_state;

static fuzz_watch_state fuzz_watch;

static inline void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static inline void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    fuzz_watch.armed = 0; /* the crash report allocates */
    va_start(ap, fmt);
    fprintf(stderr, "%s: invariant broken: ", fuzz_target_name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

#define FUZZ_CHECK(cond, ...)       \
    do {                            \
        if (!(cond)) {              \
            fuzz_fail(__VA_ARGS__); \
        }                           \
    } while (0)

/* A rollnet_allocator that counts. */
typedef struct fuzz_alloc {
    long allocs, frees;
    size_t largest;
} fuzz_alloc;

static inline void *fuzz_alloc_fn(size_t size, void *user)
{
    fuzz_alloc *a = user;
    a->allocs++;
    if (size > a->largest) {
        a->largest = size;
    }
    return malloc(size);
}

static inline void fuzz_free_fn(void *ptr, void *user)
{
    if (ptr) {
        ((fuzz_alloc *)user)->frees++;
    }
    free(ptr);
}


#ifdef FUZZ_MALLOC_HOOKS
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
void __sanitizer_print_stack_trace(void);

static inline void fuzz_malloc_hook(const volatile void *ptr, size_t size)
{
    (void)ptr;
    if (fuzz_watch.armed && fuzz_watch.own == 0 && pthread_equal(pthread_self(), fuzz_watch.thread)) {
        if (fuzz_watch.count++ == 0 && fuzz_watch.forbid) {
            fprintf(stderr, "%s: malloc(%zu) where none may happen, from:\n", fuzz_target_name,
                    size);
            __sanitizer_print_stack_trace();
        }
        if (size > fuzz_watch.largest) {
            fuzz_watch.largest = size;
        }
    }
}

static inline void fuzz_free_hook(const volatile void *ptr)
{
    (void)ptr;
}

/* Call once, from LLVMFuzzerInitialize. */
static inline void fuzz_watch_install(void)
{
    __sanitizer_install_malloc_and_free_hooks(fuzz_malloc_hook, fuzz_free_hook);
}
#define FUZZ_WATCHING 1
#else
static inline void fuzz_watch_install(void)
{
}
#define FUZZ_WATCHING 0
#endif

static inline void fuzz_watch_arm(bool forbid)
{
    fuzz_watch.count = 0;
    fuzz_watch.largest = 0;
    fuzz_watch.forbid = forbid;
    fuzz_watch.thread = pthread_self();
    fuzz_watch.armed = 1;
}

static inline void fuzz_watch_disarm(void)
{
    fuzz_watch.armed = 0;
}

#define FUZZ_OWN_BEGIN() (fuzz_watch.own++)
#define FUZZ_OWN_END() (fuzz_watch.own--)

#endif
