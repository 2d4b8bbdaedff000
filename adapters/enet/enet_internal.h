/* The ENet adapter's state, shared by enet_transport.c (the vtable) and
 * enet_strangers.c (keeping connections that are not, or not yet, a player's
 * peer within bounds). Internal. */
#ifndef RN_ENET_INTERNAL_H
#define RN_ENET_INTERNAL_H

#include <stdbool.h>

#include <enet/enet.h>

#include "rollnet/rollnet_enet.h"

/* An incoming connection ENet holds in ACKNOWLEDGING_CONNECT (its CONNECT
 * answered, our VERIFY_CONNECT not acknowledged yet): since when this
 * adapter has seen it, and which connection it was (a slot may be reset and
 * reused between two looks). */
typedef struct rn_enet_half_open {
    enet_uint32 connect_id;
    enet_uint32 since_ms;
    bool seen;
} rn_enet_half_open;

typedef struct rn_enet {
    ENetHost *host;
    ENetPacket *held; /* bytes of the last RECEIVE event; destroyed at the next receive */
    /* The event enet_host_service fills. A member, not a local, so that the
     * intercept (which ENet hands this pointer) finds the adapter. */
    ENetEvent ev;
    uint32_t timeout_ms;
    rollnet_enet_stats stats;
    rollnet_allocator allocator;
    rn_enet_half_open half_open[]; /* one per ENet peer slot */
} rn_enet;

/* Called by enet_host_service for every datagram, before ENet reads it
 * (installed as the host's intercept): CONNECTs past the per-address limit
 * are dropped and counted; a full host makes room by dropping its oldest
 * half-open connection. */
int ENET_CALLBACK rn_enet_intercept(ENetHost *host, ENetEvent *event);
/* Drops incoming connections whose ENet handshake has lasted longer than
 * ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS. */
void rn_enet_drop_half_open(rn_enet *t);

#endif
