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

#include <string.h>
#include <time.h>

#include "enet_thread.h"
#include "rn_alloc.h"

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
    t->running = true; /* the game thread's own field */
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
    .check_address = rn_enet_check_address,
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
        if (pthread_create(&th->thread, NULL, rn_enet_service_main, t) == 0) {
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
