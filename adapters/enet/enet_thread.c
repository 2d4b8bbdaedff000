/*
 * The ENet transport's optional service thread (rollnet_enet_desc::
 * service_thread). Once the host is created, every ENet call on it, its
 * peers and its packets happens on this thread: it services ENet
 * continuously (acknowledgements, pings, resends, timeouts), sends what the
 * game thread queued and receives into a bounded queue that the game thread
 * reads. While the game thread does not call receive for
 * RN_ENET_BUSY_AFTER_MS, it tells every connected peer so, every
 * RN_ENET_BUSY_EVERY_MS, on the busy channel (RN_ENET_BUSY_CHANNEL), and
 * their transports report ROLLNET_TRANSPORT_PEER_BUSY.
 *
 * The hand-over, and the only state the two threads share, is struct
 * rn_enet_thread's part under `mu`:
 *   tx   commands (send, connect, disconnect, set_timeout), game -> service.
 *        The game thread writes slot tx_head and then advances tx_head; the
 *        service thread reads slots [tx_tail, tx_head) without the lock
 *        (the game thread never writes them) and then advances tx_tail.
 *   rx   transport events, service -> game. The service thread writes slot
 *        rx_head and then advances rx_head; the game thread reads slot
 *        rx_tail and keeps it (its data points into the slot's ENet packet)
 *        until its next receive, which advances rx_tail. The service thread
 *        destroys the packets of slots before rx_tail, never the game thread.
 *   pub  what the game thread may ask of a peer (state, RTT, send queue),
 *        copied from ENet by the service thread after each service.
 *   polls, stats, the connect answer, stop.
 * Everything else in struct rn_enet (the host, the half-open table, the
 * counters) is the service thread's alone; the table of resolved addresses
 * and `closed` are the game thread's alone.
 *
 * Full queues. tx: send returns ROLLNET_ERR_TRANSPORT (the session logs a
 * reliable message it could not send as an ERROR: never silently lost);
 * RN_ENET_TX_RESERVE slots are kept for connect, disconnect and set_timeout.
 * rx: unreliable messages are dropped (and counted) once RN_ENET_RX_UNRELIABLE
 * events wait; everything else (reliable messages, connections) waits in
 * ENet's own queue, in order, until the game thread makes room.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "enet_internal.h"
#include "rn_alloc.h"

#define RN_ENET_TX_SLOTS 1024u
#define RN_ENET_TX_RESERVE 64u
#define RN_ENET_TX_INLINE 1200u /* larger messages get a buffer of their own */
#define RN_ENET_RX_SLOTS 1024u
#define RN_ENET_RX_UNRELIABLE 768u
#define RN_ENET_SERVICE_WAIT_MS 1u
#define RN_ENET_BUSY_AFTER_MS 300u
#define RN_ENET_BUSY_EVERY_MS 250u

_Thread_local rn_enet *rn_enet_servicing;

typedef enum rn_cmd_type { RN_CMD_SEND, RN_CMD_CONNECT, RN_CMD_DISCONNECT, RN_CMD_TIMEOUT } rn_cmd_type;

typedef struct rn_cmd {
    rn_cmd_type type;
    int peer;
    rollnet_channel channel;
    uint32_t timeout_ms;
    uint32_t seq;          /* CONNECT: the answer's number */
    bool resolved;         /* CONNECT: addr holds it; else text is resolved here */
    ENetAddress addr;
    char text[264];
    size_t size;
    uint8_t *big;          /* SEND over RN_ENET_TX_INLINE bytes: from the allocator */
    uint8_t bytes[RN_ENET_TX_INLINE];
} rn_cmd;

typedef struct rn_rx {
    rollnet_transport_event ev;
    ENetPacket *packet; /* RECEIVE: owns ev.data */
} rn_rx;

typedef struct rn_pub {
    bool known, closing, connected;
    rollnet_transport_peer_info info;
} rn_pub;

