/* A node's transport with per-destination link conditions, built only from
 * the public API: one rollnet_netsim per destination peer, each wrapping a
 * thin non-owning proxy of the node's memnet transport.
 *
 * The public netsim decorates all of a node's outgoing traffic with one set
 * of conditions, and rollnet_memnet_set_cut cuts every link of a node at
 * once; neither can cut or degrade one direction of one link. Composing
 * several netsims behind this router gives both without touching core/. */
#include <stdlib.h>
#include <string.h>

#include "simint.h"

#define HELD_MAX_MESSAGE 1400

typedef struct held_queue {
    uint8_t *buf; /* [u32 size][size bytes]... */
    size_t len, cap;
} held_queue;

struct sim_router {
    rollnet_transport mem; /* the memnet node (owned by the memnet) */
    int self, peers;
    int net_nodes;         /* the memnet's nodes: a peer id is its node + net_nodes * k */
    int id[SIM_MAX_NODES]; /* the id each peer was last sent to or heard from under */
    int closing;           /* an id this side closed, reported DISCONNECTED at the next receive */
    /* Netsim towards each routed node (a peer, a spectator's host, a host's
     * spectator); vtable NULL for self and for strangers. */
    rollnet_transport sim[SIM_MAX_NODES];
    bool cut[SIM_MAX_NODES];
    held_queue held[SIM_MAX_NODES];
    int routes_end;        /* every routed node is below this */
    bool destroyed;
};

/* ---- The proxy the netsims wrap: forwards to the memnet node. ---- */

static rollnet_error proxy_connect(void *self, const char *address, uint64_t now, int *peer_out)
{
    sim_router *r = self;
    return r->mem.vtable->connect(r->mem.self, address, now, peer_out);
}

static rollnet_error proxy_send(void *self, int peer, rollnet_channel ch, const void *data,
                                size_t size, uint64_t now)
{
    sim_router *r = self;
    return r->mem.vtable->send(r->mem.self, peer, ch, data, size, now);
}

static rollnet_error proxy_receive(void *self, uint64_t now, rollnet_transport_event *out)
{
    sim_router *r = self;
    return r->mem.vtable->receive(r->mem.self, now, out);
}

static void proxy_disconnect(void *self, int peer)
{
    sim_router *r = self;
    r->mem.vtable->disconnect(r->mem.self, peer);
}

static rollnet_error proxy_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    sim_router *r = self;
    return r->mem.vtable->peer_info(r->mem.self, peer, out);
}

static const rollnet_transport_vtable proxy_vtable = {
    .connect = proxy_connect,
    .send = proxy_send,
    .receive = proxy_receive,
    .disconnect = proxy_disconnect,
    .peer_info = proxy_peer_info,
};

/* ---- Held reliable messages of a partitioned direction ---- */

static bool held_push(held_queue *q, const void *data, size_t size)
{
    size_t need = q->len + 4 + size;
    if (need > q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 4096;
        while (cap < need) {
            cap *= 2;
        }
        uint8_t *nb = realloc(q->buf, cap);
        if (!nb) {
            return false;
        }
        q->buf = nb;
        q->cap = cap;
    }
    uint32_t s = (uint32_t)size;
    memcpy(q->buf + q->len, &s, 4);
    memcpy(q->buf + q->len + 4, data, size);
    q->len = need;
    return true;
}

static void held_release(sim_router *r, int dest, uint64_t now)
{
    held_queue *q = &r->held[dest];
    rollnet_transport *t = &r->sim[dest];
    for (size_t off = 0; off < q->len;) {
        uint32_t s;
        memcpy(&s, q->buf + off, 4);
        t->vtable->send(t->self, r->id[dest], ROLLNET_CHANNEL_RELIABLE, q->buf + off + 4, s, now);
        off += 4 + s;
    }
    q->len = 0;
}

/* ---- The router's own vtable ---- */

static bool routed(const sim_router *r, int dest)
{
    return dest >= 0 && dest < SIM_MAX_NODES && r->sim[dest].vtable != NULL;
}

/* The peer (node) behind a transport id, -1 for a stranger's or none; the
 * id is remembered as the peer's current one (a rebinding changes it). */
static int route(sim_router *r, int id)
{
    if (id < 0) {
        return -1;
    }
    int dest = id % r->net_nodes;
    if (!routed(r, dest)) {
        return -1;
    }
    r->id[dest] = id;
    return dest;
}

static void flush_all(sim_router *r, uint64_t now)
{
    for (int d = 0; d < r->routes_end; d++) {
        if (r->sim[d].vtable) {
            rollnet_netsim_flush(&r->sim[d], now);
        }
    }
}

static rollnet_error router_connect(void *self, const char *address, uint64_t now,
                                    int *peer_out)
{
    sim_router *r = self;
    return r->mem.vtable->connect(r->mem.self, address, now, peer_out);
}

static rollnet_error router_send(void *self, int peer, rollnet_channel ch, const void *data,
                                 size_t size, uint64_t now)
{
    sim_router *r = self;
    int dest = route(r, peer);
    if (dest < 0) {
        return r->mem.vtable->send(r->mem.self, peer, ch, data, size, now);
    }
    if (size > HELD_MAX_MESSAGE) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (r->cut[dest]) {
        if (ch == ROLLNET_CHANNEL_RELIABLE) {
            return held_push(&r->held[dest], data, size) ? ROLLNET_ERR_OK
                                                         : ROLLNET_ERR_OUT_OF_MEMORY;
        }
        return ROLLNET_ERR_OK; /* lost in the outage */
    }
    return r->sim[dest].vtable->send(r->sim[dest].self, peer, ch, data, size, now);
}

