/* The joining tests' fixture: three memnet nodes of a two-player game,
 * node 0 a joiner whose transport can be made deaf (its connects fail, as a
 * host that has not started yet), nodes 1 and 2 hosts or second joiners,
 * driven by a virtual clock. Included by test_p2p_join.c and
 * test_p2p_join_paths.c. */
#ifndef JOIN_FIXTURE_H
#define JOIN_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

/* A memnet transport whose connect fails while `deaf` is set, as a host
 * that has not started yet (its port does not answer). */
typedef struct deaf_tp {
    rollnet_transport inner;
    rollnet_transport_vtable vt;
    bool deaf;
    int connects;
} deaf_tp;

static inline rollnet_error deaf_connect(void *self, const char *address, uint64_t now_ms, int *peer)
{
    deaf_tp *d = self;
    d->connects++;
    if (d->deaf) {
        *peer = -1;
        return ROLLNET_ERR_TRANSPORT;
    }
    return d->inner.vtable->connect(d->inner.self, address, now_ms, peer);
}

static inline rollnet_error deaf_send(void *self, int peer, rollnet_channel ch, const void *data,
                               size_t size, uint64_t now_ms)
{
    deaf_tp *d = self;
    return d->inner.vtable->send(d->inner.self, peer, ch, data, size, now_ms);
}

static inline rollnet_error deaf_receive(void *self, uint64_t now_ms, rollnet_transport_event *out)
{
    deaf_tp *d = self;
    return d->inner.vtable->receive(d->inner.self, now_ms, out);
}

static inline void deaf_disconnect(void *self, int peer)
{
    deaf_tp *d = self;
    d->inner.vtable->disconnect(d->inner.self, peer);
}

static inline rollnet_transport deaf_wrap(deaf_tp *d, rollnet_transport inner)
{
    memset(d, 0, sizeof(*d));
    d->inner = inner;
    d->deaf = true;
    d->vt.connect = deaf_connect;
    d->vt.send = deaf_send;
    d->vt.receive = deaf_receive;
    d->vt.disconnect = deaf_disconnect;
    return (rollnet_transport){.vtable = &d->vt, .self = d};
}

typedef struct joinfx {
    rollnet_memnet *net;
    harness_clock clock;
    rollnet_session *s[3];
    tg_game g[3];
    harness_peer hp[3];
    deaf_tp deaf;
    rollnet_error hard_error[3]; /* the first result that was neither OK nor a skip */
} joinfx;

/* Node i of a two-player game: node 0 joins player 1's host at mem:1 (its
 * transport can be made deaf); nodes 1 and 2 host player 1, waiting for
 * player 0 (node 2 exists only to be a second joiner's target or host). */
static inline void open_node(joinfx *x, int i, uint32_t join_timeout_ms, const char *host)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    bool joiner = host != NULL;
    d.players[joiner ? 0 : 1].kind = ROLLNET_PLAYER_LOCAL;
    d.players[joiner ? 1 : 0].kind = ROLLNET_PLAYER_REMOTE;
    d.players[1].address = host;
    d.join_timeout_ms = join_timeout_ms;
    d.nonce = 0x700u + (uint64_t)i;
    d.transport = rollnet_memnet_transport(x->net, i);
    if (i == 0) {
        d.transport = deaf_wrap(&x->deaf, d.transport);
    }
    assert_int_equal(rollnet_session_create(&d, &x->s[i]), ROLLNET_ERR_OK);
    assert_true(tg_init(&x->g[i], 3, 2, 1, 0, 0));
    harness_peer_init(&x->hp[i], x->s[i], &x->g[i], &d, 40 + (uint64_t)i);
}

static inline void joinfx_init(joinfx *x)
{
    memset(x, 0, sizeof(*x));
    x->net = rollnet_memnet_create(3, NULL);
    assert_non_null(x->net);
    harness_clock_init(&x->clock, 1000, 60);
}

static inline void joinfx_free(joinfx *x)
{
    for (int i = 0; i < 3; i++) {
        rollnet_session_destroy(x->s[i]);
    }
    rollnet_memnet_destroy(x->net);
}

/* Tick the nodes in `mask` once, then the clock. Fails on a hard error. */
static inline void tick(joinfx *x, uint32_t mask)
{
    uint64_t now = harness_clock_now(&x->clock);
    for (int i = 0; i < 3; i++) {
        if ((mask & (1u << i)) && x->s[i]) {
            rollnet_error err = harness_tick(&x->hp[i], now);
            if (err != ROLLNET_ERR_OK && !harness_is_skip(err) && !x->hard_error[i]) {
                x->hard_error[i] = err;
            }
        }
    }
    harness_clock_tick(&x->clock);
}

static inline bool running(const joinfx *x, int i)
{
    return x->hp[i].event_counts[ROLLNET_EVENT_RUNNING] > 0;
}

#endif