struct rn_enet_thread {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t answered; /* a connect was answered */
    pthread_cond_t arrived;  /* an event was queued */
    size_t slots;
    size_t max_packet;
    /* Under mu. */
    bool stop;
    uint64_t polls;
    uint32_t tx_head, tx_tail;
    uint32_t rx_head, rx_tail;
    bool rx_holding;
    uint32_t connect_seq, answer_seq;
    int answer_peer;
    rollnet_error answer_err;
    rollnet_enet_stats stats; /* the service thread's counters, as last published */
    uint64_t tx_full;         /* send_queue_full, counted by the game thread */
    rn_pub *pub;
    rn_cmd *tx;
    rn_rx *rx;
    /* The game thread's alone. */
    bool *closed; /* disconnect was called; until the slot connects again */
    /* The service thread's alone. */
    uint32_t rx_freed; /* packets of slots before it are destroyed */
};

static uint64_t rn_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the service thread ------------------------------------------------- */

static void rn_svc_publish_peer(rn_enet *t, size_t i);

static void rn_svc_run_command(rn_enet *t, rn_cmd *c)
{
    rn_enet_thread *th = t->th;
    switch (c->type) {
    case RN_CMD_SEND:
        /* Errors here concern a peer that went away since send checked it:
         * its DISCONNECTED event tells the session. */
        (void)rn_enet_send_now(t, c->peer, c->channel, c->big ? c->big : c->bytes, c->size);
        if (c->big) {
            rn_free(&t->allocator, c->big);
            c->big = NULL;
        }
        break;
    case RN_CMD_CONNECT: {
        ENetAddress addr = c->addr;
        const char *why;
        int peer = -1;
        rollnet_error err = ROLLNET_ERR_OK;
        if (!c->resolved && rn_enet_parse_address(c->text, &addr, &why) != 0) {
            err = ROLLNET_ERR_BAD_ADDRESS;
        } else {
            err = rn_enet_connect_addr(t, &addr, &peer);
        }
        pthread_mutex_lock(&th->mu);
        if (err == ROLLNET_ERR_OK) {
            th->pub[peer].known = true;
            th->pub[peer].closing = false;
            th->pub[peer].connected = false;
        }
        th->answer_seq = c->seq;
        th->answer_peer = peer;
        th->answer_err = err;
        pthread_cond_broadcast(&th->answered);
        pthread_mutex_unlock(&th->mu);
        break;
    }
    case RN_CMD_DISCONNECT:
        rn_enet_disconnect_now(t, c->peer);
        break;
    case RN_CMD_TIMEOUT:
        rn_enet_set_timeout_now(t, c->peer, c->timeout_ms);
        break;
    }
}

/* Carry out what the game thread queued; true when there was something. */
static bool rn_svc_commands(rn_enet *t)
{
    rn_enet_thread *th = t->th;
    pthread_mutex_lock(&th->mu);
    uint32_t from = th->tx_tail, to = th->tx_head;
    pthread_mutex_unlock(&th->mu);
    for (uint32_t i = from; i != to; i++) {
        rn_svc_run_command(t, &th->tx[i % RN_ENET_TX_SLOTS]);
    }
    if (from == to) {
        return false;
    }
    pthread_mutex_lock(&th->mu);
    /* In the same step, so that peer_info never misses a message between
     * the queue and ENet's. */
    for (size_t i = 0; i < th->slots; i++) {
        rn_svc_publish_peer(t, i);
    }
    th->tx_tail = to;
    pthread_mutex_unlock(&th->mu);
    enet_host_flush(t->host);
    return true;
}

