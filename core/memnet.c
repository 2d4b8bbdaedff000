/* In-memory network: every node's transport lives in one rollnet_memnet and
 * delivers into the other nodes' inboxes, deterministically and without a
 * clock. Used by the unit and integration tests in place of ENet.
 *
 * Peer ids: node A's peer id for node B is B's index, on every node, until
 * rollnet_memnet_rebind gives B a new id at A (B + num_nodes * the number of
 * rebindings): B's traffic then arrives at A under the new id, announced by
 * a CONNECTED, and what A sends to the old id is lost, as with a NAT that
 * changed B's port. An id is resolved back to its node by `resolve`.
 *
 * Each node owns one inbox: a ring of RN_MEMNET_INBOX_SLOTS events with a
 * fixed RN_MEMNET_MAX_MESSAGE-byte data slot each, all allocated at creation.
 * The event handed out by receive keeps its slot until the next receive on
 * that node, which is what keeps event.data valid that long.
 *
 * Connection state is one symmetric bit per pair of nodes. Each connect
 * starts a new generation of the link and every event is stamped with the
 * generation it was sent in; a node that closes a link discards whatever is
 * still queued for it from that generation (as ENet does for a peer it is
 * disconnecting), while the other side still receives everything sent before
 * the DISCONNECTED event. Cuts lose messages only; connection events always
 * get through (the memnet has no timeouts: the session's own detect silence).
 *
 * Errors (rollnet_error, as the vtable documents): BAD_ADDRESS for an address
 * that is not another node, UNKNOWN_PEER for a peer id with no standing link,
 * INVALID_ARGUMENT for a bad channel or a message over RN_MEMNET_MAX_MESSAGE,
 * TRANSPORT when a connection event or a reliable message finds the inbox
 * full (an unreliable message is then dropped and counted, as lost). */
#include <stdio.h>
#include <string.h>

#include "memnet_internal.h"
#include "rn_alloc.h"

typedef struct rn_memnet_event {
    uint8_t type;    /* rollnet_transport_event_type */
    uint8_t channel; /* rollnet_channel */
    int32_t peer;    /* the sending node, as the receiver's peer id */
    uint32_t gen;    /* link generation it was sent in */
    uint32_t size;
    uint32_t busy_ms; /* PEER_BUSY */
} rn_memnet_event;

typedef struct rn_memnet_node {
    rollnet_memnet *net;
    int index;
    bool cut;
    rn_memnet_event *events; /* ring of RN_MEMNET_INBOX_SLOTS */
    uint8_t *data;           /* RN_MEMNET_INBOX_SLOTS * RN_MEMNET_MAX_MESSAGE bytes */
    uint32_t head, count;    /* count includes the held event */
    bool holding;            /* events[head] was handed out; released at the next receive */
    rn_memnet_counters counters;
} rn_memnet_node;

struct rollnet_memnet {
    rollnet_allocator alloc;
    int num_nodes;
    rn_memnet_node *nodes;
    bool *linked;         /* [a * num_nodes + b], symmetric */
    uint32_t *link_gen;   /* [a * num_nodes + b], symmetric; bumped by each connect */
    uint32_t *closed_gen; /* [a * num_nodes + b]: a discards events from b of this generation or older */
    uint32_t *link_cut;   /* [a * num_nodes + b]: channels (1u << rollnet_channel) lost from a to b */
    uint32_t *rebound;    /* [a * num_nodes + b]: rebindings of b as a sees it (its id's epoch) */
    /* [a * num_nodes + b]: the newest generation of the link a knows of (it
     * connected, or its CONNECTED was handed out). A close from a names that
     * one: a newer connection it has not heard of yet (b closed and dialled
     * again) is not its to close, as with ENet, whose new connection would
     * have another id. */
    uint32_t *known_gen;
};

static size_t pair(const rollnet_memnet *net, int a, int b)
{
    return (size_t)a * (size_t)net->num_nodes + (size_t)b;
}

/* Node a's peer id for node b. */
static int peer_id(const rollnet_memnet *net, int a, int b)
{
    return b + net->num_nodes * (int)net->rebound[pair(net, a, b)];
}

