/* The plugin layer's entry points: what needs the operating system (a random
 * nonce) stays out of core/. */
#include <errno.h>
#include <sys/random.h>

#include "rollnet/rollnet.h"
#include "session.h"

static uint64_t random_nonce(void)
{
    uint64_t v = 0;
    for (int tries = 0; tries < 8; tries++) {
        ssize_t n = getrandom(&v, sizeof(v), 0);
        if (n == (ssize_t)sizeof(v) && v != 0) {
            return v;
        }
        if (n < 0 && errno != EINTR) {
            break;
        }
    }
    /* No entropy source: fall back to the address of a stack variable mixed with a constant. */
    uintptr_t p = (uintptr_t)&v;
    return ((uint64_t)p * 0x9E3779B97F4A7C15ull) | 1u;
}

rollnet_error rollnet_session_create(const rollnet_session_desc *desc, rollnet_session **out)
{
    uint64_t nonce = desc && desc->nonce ? desc->nonce : random_nonce();
    return rn_session_create(desc, nonce, out);
}

const char *rollnet_version(void)
{
    return ROLLNET_VERSION_STRING;
}