static void drop_peer(sim_router *r, int dest)
{
    if (routed(r, dest)) {
        r->held[dest].len = 0;
    }
}

static rollnet_error router_receive(void *self, uint64_t now, rollnet_transport_event *out)
{
    sim_router *r = self;
    flush_all(r, now);
    if (r->closing >= 0) {
        /* A close this side's transport made (a timeout, say) is reported here too. */
        memset(out, 0, sizeof(*out));
        out->type = ROLLNET_TRANSPORT_DISCONNECTED;
        out->peer = r->closing;
        r->closing = -1;
        return ROLLNET_ERR_OK;
    }
    rollnet_error got = r->mem.vtable->receive(r->mem.self, now, out);
    int dest = got == ROLLNET_ERR_OK && out->type != ROLLNET_TRANSPORT_NONE ? route(r, out->peer)
                                                                            : -1;
    if (dest >= 0 && out->type == ROLLNET_TRANSPORT_DISCONNECTED) {
        /* As the netsim does for its own receive: what was in flight is lost.
         * Its disconnect also tells the memnet, which ignores a closed link. */
        rollnet_transport *t = &r->sim[dest];
        t->vtable->disconnect(t->self, out->peer);
        drop_peer(r, dest);
    }
    return got;
}

static void router_disconnect(void *self, int peer)
{
    sim_router *r = self;
    int dest = route(r, peer);
    if (dest >= 0) {
        rollnet_transport *t = &r->sim[dest];
        t->vtable->disconnect(t->self, peer);
        drop_peer(r, dest);
    } else {
        r->mem.vtable->disconnect(r->mem.self, peer);
    }
}

static rollnet_error router_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    sim_router *r = self;
    int dest = route(r, peer);
    if (dest >= 0) {
        return r->sim[dest].vtable->peer_info(r->sim[dest].self, peer, out);
    }
    return r->mem.vtable->peer_info(r->mem.self, peer, out);
}

static void router_flush(void *self, uint64_t now)
{
    flush_all(self, now);
}

static void router_destroy(void *self)
{
    sim_router *r = self;
    for (int d = 0; d < r->routes_end; d++) {
        rollnet_transport_destroy(&r->sim[d]);
        r->sim[d].vtable = NULL;
        r->held[d].len = 0;
    }
    r->destroyed = true;
}

static const rollnet_transport_vtable router_vtable = {
    .connect = router_connect,
    .send = router_send,
    .receive = router_receive,
    .disconnect = router_disconnect,
    .peer_info = router_peer_info,
    .destroy = router_destroy,
    .flush = router_flush,
};

/* ---- Public to the world ---- */

sim_router *sim_router_create(rollnet_memnet *net, int net_nodes, int self, int peers,
                              uint64_t seed, const rollnet_allocator *alloc)
{
    sim_router *r = calloc(1, sizeof(*r));
    if (!r) {
        return NULL;
    }
    r->mem = rollnet_memnet_transport(net, self);
    r->self = self;
    r->peers = peers;
    r->net_nodes = net_nodes;
    r->closing = -1;
    for (int d = 0; d < SIM_MAX_NODES; d++) {
        r->id[d] = d;
    }
    for (int d = 0; d < peers; d++) {
        if (d == self) {
            continue;
        }
        if (!sim_router_add_route(r, d, seed * 0x9E3779B97F4A7C15ull + (uint64_t)(self * 16 + d) + 1,
                                  alloc)) {
            router_destroy(r);
            free(r);
            return NULL;
        }
    }
    return r;
}

bool sim_router_add_route(sim_router *r, int dest, uint64_t netsim_seed,
                          const rollnet_allocator *alloc)
{
    if (dest < 0 || dest >= SIM_MAX_NODES || dest == r->self || r->sim[dest].vtable) {
        return false;
    }
    rollnet_netsim_desc nd;
    memset(&nd, 0, sizeof(nd));
    nd.seed = netsim_seed;
    nd.max_queued = 512;
    rollnet_transport proxy = {&proxy_vtable, r};
    if (rollnet_netsim_create(proxy, &nd, alloc, &r->sim[dest]) != ROLLNET_ERR_OK) {
        return false;
    }
    if (dest + 1 > r->routes_end) {
        r->routes_end = dest + 1;
    }
    return true;
}

rollnet_transport sim_router_transport(sim_router *r)
{
    rollnet_transport t = {&router_vtable, r};
    return t;
}

bool sim_router_alive(const sim_router *r)
{
    return r && !r->destroyed;
}

void sim_router_set_link(sim_router *r, int dest, const rollnet_netsim_desc *d)
{
    if (sim_router_alive(r) && routed(r, dest)) {
        rollnet_netsim_set(&r->sim[dest], d);
    }
}

void sim_router_set_partition(sim_router *r, int dest, bool cut)
{
    if (dest >= 0 && dest < SIM_MAX_NODES) {
        r->cut[dest] = cut;
    }
}

void sim_router_close(sim_router *r, int dest)
{
    if (sim_router_alive(r) && routed(r, dest)) {
        int id = r->id[dest];
        router_disconnect(r, id);
        r->closing = id;
    }
}

void sim_router_tick(sim_router *r, uint64_t now)
{
    if (!sim_router_alive(r)) {
        return;
    }
    for (int d = 0; d < r->routes_end; d++) {
        if (routed(r, d) && !r->cut[d] && r->held[d].len > 0) {
            held_release(r, d, now);
        }
    }
    flush_all(r, now);
}

void sim_router_free(sim_router *r)
{
    if (!r) {
        return;
    }
    if (!r->destroyed) {
        router_destroy(r);
    }
    for (int d = 0; d < SIM_MAX_NODES; d++) {
        free(r->held[d].buf);
    }
    free(r);
}