/* The node behind node a's peer id, or -1: *stale when it names a node
 * under an id that a rebinding replaced (what is sent there is lost). */
static int resolve(const rollnet_memnet *net, int a, int id, bool *stale)
{
    *stale = false;
    if (id < 0) {
        return -1;
    }
    /* Without a rebinding (the usual case) the id is the node: no division. */
    int b = id < net->num_nodes ? id : id % net->num_nodes;
    uint32_t epoch = id < net->num_nodes ? 0u : (uint32_t)(id / net->num_nodes);
    uint32_t current = net->rebound[pair(net, a, b)];
    if (b == a || epoch > current) {
        return -1;
    }
    *stale = epoch != current;
    return b;
}

/* "mem:N" with N a node index written in decimal digits only; -1 otherwise. */
static int parse_address(const char *address, int num_nodes)
{
    if (!address || strncmp(address, "mem:", 4) != 0) {
        return -1;
    }
    const char *p = address + 4;
    if (*p == '\0') {
        return -1;
    }
    long v = 0;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }
        v = v * 10 + (*p - '0');
        if (v >= num_nodes) {
            return -1;
        }
    }
    return (int)v;
}

static bool inbox_push(rn_memnet_node *dst, rollnet_transport_event_type type, int from,
                       rollnet_channel channel, uint32_t gen, const void *data, size_t size)
{
    /* Messages count what waits; the physical bound (the held event included)
     * is what keeps the held event's data from being overwritten. */
    uint32_t waiting = dst->count - (dst->holding ? 1u : 0u);
    if (dst->count >= RN_MEMNET_INBOX_SLOTS ||
        (type == ROLLNET_TRANSPORT_RECEIVE &&
         waiting >= RN_MEMNET_INBOX_SLOTS - RN_MEMNET_CONTROL_RESERVE)) {
        return false;
    }
    uint32_t slot = (dst->head + dst->count) % RN_MEMNET_INBOX_SLOTS;
    rn_memnet_event *e = &dst->events[slot];
    e->type = (uint8_t)type;
    e->channel = (uint8_t)channel;
    e->peer = from;
    e->gen = gen;
    e->size = (uint32_t)size;
    e->busy_ms = 0;
    if (size > 0) {
        memcpy(dst->data + (size_t)slot * RN_MEMNET_MAX_MESSAGE, data, size);
    }
    dst->count++;
    return true;
}

static void inbox_pop(rn_memnet_node *n)
{
    n->head = (n->head + 1) % RN_MEMNET_INBOX_SLOTS;
    n->count--;
}

static rollnet_error memnet_check_address(void *self, const char *address, char *why,
                                          size_t cap)
{
    rn_memnet_node *a = self;
    int b = parse_address(address, a->net->num_nodes);
    const char *reason = b < 0 ? "is not mem:N with N a node of this memnet"
                         : b == a->index ? "is this node itself"
                                         : NULL;
    if (!reason) {
        return ROLLNET_ERR_OK;
    }
    if (why && cap > 0) {
        snprintf(why, cap, "%s", reason);
    }
    return ROLLNET_ERR_BAD_ADDRESS;
}