/* The game thread has not polled for busy_ms: every connected peer hears it. */
static void rn_svc_send_busy(rn_enet *t, uint64_t busy_ms)
{
    uint8_t msg[RN_ENET_BUSY_SIZE];
    rn_enet_busy_encode(msg, busy_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)busy_ms);
    for (size_t i = 0; i < t->host->peerCount; i++) {
        ENetPeer *p = &t->host->peers[i];
        if (p->state != ENET_PEER_STATE_CONNECTED) {
            continue;
        }
        ENetPacket *packet = enet_packet_create(msg, sizeof(msg), ENET_PACKET_FLAG_UNSEQUENCED);
        if (packet && enet_peer_send(p, RN_ENET_BUSY_CHANNEL, packet) != 0 &&
            packet->referenceCount == 0) {
            enet_packet_destroy(packet);
        }
    }
    enet_host_flush(t->host);
}

/* One peer as the game thread may see it. Under mu. */
static void rn_svc_publish_peer(rn_enet *t, size_t i)
{
    ENetPeer *p = &t->host->peers[i];
    rn_pub *pub = &t->th->pub[i];
    pub->known = rn_enet_peer_known(p);
    if (!pub->known) {
        pub->closing = pub->connected = false;
        return;
    }
    pub->closing = rn_enet_peer_closing(p);
    pub->connected = p->state == ENET_PEER_STATE_CONNECTED;
    (void)rn_enet_peer_info_now(t, (int)i, &pub->info);
}

static void rn_svc_publish(rn_enet *t)
{
    rn_enet_thread *th = t->th;
    pthread_mutex_lock(&th->mu);
    for (size_t i = 0; i < th->slots; i++) {
        rn_svc_publish_peer(t, i);
    }
    th->stats = t->stats;
    pthread_mutex_unlock(&th->mu);
}

/* Destroy the packets the game thread has read past. */
static void rn_svc_release_read(rn_enet *t)
{
    rn_enet_thread *th = t->th;
    pthread_mutex_lock(&th->mu);
    uint32_t tail = th->rx_tail;
    pthread_mutex_unlock(&th->mu);
    for (; th->rx_freed != tail; th->rx_freed++) {
        rn_rx *r = &th->rx[th->rx_freed % RN_ENET_RX_SLOTS];
        if (r->packet) {
            enet_packet_destroy(r->packet);
            r->packet = NULL;
        }
    }
}

/* ENet's events into the rx queue while it has room. */
static void rn_svc_drain(rn_enet *t)
{
    rn_enet_thread *th = t->th;
    for (;;) {
        pthread_mutex_lock(&th->mu);
        uint32_t waiting = th->rx_head - th->rx_tail;
        pthread_mutex_unlock(&th->mu);
        if (th->rx_head - th->rx_freed >= RN_ENET_RX_SLOTS) {
            return; /* full: the rest waits in ENet, in order */
        }
        ENetEvent ev;
        if (enet_host_check_events(t->host, &ev) <= 0) {
            return;
        }
        rollnet_transport_event out;
        if (!rn_enet_convert(t, &ev, &out)) {
            continue;
        }
        if (out.type == ROLLNET_TRANSPORT_RECEIVE && out.channel == ROLLNET_CHANNEL_UNRELIABLE &&
            waiting >= RN_ENET_RX_UNRELIABLE) {
            enet_packet_destroy(ev.packet);
            t->stats.receive_dropped++;
            continue;
        }
        rn_rx *r = &th->rx[th->rx_head % RN_ENET_RX_SLOTS];
        r->ev = out;
        r->packet = out.type == ROLLNET_TRANSPORT_RECEIVE ? ev.packet : NULL;
        pthread_mutex_lock(&th->mu);
        /* ENet makes a peer CONNECTED as it hands out the event: the game
         * thread must see it so when it reads the event. */
        rn_svc_publish_peer(t, (size_t)out.peer);
        th->rx_head++;
        pthread_cond_broadcast(&th->arrived);
        pthread_mutex_unlock(&th->mu);
    }
}

static bool rn_svc_rx_room(rn_enet *t)
{
    rn_enet_thread *th = t->th;
    return th->rx_head - th->rx_freed < RN_ENET_RX_SLOTS;
}

