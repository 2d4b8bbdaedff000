/* The ENet transport's service thread: its loop (commands in, a pass of
 * ENet, events out, busy reports) and its shutdown. The contract of the
 * hand-over is in enet_thread.c. */
#define _POSIX_C_SOURCE 200809L

#include <string.h>
#include <time.h>

#include "enet_thread.h"
#include "rn_alloc.h"

_Thread_local rn_enet *rn_enet_servicing;

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

/* A busy report of a peer whose last queued event is an unread report
 * replaces that one's ms: the session needs the latest only, and reports
 * (every RN_ENET_BUSY_EVERY_MS from each busy peer, or a flood from
 * anyone) must not fill the queue while the game thread does not poll. */
static bool rn_svc_busy_replaced(rn_enet *t, const rollnet_transport_event *out)
{
    rn_enet_thread *th = t->th;
    bool replaced = false;
    pthread_mutex_lock(&th->mu);
    rn_pub *pub = &th->pub[out->peer];
    uint32_t first_unread = th->rx_tail + (th->rx_holding ? 1u : 0u);
    if (pub->busy_last && pub->busy_rx - first_unread < th->rx_head - first_unread) {
        th->rx[pub->busy_rx % RN_ENET_RX_SLOTS].ev.busy_ms = out->busy_ms;
        replaced = true;
    }
    pthread_mutex_unlock(&th->mu);
    return replaced;
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
        if (out.type == ROLLNET_TRANSPORT_PEER_BUSY && rn_svc_busy_replaced(t, &out)) {
            continue;
        }
        rn_rx *r = &th->rx[th->rx_head % RN_ENET_RX_SLOTS];
        r->ev = out;
        r->packet = out.type == ROLLNET_TRANSPORT_RECEIVE ? ev.packet : NULL;
        pthread_mutex_lock(&th->mu);
        /* ENet makes a peer CONNECTED as it hands out the event: the game
         * thread must see it so when it reads the event. */
        rn_svc_publish_peer(t, (size_t)out.peer);
        th->pub[out.peer].busy_last = out.type == ROLLNET_TRANSPORT_PEER_BUSY;
        th->pub[out.peer].busy_rx = th->rx_head;
        th->stats = t->stats; /* counters at least as new as the events read */
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

void *rn_enet_service_main(void *arg)
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