static rollnet_error memnet_connect(void *self, const char *address, uint64_t now_ms,
                                    int *peer_out)
{
    (void)now_ms;
    rn_memnet_node *a = self;
    rollnet_memnet *net = a->net;
    if (!peer_out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *peer_out = -1;
    int b = parse_address(address, net->num_nodes);
    if (b < 0 || b == a->index) {
        return ROLLNET_ERR_BAD_ADDRESS;
    }
    size_t ab = pair(net, a->index, b);
    size_t ba = pair(net, b, a->index);
    if (net->linked[ab]) {
        /* already connected (possibly by the other side): nothing new to announce */
        *peer_out = peer_id(net, a->index, b);
        return ROLLNET_ERR_OK;
    }
    rn_memnet_node *nb = &net->nodes[b];
    if (a->count >= RN_MEMNET_INBOX_SLOTS || nb->count >= RN_MEMNET_INBOX_SLOTS) {
        return ROLLNET_ERR_TRANSPORT; /* no room to announce the connection */
    }
    uint32_t gen = net->link_gen[ab] + 1;
    net->link_gen[ab] = gen;
    net->link_gen[ba] = gen;
    net->linked[ab] = true;
    net->linked[ba] = true;
    net->known_gen[ab] = gen;
    inbox_push(a, ROLLNET_TRANSPORT_CONNECTED, b, ROLLNET_CHANNEL_RELIABLE, gen, NULL, 0);
    inbox_push(nb, ROLLNET_TRANSPORT_CONNECTED, a->index, ROLLNET_CHANNEL_RELIABLE, gen, NULL, 0);
    *peer_out = peer_id(net, a->index, b);
    return ROLLNET_ERR_OK;
}

static rollnet_error memnet_send(void *self, int peer, rollnet_channel channel,
                                 const void *data, size_t size, uint64_t now_ms)
{
    (void)now_ms;
    rn_memnet_node *a = self;
    rollnet_memnet *net = a->net;
    if (channel != ROLLNET_CHANNEL_RELIABLE && channel != ROLLNET_CHANNEL_UNRELIABLE) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (size > RN_MEMNET_MAX_MESSAGE || (size > 0 && !data)) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    bool stale;
    peer = resolve(net, a->index, peer, &stale);
    if (peer < 0 || !net->linked[pair(net, a->index, peer)]) {
        return ROLLNET_ERR_UNKNOWN_PEER;
    }
    size_t ab = pair(net, a->index, peer);
    if (stale) {
        net->nodes[peer].counters.lost_cut++;
        return ROLLNET_ERR_OK; /* to an address that no longer leads there */
    }
    rn_memnet_node *dst = &net->nodes[peer];
    if (a->cut || dst->cut || (net->link_cut[ab] & (1u << channel))) {
        dst->counters.lost_cut++;
        return ROLLNET_ERR_OK; /* lost on the way, as on a real network */
    }
    if (!inbox_push(dst, ROLLNET_TRANSPORT_RECEIVE, a->index, channel, net->link_gen[ab], data,
                    size)) {
        dst->counters.dropped_full++;
        /* An unreliable message is lost as on a congested link; a reliable
         * one must not vanish unannounced. */
        return channel == ROLLNET_CHANNEL_RELIABLE ? ROLLNET_ERR_TRANSPORT : ROLLNET_ERR_OK;
    }
    return ROLLNET_ERR_OK;
}

static rollnet_error memnet_receive(void *self, uint64_t now_ms, rollnet_transport_event *out)
{
    (void)now_ms;
    rn_memnet_node *n = self;
    rollnet_memnet *net = n->net;
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    out->type = ROLLNET_TRANSPORT_NONE;
    if (n->holding) {
        inbox_pop(n);
        n->holding = false;
    }
    while (n->count > 0) {
        const rn_memnet_event *e = &n->events[n->head];
        if (e->gen <= net->closed_gen[pair(net, n->index, e->peer)]) {
            inbox_pop(n); /* sent over a link this node has since closed */
            continue;
        }
        out->type = (rollnet_transport_event_type)e->type;
        out->peer = peer_id(net, n->index, e->peer);
        if (e->type == ROLLNET_TRANSPORT_CONNECTED) {
            net->known_gen[pair(net, n->index, e->peer)] = e->gen;
        }
        out->channel = (rollnet_channel)e->channel;
        out->data = e->type == ROLLNET_TRANSPORT_RECEIVE
                        ? n->data + (size_t)n->head * RN_MEMNET_MAX_MESSAGE
                        : NULL;
        out->size = e->type == ROLLNET_TRANSPORT_RECEIVE ? e->size : 0;
        out->busy_ms = e->busy_ms;
        n->holding = true;
        n->counters.delivered++;
        return ROLLNET_ERR_OK;
    }
    return ROLLNET_ERR_OK;
}

static void memnet_disconnect(void *self, int peer)
{
    rn_memnet_node *a = self;
    rollnet_memnet *net = a->net;
    bool stale;
    peer = resolve(net, a->index, peer, &stale);
    if (peer < 0 || stale) {
        return; /* closing an id a rebinding replaced closes nothing */
    }
    size_t ab = pair(net, a->index, peer);
    size_t ba = pair(net, peer, a->index);
    if (!net->linked[ab] || net->known_gen[ab] != net->link_gen[ab]) {
        return;
    }
    net->linked[ab] = false;
    net->linked[ba] = false;
    net->closed_gen[ab] = net->link_gen[ab];
    if (!inbox_push(&net->nodes[peer], ROLLNET_TRANSPORT_DISCONNECTED, a->index,
                    ROLLNET_CHANNEL_RELIABLE, net->link_gen[ab], NULL, 0)) {
        net->nodes[peer].counters.dropped_full++;
    }
}

static void memnet_set_timeout(void *self, int peer, uint32_t timeout_ms)
{
    /* No timeouts in the memnet: a silent peer stays connected until disconnected. */
    (void)self;
    (void)peer;
    (void)timeout_ms;
}

static rollnet_error memnet_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    rn_memnet_node *a = self;
    rollnet_memnet *net = a->net;
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    bool stale;
    peer = resolve(net, a->index, peer, &stale);
    if (peer < 0 || stale || !net->linked[pair(net, a->index, peer)]) {
        return ROLLNET_ERR_UNKNOWN_PEER;
    }
    /* Called every poll for every live peer: no formatting library here.
     * Peers are node indices (below RN_MEMNET_MAX_NODES, two digits). */
    out->rtt_ms = 0;
    out->rtt_variance_ms = 0;
    out->send_queue = 0;
    char *addr = out->address;
    memcpy(addr, "mem:", 4);
    int n = 4;
    if (peer >= 10) {
        addr[n++] = (char)('0' + peer / 10);
    }
    addr[n++] = (char)('0' + peer % 10);
    addr[n] = '\0';
    return ROLLNET_ERR_OK;
}