/* Until a datagram arrives or RN_ENET_SERVICE_WAIT_MS passes. */
static void rn_svc_wait(rn_enet *t, bool room)
{
    if (room) {
        enet_uint32 condition = ENET_SOCKET_WAIT_RECEIVE | ENET_SOCKET_WAIT_INTERRUPT;
        (void)enet_socket_wait(t->host->socket, &condition, RN_ENET_SERVICE_WAIT_MS);
        return;
    }
    struct timespec pause = {0, (long)RN_ENET_SERVICE_WAIT_MS * 1000000L};
    nanosleep(&pause, NULL);
}

static void rn_svc_shutdown(rn_enet *t)
{
    rn_enet_thread *th = t->th;
    /* What the game thread queued last (a goodbye, say) still goes out. */
    rn_svc_commands(t);
    for (uint32_t i = th->rx_freed; i != th->rx_head; i++) {
        rn_rx *r = &th->rx[i % RN_ENET_RX_SLOTS];
        if (r->packet) {
            enet_packet_destroy(r->packet);
            r->packet = NULL;
        }
    }
    rn_enet_close_host(t);
}

static void *rn_svc_main(void *arg)
{
    rn_enet *t = arg;
    rn_enet_thread *th = t->th;
    rn_enet_servicing = t;
    uint64_t seen_polls = 0;
    uint64_t last_poll_ms = rn_mono_ms();
    uint64_t last_busy_ms = 0;
    for (;;) {
        pthread_mutex_lock(&th->mu);
        bool stop = th->stop;
        uint64_t polls = th->polls;
        pthread_mutex_unlock(&th->mu);
        if (stop) {
            break;
        }
        rn_svc_release_read(t);
        rn_svc_commands(t);
        uint64_t now = rn_mono_ms();
        if (polls != seen_polls) {
            seen_polls = polls;
            last_poll_ms = now;
        } else if (now - last_poll_ms >= RN_ENET_BUSY_AFTER_MS &&
                   now - last_busy_ms >= RN_ENET_BUSY_EVERY_MS) {
            last_busy_ms = now;
            rn_svc_send_busy(t, now - last_poll_ms);
        }
        /* One pass without an event: ENet receives, acknowledges, resends
         * and queues events for enet_host_check_events (the intercept finds
         * the adapter through rn_enet_servicing). The events are taken at
         * once, before the next pass: a DISCONNECT that ENet reads later
         * discards what still waits in its queues, so nothing may wait
         * there across a pass, and a full rx queue stops the passes (only
         * what is queued is sent) until the game thread makes room; the
         * peer's reliable messages then wait on its side. A socket error is
         * retried at the next turn; ENet's timeouts surface a dead link. */
        rn_svc_drain(t); /* what a full queue left in ENet's, first */
        bool room = rn_svc_rx_room(t) && enet_list_empty(&t->host->dispatchQueue);
        if (room) {
            (void)enet_host_service(t->host, NULL, 0);
        } else {
            enet_host_flush(t->host);
        }
        rn_enet_drop_half_open(t);
        rn_svc_publish(t);
        rn_svc_drain(t);
        rn_svc_wait(t, room);
    }
    rn_svc_shutdown(t);
    return NULL;
}

/* ---- the game thread's vtable -------------------------------------------- */

/* The next tx slot, or NULL when the queue has no room for this kind of
 * command. Under mu. */
static rn_cmd *rn_tx_slot(rn_enet_thread *th, bool control)
{
    uint32_t used = th->tx_head - th->tx_tail;
    if (used >= RN_ENET_TX_SLOTS || (!control && used >= RN_ENET_TX_SLOTS - RN_ENET_TX_RESERVE)) {
        return NULL;
    }
    rn_cmd *c = &th->tx[th->tx_head % RN_ENET_TX_SLOTS];
    c->big = NULL;
    return c;
}

