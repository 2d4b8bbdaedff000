/* An allocator hook that counts calls, for tests that check what a module
 * allocates and that it frees all of it, and that can fail one chosen call,
 * for tests of what a module does when memory runs out. Header-only. */
#ifndef COUNTING_ALLOC_H
#define COUNTING_ALLOC_H

#include <stdlib.h>

typedef struct counting_alloc {
    int allocs, frees; /* successful allocations, and frees */
    int fail_at;       /* 0: never fail; n: the n-th call of count_alloc returns NULL */
    int calls;         /* calls of count_alloc, failed ones included */
} counting_alloc;

static inline void *count_alloc(size_t size, void *user_data)
{
    counting_alloc *c = user_data;
    if (++c->calls == c->fail_at) {
        return NULL;
    }
    c->allocs++;
    return malloc(size);
}

static inline void count_free(void *ptr, void *user_data)
{
    ((counting_alloc *)user_data)->frees++;
    free(ptr);
}

#endif
