/*
 * The rollnet transport over ENet. ENet does the networking work: RTT,
 * resends, ordering, fragmentation, per-peer timeouts. This file only maps
 * rollnet's vtable onto it.
 *
 * Errors (rollnet_error, as the vtable documents): BAD_ADDRESS for an address
 * that is not HOST:PORT or whose host does not resolve; UNKNOWN_PEER for a
 * peer id that is not a slot of this host, or whose connection is gone or
 * closing (peer_info still answers for a closing one); INVALID_ARGUMENT for a
 * NULL pointer, a bad channel or a message over ENet's packet limit;
 * OUT_OF_MEMORY when ENet cannot allocate a packet; TRANSPORT when ENet
 * refuses the rest (no free peer slot at connect, a peer still connecting at
 * send, a socket error at receive).
 *
 * Ownership: the adapter state (struct rn_enet) comes from the caller's
 * allocator and owns the ENetHost and, between two receive calls, the one
 * ENetPacket whose bytes the last RECEIVE event points into.
 *
 * Strangers (connections that are not, or not yet, a player's peer) are kept
 * within bounds here (enet_strangers.c) as well as in the session: the host has
 * ROLLNET_ENET_SPARE_PEERS slots beyond max_peers for connections in their
 * handshake, one address holds at most max_peers_per_address connections
 * (ENet's duplicatePeers, counted by an intercept), and an incoming
 * connection whose ENet handshake does not complete within
 * ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS is dropped instead of waiting for ENet's
 * own timeout (up to 30 s).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <enet/enet.h>

#include "enet_internal.h"
#include "rn_alloc.h"
#include "rollnet/rollnet_enet.h"

/* rollnet channel -> ENet packet flags. The unreliable channel is
 * unsequenced: ENet's plain unreliable mode drops a packet that arrives after
 * a newer one, while rollnet's input and ack messages are redundant and
 * order-free, so a late one is still worth delivering. Reliable messages need
 * ENet's ordering. */
#define RN_ENET_RELIABLE_FLAGS ENET_PACKET_FLAG_RELIABLE
#define RN_ENET_UNRELIABLE_FLAGS ENET_PACKET_FLAG_UNSEQUENCED

/* ENet asks for enet_initialize() before use and enet_deinitialize() after.
 * Several transports (and threads) share one process, so the adapter counts
 * its users: the first create initialises, the last destroy deinitialises.
 * This is process-wide state, which is why it lives in adapters/ and not in
 * core/; the spin lock only guards the rare create/destroy. */
static atomic_flag rn_enet_init_lock = ATOMIC_FLAG_INIT;
static int rn_enet_init_count;

static void rn_enet_lock(void)
{
    while (atomic_flag_test_and_set_explicit(&rn_enet_init_lock, memory_order_acquire)) {
    }
}

static void rn_enet_unlock(void)
{
    atomic_flag_clear_explicit(&rn_enet_init_lock, memory_order_release);
}

static int rn_enet_acquire(void)
{
    int rc = 0;
    rn_enet_lock();
    if (rn_enet_init_count == 0) {
        rc = enet_initialize();
    }
    if (rc == 0) {
        rn_enet_init_count++;
    }
    rn_enet_unlock();
    return rc;
}

static void rn_enet_release(void)
{
    rn_enet_lock();
    if (rn_enet_init_count > 0 && --rn_enet_init_count == 0) {
        enet_deinitialize();
    }
    rn_enet_unlock();
}


ENetPeer *rn_enet_peer(rn_enet *t, int peer)
{
    if (peer < 0 || (size_t)peer >= t->host->peerCount) {
        return NULL;
    }
    return &t->host->peers[peer];
}

int rn_enet_peer_id(const rn_enet *t, const ENetPeer *p)
{
    return (int)(p - t->host->peers);
}

void rn_enet_apply_timeout(ENetPeer *p, uint32_t timeout_ms)
{
    /* Minimum and maximum equal: the peer is dropped after timeout_ms without
     * an acknowledgement, whatever its RTT. Limit 0 keeps ENet's resend count. */
    enet_peer_timeout(p, 0, timeout_ms, timeout_ms);
}