static bool rn_thread_peer_ok(const rn_enet_thread *th, int peer)
{
    return peer >= 0 && (size_t)peer < th->slots;
}

static rollnet_error rn_thread_send(void *self, int peer, rollnet_channel channel,
                                    const void *data, size_t size, uint64_t now_ms)
{
    (void)now_ms;
    rn_enet *t = self;
    rn_enet_thread *th = t->th;
    if ((data == NULL && size > 0) || size > th->max_packet ||
        (channel != ROLLNET_CHANNEL_RELIABLE && channel != ROLLNET_CHANNEL_UNRELIABLE)) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (!rn_thread_peer_ok(th, peer) || th->closed[peer]) {
        return ROLLNET_ERR_UNKNOWN_PEER;
    }
    uint8_t *big = NULL;
    if (size > RN_ENET_TX_INLINE) {
        big = rn_calloc(&t->allocator, 1, size);
        if (!big) {
            return ROLLNET_ERR_OUT_OF_MEMORY;
        }
        memcpy(big, data, size);
    }
    rollnet_error err = ROLLNET_ERR_OK;
    pthread_mutex_lock(&th->mu);
    const rn_pub *pub = &th->pub[peer];
    rn_cmd *c = NULL;
    if (!pub->known || pub->closing) {
        err = ROLLNET_ERR_UNKNOWN_PEER;
    } else if (!pub->connected || !(c = rn_tx_slot(th, false))) {
        err = ROLLNET_ERR_TRANSPORT; /* still connecting, or the queue is full */
        th->tx_full += c == NULL && pub->connected;
    } else {
        c->type = RN_CMD_SEND;
        c->peer = peer;
        c->channel = channel;
        c->size = size;
        if (big) {
            c->big = big;
            big = NULL;
        } else if (size > 0) {
            memcpy(c->bytes, data, size);
        }
        th->tx_head++;
    }
    pthread_mutex_unlock(&th->mu);
    if (big) {
        rn_free(&t->allocator, big);
    }
    return err;
}

static rollnet_error rn_thread_connect(void *self, const char *address, uint64_t now_ms,
                                       int *peer_out)
{
    (void)now_ms;
    rn_enet *t = self;
    rn_enet_thread *th = t->th;
    if (!peer_out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *peer_out = -1;
    if (!address || strlen(address) >= sizeof(th->tx[0].text)) {
        return ROLLNET_ERR_BAD_ADDRESS;
    }
    /* A name check_address resolved (the session checks every address at
     * creation) or a dotted address; any other name is resolved on the
     * service thread. */
    ENetAddress addr;
    bool resolved = false;
    for (int i = 0; i < t->num_resolved && !resolved; i++) {
        if (strcmp(t->resolved[i].text, address) == 0) {
            addr = t->resolved[i].addr;
            resolved = true;
        }
    }
    pthread_mutex_lock(&th->mu);
    rn_cmd *c = rn_tx_slot(th, true);
    if (!c) {
        pthread_mutex_unlock(&th->mu);
        return ROLLNET_ERR_TRANSPORT;
    }
    c->type = RN_CMD_CONNECT;
    c->seq = ++th->connect_seq;
    c->resolved = resolved;
    if (resolved) {
        c->addr = addr;
    }
    strcpy(c->text, address);
    th->tx_head++;
    uint32_t seq = c->seq;
    /* The service thread answers within one turn (about a millisecond). */
    while (th->answer_seq != seq) {
        pthread_cond_wait(&th->answered, &th->mu);
    }
    rollnet_error err = th->answer_err;
    int peer = th->answer_peer;
    pthread_mutex_unlock(&th->mu);
    if (err == ROLLNET_ERR_OK) {
        th->closed[peer] = false;
        *peer_out = peer;
    }
    return err;
}

static void rn_thread_queue(rn_enet *t, rn_cmd_type type, int peer, uint32_t timeout_ms)
{
    rn_enet_thread *th = t->th;
    if (!rn_thread_peer_ok(th, peer)) {
        return;
    }
    pthread_mutex_lock(&th->mu);
    rn_cmd *c = rn_tx_slot(th, true);
    if (c) {
        c->type = type;
        c->peer = peer;
        c->timeout_ms = timeout_ms;
        th->tx_head++;
    } else {
        th->tx_full++;
    }
    pthread_mutex_unlock(&th->mu);
}

static void rn_thread_disconnect(void *self, int peer)
{
    rn_enet *t = self;
    rn_thread_queue(t, RN_CMD_DISCONNECT, peer, 0);
    if (rn_thread_peer_ok(t->th, peer)) {
        t->th->closed[peer] = true; /* takes nothing more, as ENet does at once */
    }
}

static void rn_thread_set_timeout(void *self, int peer, uint32_t timeout_ms)
{
    rn_thread_queue(self, RN_CMD_TIMEOUT, peer, timeout_ms);
}

static rollnet_error rn_thread_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    rn_enet *t = self;
    rn_enet_thread *th = t->th;
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (!rn_thread_peer_ok(th, peer)) {
        return ROLLNET_ERR_UNKNOWN_PEER;
    }
    rollnet_error err = ROLLNET_ERR_UNKNOWN_PEER;
    pthread_mutex_lock(&th->mu);
    if (th->pub[peer].known) {
        *out = th->pub[peer].info;
        /* Messages still in the queue to the thread wait to be sent too. */
        for (uint32_t i = th->tx_tail; i != th->tx_head; i++) {
            const rn_cmd *c = &th->tx[i % RN_ENET_TX_SLOTS];
            out->send_queue += c->type == RN_CMD_SEND && c->peer == peer;
        }
        err = ROLLNET_ERR_OK;
    }
    pthread_mutex_unlock(&th->mu);
    return err;
}