static void memnet_node_destroy(void *self)
{
    (void)self; /* the memnet owns its nodes */
}

static const rollnet_transport_vtable memnet_vtable = {
    .connect = memnet_connect,
    .send = memnet_send,
    .receive = memnet_receive,
    .disconnect = memnet_disconnect,
    .set_timeout = memnet_set_timeout,
    .peer_info = memnet_peer_info,
    .destroy = memnet_node_destroy,
    .check_address = memnet_check_address,
};

rollnet_memnet *rollnet_memnet_create(int num_nodes, const rollnet_allocator *allocator)
{
    if (num_nodes <= 0 || num_nodes > RN_MEMNET_MAX_NODES) {
        return NULL;
    }
    rollnet_allocator alloc;
    rn_allocator_resolve(allocator, &alloc);
    rollnet_memnet *net = rn_calloc(&alloc, 1, sizeof *net);
    if (!net) {
        return NULL;
    }
    net->alloc = alloc;
    net->num_nodes = num_nodes;
    size_t pairs = (size_t)num_nodes * (size_t)num_nodes;
    net->nodes = rn_calloc(&alloc, (size_t)num_nodes, sizeof *net->nodes);
    net->linked = rn_calloc(&alloc, pairs, sizeof *net->linked);
    net->link_gen = rn_calloc(&alloc, pairs, sizeof *net->link_gen);
    net->closed_gen = rn_calloc(&alloc, pairs, sizeof *net->closed_gen);
    net->link_cut = rn_calloc(&alloc, pairs, sizeof *net->link_cut);
    net->rebound = rn_calloc(&alloc, pairs, sizeof *net->rebound);
    net->known_gen = rn_calloc(&alloc, pairs, sizeof *net->known_gen);
    if (!net->nodes || !net->linked || !net->link_gen || !net->closed_gen || !net->link_cut ||
        !net->rebound || !net->known_gen) {
        rollnet_memnet_destroy(net);
        return NULL;
    }
    for (int i = 0; i < num_nodes; i++) {
        rn_memnet_node *n = &net->nodes[i];
        n->net = net;
        n->index = i;
        n->events = rn_calloc(&alloc, RN_MEMNET_INBOX_SLOTS, sizeof *n->events);
        n->data = rn_calloc(&alloc, RN_MEMNET_INBOX_SLOTS, RN_MEMNET_MAX_MESSAGE);
        if (!n->events || !n->data) {
            rollnet_memnet_destroy(net);
            return NULL;
        }
    }
    return net;
}

