/* The allocator hook of every session, router and memnet in a run (oracle
 * d counts its calls): see below for the blocks it keeps between scenarios. */
#include <stdlib.h>
#include <string.h>

#include "simint.h"

/* The allocator hook: counts calls (oracle d) and keeps large blocks for
 * the next scenario. The library zeroes what it allocates, and fresh pages
 * for the memnet's inboxes (megabytes per node) cost more than the rest of a
 * scenario; a kept block is poisoned for AddressSanitizer while it waits, so
 * a use after free is still reported. Blocks carry their size in a header. */
#define BLOCK_HEADER 16u
#define CACHE_MIN (64u * 1024u)
#define CACHE_SLOTS 128

void __asan_poison_memory_region(void const volatile *addr, size_t size) __attribute__((weak));
void __asan_unpoison_memory_region(void const volatile *addr, size_t size) __attribute__((weak));

static struct {
    uint8_t *block[CACHE_SLOTS];
    int count;
} cache; /* process-wide; the simulator is single-threaded */

static void *count_alloc(size_t size, void *user_data)
{
    ((sim_counting *)user_data)->allocs++;
    if (size >= CACHE_MIN) {
        for (int i = cache.count - 1; i >= 0; i--) {
            size_t have;
            uint8_t *b = cache.block[i];
            if (__asan_unpoison_memory_region) {
                __asan_unpoison_memory_region(b, BLOCK_HEADER);
            }
            memcpy(&have, b, sizeof(have));
            if (have == size) {
                cache.block[i] = cache.block[--cache.count];
                if (__asan_unpoison_memory_region) {
                    __asan_unpoison_memory_region(b, BLOCK_HEADER + size);
                }
                return b + BLOCK_HEADER;
            }
            if (__asan_poison_memory_region) {
                __asan_poison_memory_region(b, BLOCK_HEADER);
            }
        }
    }
    uint8_t *b = malloc(BLOCK_HEADER + size);
    if (!b) {
        return NULL;
    }
    memcpy(b, &size, sizeof(size));
    return b + BLOCK_HEADER;
}

static void count_free(void *ptr, void *user_data)
{
    if (!ptr) {
        return;
    }
    ((sim_counting *)user_data)->frees++;
    uint8_t *b = (uint8_t *)ptr - BLOCK_HEADER;
    size_t size;
    memcpy(&size, b, sizeof(size));
    if (size >= CACHE_MIN && cache.count < CACHE_SLOTS) {
        cache.block[cache.count++] = b;
        if (__asan_poison_memory_region) {
            __asan_poison_memory_region(b, BLOCK_HEADER + size);
        }
        return;
    }
    free(b);
}

rollnet_allocator sim_counting_allocator(sim_counting *c)
{
    rollnet_allocator a = {.alloc = count_alloc, .free = count_free, .user_data = c};
    return a;
}
