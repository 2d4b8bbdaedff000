/* A recorder: an inner transport for the network simulator's tests that
 * notes when each message reaches it, so every schedule is read off a
 * virtual clock, and that can be made to fail (recorder.fail). Header-only,
 * shared by test_netsim.c and test_netsim_errors.c. */
#ifndef NETSIM_RECORDER_H
#define NETSIM_RECORDER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netsim_internal.h"
#include "rollnet/rollnet.h"

#define REC_CAP 40000

typedef struct rec_msg {
    uint64_t at; /* now_ms of the send that reached the recorder */
    int peer;
    rollnet_channel channel;
    uint32_t id; /* first four bytes of the message */
    size_t size;
} rec_msg;

typedef struct recorder {
    rec_msg msgs[REC_CAP];
    size_t count;
    bool destroyed;
    int disconnected_peer;
    uint32_t timeout_peer, timeout_ms;
    rollnet_transport_event pending; /* returned once by receive when type != NONE */
    rollnet_transport_peer_info info;
    uint8_t last_data[RN_NETSIM_MAX_MESSAGE];
    rollnet_error fail; /* when not OK: what send, receive and check_address return */
} recorder;

static inline rollnet_error rec_connect(void *self, const char *address, uint64_t now_ms,
                                        int *peer_out)
{
    (void)self;
    (void)now_ms;
    *peer_out = strcmp(address, "peer:3") == 0 ? 3 : -1;
    return *peer_out >= 0 ? ROLLNET_ERR_OK : ROLLNET_ERR_BAD_ADDRESS;
}

static inline rollnet_error rec_send(void *self, int peer, rollnet_channel channel,
                                     const void *data, size_t size, uint64_t now_ms)
{
    recorder *r = self;
    if (r->fail != ROLLNET_ERR_OK) {
        return r->fail;
    }
    if (r->count == REC_CAP) {
        return ROLLNET_ERR_TRANSPORT;
    }
    rec_msg *m = &r->msgs[r->count++];
    m->at = now_ms;
    m->peer = peer;
    m->channel = channel;
    m->size = size;
    m->id = 0;
    if (size >= 4) {
        memcpy(&m->id, data, 4);
    }
    memcpy(r->last_data, data, size);
    return ROLLNET_ERR_OK;
}

static inline rollnet_error rec_receive(void *self, uint64_t now_ms, rollnet_transport_event *out)
{
    (void)now_ms;
    recorder *r = self;
    if (r->fail != ROLLNET_ERR_OK) {
        out->type = ROLLNET_TRANSPORT_RECEIVE; /* junk a failing receive might leave */
        return r->fail;
    }
    *out = r->pending;
    r->pending.type = ROLLNET_TRANSPORT_NONE;
    return ROLLNET_ERR_OK;
}

static inline void rec_disconnect(void *self, int peer)
{
    ((recorder *)self)->disconnected_peer = peer;
}

static inline void rec_set_timeout(void *self, int peer, uint32_t timeout_ms)
{
    recorder *r = self;
    r->timeout_peer = (uint32_t)peer;
    r->timeout_ms = timeout_ms;
}

static inline rollnet_error rec_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    if (peer != 3) {
        return ROLLNET_ERR_UNKNOWN_PEER;
    }
    *out = ((recorder *)self)->info;
    return ROLLNET_ERR_OK;
}

static inline rollnet_error rec_check_address(void *self, const char *address, char *why,
                                              size_t cap)
{
    (void)self;
    if (strcmp(address, "peer:3") == 0) {
        return ROLLNET_ERR_OK;
    }
    snprintf(why, cap, "is not peer:3");
    return ROLLNET_ERR_BAD_ADDRESS;
}

static inline void rec_destroy(void *self)
{
    ((recorder *)self)->destroyed = true;
}

static const rollnet_transport_vtable rec_vtable = {
    .connect = rec_connect,
    .send = rec_send,
    .receive = rec_receive,
    .disconnect = rec_disconnect,
    .set_timeout = rec_set_timeout,
    .peer_info = rec_peer_info,
    .destroy = rec_destroy,
    .check_address = rec_check_address,
};

static const rollnet_transport_vtable rec_vtable_minimal = {
    .connect = rec_connect,
    .send = rec_send,
    .receive = rec_receive,
    .destroy = rec_destroy,
};

static inline recorder *rec_new(void)
{
    recorder *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->disconnected_peer = -1;
    return r;
}

static inline rollnet_transport sim_over(recorder *r, rollnet_netsim_desc desc)
{
    rollnet_transport inner = {&rec_vtable, r};
    rollnet_transport t;
    assert_int_equal(rollnet_netsim_create(inner, &desc, NULL, &t), ROLLNET_ERR_OK);
    assert_non_null(t.vtable);
    return t;
}

static inline rollnet_error sim_send(rollnet_transport t, int peer, rollnet_channel ch,
                                     uint32_t id, uint64_t now)
{
    return t.vtable->send(t.self, peer, ch, &id, sizeof id, now);
}

/* 1 and *ev filled when an event was ready, 0 when none (receive must succeed). */
static inline int sim_next(rollnet_transport t, uint64_t now, rollnet_transport_event *ev)
{
    memset(ev, 0xAB, sizeof *ev); /* receive must set the type even when nothing is ready */
    assert_int_equal(t.vtable->receive(t.self, now, ev), ROLLNET_ERR_OK);
    return ev->type != ROLLNET_TRANSPORT_NONE;
}

/* The peer id connect gives, or -1 when it fails (the error must say so too). */
static inline int sim_connect(rollnet_transport t, const char *address, uint64_t now)
{
    int peer = 12345;
    rollnet_error err = t.vtable->connect(t.self, address, now, &peer);
    assert_true((err == ROLLNET_ERR_OK) == (peer >= 0));
    assert_true(err == ROLLNET_ERR_OK || peer == -1);
    return peer;
}

static inline void sim_tick(rollnet_transport t, uint64_t now)
{
    rollnet_transport_event ev;
    while (sim_next(t, now, &ev)) {
    }
}

static inline rn_netsim_counters counters_of(rollnet_transport t)
{
    rn_netsim_counters c;
    assert_true(rn_netsim_counters_get(&t, &c));
    return c;
}

#endif