void rollnet_memnet_destroy(rollnet_memnet *net)
{
    if (!net) {
        return;
    }
    rollnet_allocator alloc = net->alloc;
    if (net->nodes) {
        for (int i = 0; i < net->num_nodes; i++) {
            rn_free(&alloc, net->nodes[i].events);
            rn_free(&alloc, net->nodes[i].data);
        }
    }
    rn_free(&alloc, net->nodes);
    rn_free(&alloc, net->linked);
    rn_free(&alloc, net->link_gen);
    rn_free(&alloc, net->closed_gen);
    rn_free(&alloc, net->link_cut);
    rn_free(&alloc, net->rebound);
    rn_free(&alloc, net->known_gen);
    rn_free(&alloc, net);
}

rollnet_transport rollnet_memnet_transport(rollnet_memnet *net, int node)
{
    rollnet_transport t = {0};
    if (net && node >= 0 && node < net->num_nodes) {
        t.vtable = &memnet_vtable;
        t.self = &net->nodes[node];
    }
    return t;
}

void rollnet_memnet_set_cut(rollnet_memnet *net, int node, bool cut)
{
    if (net && node >= 0 && node < net->num_nodes) {
        net->nodes[node].cut = cut;
    }
}

void rollnet_memnet_set_link_cut(rollnet_memnet *net, int from, int to, uint32_t channels)
{
    if (net && from >= 0 && from < net->num_nodes && to >= 0 && to < net->num_nodes) {
        net->link_cut[pair(net, from, to)] = channels;
    }
}

void rollnet_memnet_send_busy(rollnet_memnet *net, int node, uint32_t busy_ms)
{
    if (!net || node < 0 || node >= net->num_nodes) {
        return;
    }
    rn_memnet_node *a = &net->nodes[node];
    for (int b = 0; b < net->num_nodes; b++) {
        size_t ab = pair(net, node, b);
        if (b == node || !net->linked[ab]) {
            continue;
        }
        rn_memnet_node *dst = &net->nodes[b];
        if (a->cut || dst->cut || net->link_cut[ab] != 0) {
            dst->counters.lost_cut++;
            continue;
        }
        /* Counted as a message: a full inbox loses it, as a datagram. */
        uint32_t waiting = dst->count - (dst->holding ? 1u : 0u);
        if (waiting >= RN_MEMNET_INBOX_SLOTS - RN_MEMNET_CONTROL_RESERVE ||
            !inbox_push(dst, ROLLNET_TRANSPORT_PEER_BUSY, node, ROLLNET_CHANNEL_UNRELIABLE,
                        net->link_gen[ab], NULL, 0)) {
            dst->counters.dropped_full++;
            continue;
        }
        dst->events[(dst->head + dst->count - 1) % RN_MEMNET_INBOX_SLOTS].busy_ms = busy_ms;
    }
}

void rollnet_memnet_rebind(rollnet_memnet *net, int node, int peer)
{
    if (!net || node < 0 || node >= net->num_nodes || peer < 0 || peer >= net->num_nodes ||
        node == peer) {
        return;
    }
    size_t np = pair(net, node, peer);
    if (peer_id(net, node, peer) > INT32_MAX - net->num_nodes) {
        return; /* ids would overflow: keep the current one */
    }
    net->rebound[np]++;
    if (net->linked[np]) {
        /* The peer's traffic now comes from a new id: a new connection there. */
        if (!inbox_push(&net->nodes[node], ROLLNET_TRANSPORT_CONNECTED, peer,
                        ROLLNET_CHANNEL_RELIABLE, net->link_gen[np], NULL, 0)) {
            net->nodes[node].counters.dropped_full++;
        }
    }
}

bool rn_memnet_counters_get(const rollnet_memnet *net, int node, rn_memnet_counters *out)
{
    if (!net || !out || node < 0 || node >= net->num_nodes) {
        return false;
    }
    const rn_memnet_node *n = &net->nodes[node];
    *out = n->counters;
    out->queued = n->count - (n->holding ? 1u : 0u);
    return true;
}