static void rn_enet_release_held(rn_enet *t)
{
    if (t->held) {
        enet_packet_destroy(t->held);
        t->held = NULL;
    }
}

static rollnet_error rn_enet_connect(void *self, const char *address, uint64_t now_ms,
                                     int *peer_out)
{
    (void)now_ms;
    rn_enet *t = self;
    if (!peer_out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *peer_out = -1;
    ENetAddress addr;
    const char *why;
    if (rn_enet_resolve(t, address, &addr, &why) != 0) {
        return ROLLNET_ERR_BAD_ADDRESS;
    }
    return rn_enet_connect_addr(t, &addr, peer_out);
}

rollnet_error rn_enet_connect_addr(rn_enet *t, const ENetAddress *address, int *peer_out)
{
    ENetAddress addr = *address;
    /* NULL when every peer slot is taken (or ENet could not allocate the
     * channels): nothing tells the two apart. */
    ENetPeer *p = enet_host_connect(t->host, &addr, ROLLNET_ENET_CHANNEL_LIMIT, 0);
    if (!p) {
        return ROLLNET_ERR_TRANSPORT;
    }
    /* Also bounds the connection attempt: an unanswered connect ends in
     * DISCONNECTED after timeout_ms. */
    rn_enet_apply_timeout(p, t->timeout_ms);
    enet_host_flush(t->host);
    *peer_out = rn_enet_peer_id(t, p);
    return ROLLNET_ERR_OK;
}

/* A slot that holds a connection, in any state short of gone. */
bool rn_enet_peer_known(const ENetPeer *p)
{
    return p && p->state != ENET_PEER_STATE_DISCONNECTED && p->state != ENET_PEER_STATE_ZOMBIE;
}

/* A connection being closed (by disconnect, or by the other side): ENet
 * takes nothing more for it. */
bool rn_enet_peer_closing(const ENetPeer *p)
{
    return p->state == ENET_PEER_STATE_DISCONNECT_LATER ||
           p->state == ENET_PEER_STATE_DISCONNECTING ||
           p->state == ENET_PEER_STATE_ACKNOWLEDGING_DISCONNECT;
}

static rollnet_error rn_enet_send(void *self, int peer, rollnet_channel channel,
                                  const void *data, size_t size, uint64_t now_ms)
{
    (void)now_ms;
    return rn_enet_send_now(self, peer, channel, data, size);
}

rollnet_error rn_enet_send_now(rn_enet *t, int peer, rollnet_channel channel, const void *data,
                               size_t size)
{
    if (data == NULL && size > 0) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    ENetPeer *p = rn_enet_peer(t, peer);
    if (!rn_enet_peer_known(p) || rn_enet_peer_closing(p)) {
        return ROLLNET_ERR_UNKNOWN_PEER;
    }
    if (size > t->host->maximumPacketSize) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    enet_uint32 flags;
    switch (channel) {
    case ROLLNET_CHANNEL_RELIABLE:
        flags = RN_ENET_RELIABLE_FLAGS;
        break;
    case ROLLNET_CHANNEL_UNRELIABLE:
        flags = RN_ENET_UNRELIABLE_FLAGS;
        break;
    default:
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    ENetPacket *packet = enet_packet_create(data, size, flags);
    if (!packet) {
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    /* Fails for a peer still connecting, or a command ENet could not allocate. */
    if (enet_peer_send(p, (enet_uint8)channel, packet) != 0) {
        /* ENet takes the packet only on success. */
        if (packet->referenceCount == 0) {
            enet_packet_destroy(packet);
        }
        return ROLLNET_ERR_TRANSPORT;
    }
    /* Queued: flush puts everything sent in one session call into one datagram. */
    return ROLLNET_ERR_OK;
}

static void rn_enet_flush(void *self, uint64_t now_ms)
{
    (void)now_ms;
    rn_enet *t = self;
    enet_host_flush(t->host);
}

bool rn_enet_convert(rn_enet *t, const ENetEvent *ev, rollnet_transport_event *out)
{
    memset(out, 0, sizeof(*out)); /* type NONE */
    out->peer = rn_enet_peer_id(t, ev->peer);
    switch (ev->type) {
    case ENET_EVENT_TYPE_CONNECT:
        if (ev->peer->channelCount < ROLLNET_ENET_CHANNEL_LIMIT) {
            /* Not a rollnet peer: it could not carry every channel. */
            enet_peer_disconnect_now(ev->peer, 0);
            t->stats.refused_channels++;
            return false;
        }
        /* Incoming peers still hold ENet's defaults (minimum != maximum,
         * which this adapter never sets); outgoing ones got theirs at
         * connect, possibly changed by set_timeout since. */
        if (ev->peer->timeoutMinimum != ev->peer->timeoutMaximum) {
            rn_enet_apply_timeout(ev->peer, t->timeout_ms);
        }
        out->type = ROLLNET_TRANSPORT_CONNECTED;
        return true;
    case ENET_EVENT_TYPE_DISCONNECT:
        out->type = ROLLNET_TRANSPORT_DISCONNECTED;
        return true;
    case ENET_EVENT_TYPE_RECEIVE:
        if (ev->channelID == RN_ENET_BUSY_CHANNEL) {
            bool ok = rn_enet_busy_decode(ev->packet->data, ev->packet->dataLength, &out->busy_ms);
            enet_packet_destroy(ev->packet);
            if (!ok) {
                t->stats.busy_malformed++;
                return false;
            }
            out->type = ROLLNET_TRANSPORT_PEER_BUSY;
            return true;
        }
        if (ev->channelID >= ROLLNET_ENET_CHANNEL_LIMIT) {
            enet_packet_destroy(ev->packet);
            return false;
        }
        out->type = ROLLNET_TRANSPORT_RECEIVE;
        out->channel = (rollnet_channel)ev->channelID;
        out->data = ev->packet->data;
        out->size = ev->packet->dataLength;
        return true;
    case ENET_EVENT_TYPE_NONE:
    default:
        return false;
    }
}

static rollnet_error rn_enet_receive(void *self, uint64_t now_ms, rollnet_transport_event *out)
{
    (void)now_ms;
    rn_enet *t = self;
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    t->running = true;
    rn_enet_release_held(t);
    for (;;) {
        memset(out, 0, sizeof(*out)); /* type NONE */
        /* Timeout 0: also sends what is due (resends, pings, acks). A socket
         * error (< 0) ends this round as TRANSPORT; the next call tries
         * again, and ENet's timeouts surface a dead link as DISCONNECTED. */
        int got = enet_host_service(t->host, &t->ev, 0);
        if (got <= 0) {
            rn_enet_drop_half_open(t);
        }
        if (got < 0) {
            return ROLLNET_ERR_TRANSPORT;
        }
        if (got == 0) {
            return ROLLNET_ERR_OK;
        }
        ENetEvent ev = t->ev;
        if (!rn_enet_convert(t, &ev, out)) {
            continue;
        }
        if (out->type == ROLLNET_TRANSPORT_RECEIVE) {
            t->held = ev.packet;
        }
        return ROLLNET_ERR_OK;
    }
}

static void rn_enet_disconnect(void *self, int peer)
{
    rn_enet_disconnect_now(self, peer);
}

void rn_enet_disconnect_now(rn_enet *t, int peer)
{
    ENetPeer *p = rn_enet_peer(t, peer);
    if (!p || p->state == ENET_PEER_STATE_DISCONNECTED) {
        return;
    }
    /* "Later": messages already queued (a last control message, say) still
     * go out, then ENet closes and the other side sees DISCONNECTED. */
    enet_peer_disconnect_later(p, 0);
    enet_host_flush(t->host);
}

static void rn_enet_set_timeout(void *self, int peer, uint32_t timeout_ms)
{
    rn_enet_set_timeout_now(self, peer, timeout_ms);
}

void rn_enet_set_timeout_now(rn_enet *t, int peer, uint32_t timeout_ms)
{
    ENetPeer *p = rn_enet_peer(t, peer);
    if (!p || p->state == ENET_PEER_STATE_DISCONNECTED) {
        return;
    }
    rn_enet_apply_timeout(p, timeout_ms ? timeout_ms : t->timeout_ms);
}

/* Commands carrying message bytes, queued or sent and not yet acknowledged
 * (a fragmented message counts once per fragment). Pings and acks carry no
 * packet and are left out. */
static uint32_t rn_enet_count_data_commands(ENetList *list)
{
    uint32_t n = 0;
    for (ENetListIterator it = enet_list_begin(list); it != enet_list_end(list);
         it = enet_list_next(it)) {
        const ENetOutgoingCommand *cmd = (const ENetOutgoingCommand *)it;
        if (cmd->packet != NULL) {
            n++;
        }
    }
    return n;
}

static char *rn_enet_put_uint(char *at, unsigned v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        *at++ = digits[--n];
    }
    return at;
}

/* "a.b.c.d:port", where the peer's datagrams come from: the socket it also
 * accepts connections on, so a third peer can dial it there. Called every
 * poll for every live peer: no resolver, no formatting library. */
static void rn_enet_format_address(const ENetAddress *a, char out[ROLLNET_ADDRESS_SIZE])
{
    const uint8_t *ip = (const uint8_t *)&a->host; /* network byte order */
    char *at = out;
    for (int i = 0; i < 4; i++) {
        at = rn_enet_put_uint(at, ip[i]);
        *at++ = i < 3 ? '.' : ':';
    }
    at = rn_enet_put_uint(at, a->port);
    *at = '\0';
}

static rollnet_error rn_enet_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    return rn_enet_peer_info_now(self, peer, out);
}

rollnet_error rn_enet_peer_info_now(rn_enet *t, int peer, rollnet_transport_peer_info *out)
{
    ENetPeer *p = rn_enet_peer(t, peer);
    if (!rn_enet_peer_known(p)) {
        return ROLLNET_ERR_UNKNOWN_PEER;
    }
    out->rtt_ms = p->roundTripTime;
    out->rtt_variance_ms = p->roundTripTimeVariance;
    out->send_queue = rn_enet_count_data_commands(&p->outgoingCommands) +
                      rn_enet_count_data_commands(&p->sentReliableCommands);
    rn_enet_format_address(&p->address, out->address);
    return ROLLNET_ERR_OK;
}

void rn_enet_close_host(rn_enet *t)
{
    rn_enet_release_held(t);
    /* Send what is queued, then say goodbye in one unacknowledged datagram
     * per peer, so the others see DISCONNECTED now instead of after their
     * timeout. Best effort: a lost goodbye falls back to that timeout. */
    enet_host_flush(t->host);
    for (size_t i = 0; i < t->host->peerCount; i++) {
        ENetPeer *p = &t->host->peers[i];
        if (p->state != ENET_PEER_STATE_DISCONNECTED) {
            enet_peer_disconnect_now(p, 0);
        }
    }
    enet_host_destroy(t->host);
    t->host = NULL;
}

static void rn_enet_destroy(void *self)
{
    rn_enet *t = self;
    if (!t) {
        return;
    }
    rn_enet_close_host(t);
    rollnet_allocator a = t->allocator;
    rn_free(&a, t);
    rn_enet_release();
}

/* The service thread's transport is gone: free what it leaves. */
void rn_enet_free(rn_enet *t)
{
    rollnet_allocator a = t->allocator;
    rn_free(&a, t);
    rn_enet_release();
}

static const rollnet_transport_vtable rn_enet_vtable = {
    .connect = rn_enet_connect,
    .send = rn_enet_send,
    .receive = rn_enet_receive,
    .disconnect = rn_enet_disconnect,
    .set_timeout = rn_enet_set_timeout,
    .peer_info = rn_enet_peer_info,
    .destroy = rn_enet_destroy,
    .flush = rn_enet_flush,
    .check_address = rn_enet_check_address,
};

rollnet_error rollnet_enet_create(const rollnet_enet_desc *desc, const rollnet_allocator *allocator,
                                  rollnet_transport *out)
{
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof(*out));
    rollnet_enet_desc d = {0};
    if (desc) {
        d = *desc;
    }
    int max_peers = d.max_peers ? d.max_peers : ROLLNET_MAX_PLAYERS;
    if (max_peers < 1 || max_peers > ROLLNET_ENET_MAX_PEERS) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    int per_address = d.max_peers_per_address;
    if (per_address == 0) {
        per_address = max_peers > ROLLNET_ENET_DEFAULT_PEERS_PER_ADDRESS
                          ? max_peers
                          : ROLLNET_ENET_DEFAULT_PEERS_PER_ADDRESS;
    }
    if (per_address < 1) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    size_t slots = (size_t)max_peers + ROLLNET_ENET_SPARE_PEERS;
    ENetAddress bind_addr = {.host = ENET_HOST_ANY, .port = d.port};
    if (d.bind_address && enet_address_set_host_ip(&bind_addr, d.bind_address) != 0) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }

    rollnet_allocator a;
    rn_allocator_resolve(allocator, &a);
    rn_enet *t = rn_calloc(&a, 1, sizeof(*t) + slots * sizeof(t->half_open[0]));
    if (!t) {
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    t->allocator = a;
    t->timeout_ms = d.timeout_ms ? d.timeout_ms : ROLLNET_ENET_DEFAULT_TIMEOUT_MS;

    if (rn_enet_acquire() != 0) {
        rn_free(&a, t);
        return ROLLNET_ERR_TRANSPORT;
    }
    /* Always bound, port 0 included: the port is then known at once
     * (rollnet_enet_port) rather than chosen at the first send. Bandwidth 0 =
     * unlimited: ENet then neither throttles nor shrinks the reliable window. */
    t->host = enet_host_create(&bind_addr, slots, ROLLNET_ENET_CHANNEL_LIMIT, 0, 0);
    if (!t->host) {
        rn_free(&a, t);
        rn_enet_release();
        return ROLLNET_ERR_TRANSPORT;
    }
    t->host->duplicatePeers = (size_t)per_address;
    t->port = t->host->address.port;
    t->host->intercept = rn_enet_intercept;
    if (d.service_thread) {
        /* From here on the host belongs to the service thread. */
        rollnet_error err = rn_enet_thread_start(t);
        if (err != ROLLNET_ERR_OK) {
            enet_host_destroy(t->host);
            rn_free(&a, t);
            rn_enet_release();
            return err;
        }
        out->vtable = &rn_enet_thread_vtable;
        out->self = t;
        return ROLLNET_ERR_OK;
    }
    out->vtable = &rn_enet_vtable;
    out->self = t;
    return ROLLNET_ERR_OK;
}