static rollnet_error rn_thread_receive(void *self, uint64_t now_ms, rollnet_transport_event *out)
{
    (void)now_ms;
    rn_enet *t = self;
    rn_enet_thread *th = t->th;
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&th->mu);
    th->polls++;
    if (th->rx_holding) {
        th->rx_tail++;
        th->rx_holding = false;
    }
    if (th->rx_tail != th->rx_head) {
        *out = th->rx[th->rx_tail % RN_ENET_RX_SLOTS].ev;
        th->rx_holding = true;
    }
    pthread_mutex_unlock(&th->mu);
    if (out->type == ROLLNET_TRANSPORT_CONNECTED && rn_thread_peer_ok(th, out->peer)) {
        th->closed[out->peer] = false;
    }
    return ROLLNET_ERR_OK;
}

/* Sends go out at the service thread's next turn (about a millisecond),
 * together where they were queued together. */
static void rn_thread_flush(void *self, uint64_t now_ms)
{
    (void)self;
    (void)now_ms;
}

static rollnet_error rn_thread_check_address(void *self, const char *address, char *why,
                                             size_t cap)
{
    rn_enet *t = self;
    ENetAddress addr;
    const char *reason = NULL;
    if (rn_enet_resolve(t, address, &addr, &reason) == 0) {
        return ROLLNET_ERR_OK;
    }
    if (why && cap > 0) {
        size_t n = strlen(reason);
        n = n < cap - 1 ? n : cap - 1;
        memcpy(why, reason, n);
        why[n] = '\0';
    }
    return ROLLNET_ERR_BAD_ADDRESS;
}

static void rn_thread_free(rn_enet *t)
{
    rn_enet_thread *th = t->th;
    for (uint32_t i = 0; i < RN_ENET_TX_SLOTS; i++) {
        if (th->tx[i].big) {
            rn_free(&t->allocator, th->tx[i].big);
        }
    }
    pthread_cond_destroy(&th->arrived);
    pthread_cond_destroy(&th->answered);
    pthread_mutex_destroy(&th->mu);
    rn_free(&t->allocator, th->closed);
    rn_free(&t->allocator, th->pub);
    rn_free(&t->allocator, th->rx);
    rn_free(&t->allocator, th->tx);
    rn_free(&t->allocator, th);
    t->th = NULL;
}

