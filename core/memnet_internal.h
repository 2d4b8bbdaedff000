/* The in-memory network's limits and counters (core/memnet.c), for tests and
 * the integration harness. Internal to the library. */
#ifndef RN_MEMNET_INTERNAL_H
#define RN_MEMNET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "rollnet/rollnet.h"

/* Largest message send accepts; larger ones are refused (INVALID_ARGUMENT). */
#define RN_MEMNET_MAX_MESSAGE 1400
/* Events one node's inbox holds: 2048 slots of 1400 bytes, about 2.9 MB per
 * node, allocated at creation. A session sends a few messages per frame and
 * drains its inbox every poll, so this covers tens of seconds of traffic
 * from a peer that is not being polled (a client blocked while loading). */
#define RN_MEMNET_INBOX_SLOTS 2048
/* Slots only connection events may use, so that CONNECTED/DISCONNECTED still
 * get through to an inbox that messages have filled. Messages are accepted
 * while fewer than RN_MEMNET_INBOX_SLOTS - RN_MEMNET_CONTROL_RESERVE events
 * wait in the inbox. */
#define RN_MEMNET_CONTROL_RESERVE 64
#define RN_MEMNET_MAX_NODES 64

/* About the messages addressed to one node. */
typedef struct rn_memnet_counters {
    uint64_t queued;       /* events waiting in the inbox now */
    uint64_t delivered;    /* events handed out by receive */
    uint64_t dropped_full; /* messages dropped because the inbox was full */
    uint64_t lost_cut;     /* messages lost because the sender or this node was cut */
} rn_memnet_counters;

/* False for a NULL net or a node out of range. */
bool rn_memnet_counters_get(const rollnet_memnet *net, int node, rn_memnet_counters *out);

#endif