/* The adapter behind a transport handle, either kind; NULL when it is not one. */
static rn_enet *rn_enet_of(const rollnet_transport *t)
{
    if (!t || !t->self || (t->vtable != &rn_enet_vtable && t->vtable != &rn_enet_thread_vtable)) {
        return NULL;
    }
    return t->self;
}

uint16_t rollnet_enet_port(const rollnet_transport *t)
{
    const rn_enet *e = rn_enet_of(t);
    /* Written at create, never again: readable from any thread. */
    return e ? e->port : 0;
}

int rollnet_enet_wait(rollnet_transport *t, uint32_t timeout_ms)
{
    rn_enet *e = rn_enet_of(t);
    if (!e) {
        return -1;
    }
    if (e->th) {
        return rn_enet_thread_wait(e, timeout_ms);
    }
    if (!enet_list_empty(&e->host->dispatchQueue)) {
        return 1;
    }
    enet_uint32 condition = ENET_SOCKET_WAIT_RECEIVE | ENET_SOCKET_WAIT_INTERRUPT;
    if (enet_socket_wait(e->host->socket, &condition, timeout_ms) != 0) {
        return -1;
    }
    return (condition & ENET_SOCKET_WAIT_RECEIVE) ? 1 : 0;
}

rollnet_error rollnet_enet_stats_get(const rollnet_transport *t, rollnet_enet_stats *out)
{
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof(*out));
    rn_enet *e = rn_enet_of(t);
    if (!e) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (e->th) {
        rn_enet_thread_stats(e, out);
    } else {
        *out = e->stats;
    }
    return ROLLNET_ERR_OK;
}
