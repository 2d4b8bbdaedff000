#include <stdlib.h>
#include <string.h>

#include "rn_alloc.h"

static void *rn_default_alloc(size_t size, void *user_data)
{
    (void)user_data;
    return malloc(size);
}

static void rn_default_free(void *ptr, void *user_data)
{
    (void)user_data;
    free(ptr);
}

void rn_allocator_resolve(const rollnet_allocator *in, rollnet_allocator *out)
{
    if (in && in->alloc && in->free) {
        *out = *in;
    } else {
        out->alloc = rn_default_alloc;
        out->free = rn_default_free;
        out->user_data = NULL;
    }
}

void *rn_calloc(const rollnet_allocator *a, size_t count, size_t size)
{
    if (count != 0 && size > SIZE_MAX / count) {
        return NULL;
    }
    size_t total = count * size;
    if (total == 0) {
        total = 1;
    }
    void *p = a->alloc(total, a->user_data);
    if (p) {
        memset(p, 0, total);
    }
    return p;
}

void rn_free(const rollnet_allocator *a, void *p)
{
    if (p) {
        a->free(p, a->user_data);
    }
}
