/* The plugin layer's entry points: what needs the operating system (a random
 * nonce) or the process (libsodium's one-time initialisation) stays out of
 * core/. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>

#include "rollnet/rollnet.h"
#include "replay_internal.h"
#include "session.h"

#if ROLLNET_HAVE_SESSION_KEY
#include <sodium.h>
#endif

static uint64_t random_nonce(void)
{
    uint64_t v = 0;
#if ROLLNET_HAVE_SESSION_KEY
    /* libsodium's generator (the kernel's, where there is one): a private
     * session's handshake relies on nonces nobody can predict. */
    if (sodium_init() >= 0) {
        do {
            randombytes_buf(&v, sizeof(v));
        } while (v == 0);
        return v;
    }
#endif
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

/* The first difference between the caller's layout and the library's, as
 * text; false when they agree. */
static bool abi_differs(const rollnet_abi *theirs, char *why, size_t cap)
{
    const rollnet_abi mine = rollnet_abi_here();
    const struct {
        const char *what;
        uint32_t game, lib;
    } items[] = {
        {"ROLLNET_ABI_VERSION", theirs->version, mine.version},
        {"max_players (ROLLNET_MAX_PLAYERS)", theirs->max_players, mine.max_players},
        {"ROLLNET_MAX_INPUT_SIZE", theirs->max_input_size, mine.max_input_size},
        {"max_prediction (ROLLNET_MAX_PREDICTION)", theirs->max_prediction, mine.max_prediction},
        {"sizeof(rollnet_session_desc)", theirs->session_desc, mine.session_desc},
        {"sizeof(rollnet_event)", theirs->event, mine.event},
        {"sizeof(rollnet_request)", theirs->request, mine.request},
        {"sizeof(rollnet_record)", theirs->record, mine.record},
        {"sizeof(rollnet_session_stats)", theirs->session_stats, mine.session_stats},
        {"sizeof(rollnet_peer_stats)", theirs->peer_stats, mine.peer_stats},
        {"sizeof(rollnet_desync_info)", theirs->desync_info, mine.desync_info},
    };
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        if (items[i].game != items[i].lib) {
            snprintf(why, cap,
                     "rollnet: %s is %" PRIu32 " in the game and %" PRIu32 " in the library "
                     "(%s): rebuild the game against this build's headers",
                     items[i].what, items[i].game, items[i].lib, rollnet_version());
            return true;
        }
    }
    return false;
}

rollnet_error rollnet_session_create_checked(const rollnet_session_desc *desc,
                                             rollnet_session **out, const rollnet_abi *abi)
{
    char why[256];
    if (abi && abi_differs(abi, why, sizeof(why))) {
        if (out) {
            *out = NULL;
        }
        if (abi->session_desc == (uint32_t)sizeof(rollnet_session_desc) && desc) {
            /* The desc itself reads right: its logger and transport can be used. */
            if (desc->logger.log) {
                desc->logger.log(ROLLNET_LOG_ERROR, why, desc->logger.user_data);
            }
            rollnet_transport t = desc->transport;
            rollnet_transport_destroy(&t);
        } else {
            /* Nothing in the desc can be read safely, not even its logger. */
            fprintf(stderr, "%s\n", why);
        }
        return ROLLNET_ERR_ABI_MISMATCH;
    }
#if ROLLNET_HAVE_SESSION_KEY
    /* Process-wide and idempotent (thread-safe after the first call); the
     * key derivation and MACs in core/ need it done. */
    if (desc && desc->session_key_size > 0 && sodium_init() < 0) {
        if (out) {
            *out = NULL;
        }
        if (desc->logger.log) {
            desc->logger.log(ROLLNET_LOG_ERROR, "session_key: libsodium failed to initialise",
                             desc->logger.user_data);
        }
        rollnet_transport t = desc->transport;
        rollnet_transport_destroy(&t);
        return ROLLNET_ERR_INVALID_DESC;
    }
#endif
    uint64_t nonce = desc && desc->nonce ? desc->nonce : random_nonce();
    return rn_session_create(desc, nonce, out);
}

rollnet_error rollnet_replay_session_create_checked(rollnet_replay *replay,
                                                    const rollnet_replay_session_desc *desc,
                                                    rollnet_session **out, const rollnet_abi *abi)
{
    char why[256];
    if (abi && abi_differs(abi, why, sizeof(why))) {
        if (out) {
            *out = NULL;
        }
        fprintf(stderr, "%s\n", why); /* the desc may not read right either */
        return ROLLNET_ERR_ABI_MISMATCH;
    }
    return rn_replay_session_open(replay, desc, out);
}

const char *rollnet_version(void)
{
    return ROLLNET_VERSION_STRING;
}
