/* The ENet adapter's state, shared by enet_transport.c (the vtable),
 * enet_address.c (addresses), enet_strangers.c (keeping connections that are
 * not, or not yet, a player's peer within bounds), enet_thread.c and
 * enet_service.c (the optional service thread and the vtable that goes with
 * it). Internal. */
#ifndef RN_ENET_INTERNAL_H
#define RN_ENET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

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

/* Channel 2 carries the service thread's busy reports, never a session's
 * messages: 'R' 'B', then the ms the game thread has not polled (uint32,
 * big-endian). */
#define RN_ENET_BUSY_CHANNEL 2
#define RN_ENET_BUSY_SIZE 6

static inline void rn_enet_busy_encode(uint8_t out[RN_ENET_BUSY_SIZE], uint32_t ms)
{
    out[0] = 'R';
    out[1] = 'B';
    out[2] = (uint8_t)(ms >> 24);
    out[3] = (uint8_t)(ms >> 16);
    out[4] = (uint8_t)(ms >> 8);
    out[5] = (uint8_t)ms;
}

/* False for anything but a well-formed report. */
static inline bool rn_enet_busy_decode(const uint8_t *d, size_t n, uint32_t *ms)
{
    if (n != RN_ENET_BUSY_SIZE || d[0] != 'R' || d[1] != 'B') {
        return false;
    }
    *ms = ((uint32_t)d[2] << 24) | ((uint32_t)d[3] << 16) | ((uint32_t)d[4] << 8) | d[5];
    return true;
}

/* Addresses resolved at check_address, for connect (game thread only). */
#define RN_ENET_RESOLVED 16

typedef struct rn_enet_thread rn_enet_thread;

typedef struct rn_enet {
    ENetHost *host;
    rn_enet_thread *th; /* the service thread; NULL without one */
    uint16_t port;      /* the bound port, written at create */
    struct {
        char text[264];
        ENetAddress addr;
    } resolved[RN_ENET_RESOLVED];
    int num_resolved;
    /* Set by the first receive (game thread): the session runs frames, and
     * check_address (an INTRO's address) no longer asks the resolver. */
    bool running;
    ENetPacket *held; /* bytes of the last RECEIVE event; destroyed at the next receive */
    /* The event enet_host_service fills. A member, not a local, so that the
     * intercept (which ENet hands this pointer) finds the adapter. */
    ENetEvent ev;
    uint32_t timeout_ms;
    rollnet_enet_stats stats;
    rollnet_allocator allocator;
    rn_enet_half_open half_open[]; /* one per ENet peer slot */
} rn_enet;

/* enet_transport.c: the vtable's work, for either thread model. */
void rn_enet_apply_timeout(ENetPeer *p, uint32_t timeout_ms);
int rn_enet_parse_address(const char *text, ENetAddress *out, const char **why);
/* The same with a dotted IPv4 host only: never asks the resolver. */
int rn_enet_parse_numeric(const char *text, ENetAddress *out, const char **why);
/* parse_address through the table of addresses check_address resolved (it
 * adds to it): a name checked at creation is not resolved again. */
int rn_enet_resolve(rn_enet *t, const char *text, ENetAddress *out, const char **why);
/* The vtable's check_address (either thread model; game thread). */
rollnet_error rn_enet_check_address(void *self, const char *address, char *why, size_t cap);
ENetPeer *rn_enet_peer(rn_enet *t, int peer);
int rn_enet_peer_id(const rn_enet *t, const ENetPeer *p);
bool rn_enet_peer_known(const ENetPeer *p);
bool rn_enet_peer_closing(const ENetPeer *p);
rollnet_error rn_enet_connect_addr(rn_enet *t, const ENetAddress *address, int *peer_out);
rollnet_error rn_enet_send_now(rn_enet *t, int peer, rollnet_channel channel, const void *data,
                               size_t size);
void rn_enet_disconnect_now(rn_enet *t, int peer);
void rn_enet_set_timeout_now(rn_enet *t, int peer, uint32_t timeout_ms);
rollnet_error rn_enet_peer_info_now(rn_enet *t, int peer, rollnet_transport_peer_info *out);
/* An ENet event as a transport event: false when it is none (a refused
 * connection, a foreign channel, a malformed busy report: consumed). A
 * RECEIVE's data stays in ev->packet, which the caller then owns. */
bool rn_enet_convert(rn_enet *t, const ENetEvent *ev, rollnet_transport_event *out);
/* Flush, say goodbye to every peer, destroy the host. */
void rn_enet_close_host(rn_enet *t);
/* Free the adapter state (the host already closed). */
void rn_enet_free(rn_enet *t);

/* enet_thread.c: the service thread. */
extern const rollnet_transport_vtable rn_enet_thread_vtable;
rollnet_error rn_enet_thread_start(rn_enet *t);
int rn_enet_thread_wait(rn_enet *t, uint32_t timeout_ms);
void rn_enet_thread_stats(rn_enet *t, rollnet_enet_stats *out);
/* The adapter whose host the calling thread is servicing (for the intercept,
 * which ENet calls without an event when the service thread services). */
extern _Thread_local rn_enet *rn_enet_servicing;

/* Called by enet_host_service for every datagram, before ENet reads it
 * (installed as the host's intercept): CONNECTs past the per-address limit
 * are dropped and counted; a full host makes room by dropping its oldest
 * half-open connection. */
int ENET_CALLBACK rn_enet_intercept(ENetHost *host, ENetEvent *event);
/* Drops incoming connections whose ENet handshake has lasted longer than
 * ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS. */
void rn_enet_drop_half_open(rn_enet *t);

#endif
