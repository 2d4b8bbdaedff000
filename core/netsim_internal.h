/* The network simulator's limits and counters (core/netsim.c), for tests,
 * the integration harness and the bench. Internal to the library. */
#ifndef RN_NETSIM_INTERNAL_H
#define RN_NETSIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "rollnet/rollnet.h"

/* Largest message send accepts; larger ones are refused (INVALID_ARGUMENT). */
#define RN_NETSIM_MAX_MESSAGE 1400
#define RN_NETSIM_DEFAULT_MAX_QUEUED 4096
/* Peers 0..RN_NETSIM_PEER_SLOTS-1 each keep their own reliable order; higher
 * peer ids share one slot, which still keeps order, only more strictly. */
#define RN_NETSIM_PEER_SLOTS 64

typedef struct rn_netsim_counters {
    uint64_t sent;               /* messages send accepted (before duplication) */
    uint64_t lost;               /* unreliable messages the loss roll dropped */
    uint64_t duplicated;         /* unreliable messages sent twice */
    uint64_t reordered;          /* copies held back by reorder_ms */
    uint64_t reliable_late;      /* reliable messages the loss roll turned into a late delivery */
    uint64_t dropped_full;       /* copies refused because max_queued copies were held */
    uint64_t dropped_disconnect; /* held copies discarded because their peer disconnected */
    uint64_t inner_failed;       /* copies the inner transport refused when they fell due */
    uint64_t held;               /* copies held now */
} rn_netsim_counters;

/* False when t is not a netsim transport. */
bool rn_netsim_counters_get(const rollnet_transport *t, rn_netsim_counters *out);
/* Due time of the earliest held copy; false when none is held or t is not a netsim. */
bool rn_netsim_next_due(const rollnet_transport *t, uint64_t *out);

#endif
