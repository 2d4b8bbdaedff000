/* Player masks: one bit per player handle. Internal. */
#ifndef RN_BITS_H
#define RN_BITS_H

#include <stdint.h>

static inline int rn_popcount32(uint32_t v)
{
    int n = 0;
    while (v) {
        v &= v - 1;
        n++;
    }
    return n;
}

/* The lowest handle in the mask, or -1 for an empty mask. */
static inline int rn_lowest_player(uint32_t mask)
{
    return mask ? __builtin_ctz(mask) : -1;
}

#endif
