/* Allocation through the session's allocator. Internal to the library. */
#ifndef RN_ALLOC_H
#define RN_ALLOC_H

#include "rollnet/rollnet.h"

/* Fill a zero allocator with malloc/free. */
void rn_allocator_resolve(const rollnet_allocator *in, rollnet_allocator *out);
/* Zeroed memory, or NULL. */
void *rn_calloc(const rollnet_allocator *a, size_t count, size_t size);
void rn_free(const rollnet_allocator *a, void *p);

#endif