static void rn_thread_destroy(void *self)
{
    rn_enet *t = self;
    if (!t) {
        return;
    }
    rn_enet_thread *th = t->th;
    pthread_mutex_lock(&th->mu);
    th->stop = true;
    pthread_mutex_unlock(&th->mu);
    /* The service thread sends what is queued, says goodbye, destroys the host. */
    pthread_join(th->thread, NULL);
    rn_thread_free(t);
    rn_enet_free(t);
}

const rollnet_transport_vtable rn_enet_thread_vtable = {
    .connect = rn_thread_connect,
    .send = rn_thread_send,
    .receive = rn_thread_receive,
    .disconnect = rn_thread_disconnect,
    .set_timeout = rn_thread_set_timeout,
    .peer_info = rn_thread_peer_info,
    .destroy = rn_thread_destroy,
    .flush = rn_thread_flush,
    .check_address = rn_thread_check_address,
};

rollnet_error rn_enet_thread_start(rn_enet *t)
{
    rn_enet_thread *th = rn_calloc(&t->allocator, 1, sizeof(*th));
    if (!th) {
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    t->th = th;
    th->slots = t->host->peerCount;
    th->max_packet = t->host->maximumPacketSize;
    th->tx = rn_calloc(&t->allocator, RN_ENET_TX_SLOTS, sizeof(*th->tx));
    th->rx = rn_calloc(&t->allocator, RN_ENET_RX_SLOTS, sizeof(*th->rx));
    th->pub = rn_calloc(&t->allocator, th->slots, sizeof(*th->pub));
    th->closed = rn_calloc(&t->allocator, th->slots, sizeof(*th->closed));
    bool ok = th->tx && th->rx && th->pub && th->closed;
    pthread_condattr_t ca;
    ok = ok && pthread_condattr_init(&ca) == 0;
    if (ok) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_mutex_init(&th->mu, NULL);
        pthread_cond_init(&th->answered, &ca);
        pthread_cond_init(&th->arrived, &ca);
        pthread_condattr_destroy(&ca);
        if (pthread_create(&th->thread, NULL, rn_svc_main, t) == 0) {
            return ROLLNET_ERR_OK;
        }
        pthread_cond_destroy(&th->arrived);
        pthread_cond_destroy(&th->answered);
        pthread_mutex_destroy(&th->mu);
    }
    rn_free(&t->allocator, th->closed);
    rn_free(&t->allocator, th->pub);
    rn_free(&t->allocator, th->rx);
    rn_free(&t->allocator, th->tx);
    rn_free(&t->allocator, th);
    t->th = NULL;
    return ok ? ROLLNET_ERR_TRANSPORT : ROLLNET_ERR_OUT_OF_MEMORY;
}

int rn_enet_thread_wait(rn_enet *t, uint32_t timeout_ms)
{
    rn_enet_thread *th = t->th;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(timeout_ms / 1000u);
    until.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&th->mu);
    int rc = 0;
    for (;;) {
        uint32_t next = th->rx_tail + (th->rx_holding ? 1u : 0u);
        if (next != th->rx_head) {
            rc = 1;
            break;
        }
        int w = pthread_cond_timedwait(&th->arrived, &th->mu, &until);
        if (w != 0) {
            break; /* timed out (or failed: treated as one) */
        }
    }
    pthread_mutex_unlock(&th->mu);
    return rc;
}

void rn_enet_thread_stats(rn_enet *t, rollnet_enet_stats *out)
{
    rn_enet_thread *th = t->th;
    pthread_mutex_lock(&th->mu);
    *out = th->stats;
    out->send_queue_full = th->tx_full;
    pthread_mutex_unlock(&th->mu);
}
