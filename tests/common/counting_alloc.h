/* An allocator hook that counts calls, for tests that check what a module
 * allocates and that it frees all of it. Header-only. */
#ifndef COUNTING_ALLOC_H
#define COUNTING_ALLOC_H

#include <stdlib.h>

typedef struct counting_alloc {
    int allocs, frees;
} counting_alloc;

static inline void *count_alloc(size_t size, void *user_data)
{
    ((counting_alloc *)user_data)->allocs++;
    return malloc(size);
}

static inline void count_free(void *ptr, void *user_data)
{
    ((counting_alloc *)user_data)->frees++;
    free(ptr);
}

#endif
