/* The send and receive path (core/link.c) over a fake transport that
 * records every call: broadcast reaches live peers only and counts what it
 * sent, the decoder's drops are counted under the right reason, the
 * optional hooks of the vtable may be NULL, and nothing is allocated after
 * init. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core_fixture.h"
#include "counting_alloc.h"
#include "link.h"

#define MAX_CALLS 16
#define PEER_TAG 0x1234

/* ---- A transport that records what it is asked to do ------------------- */

typedef struct sent_msg {
    int peer;
    rollnet_channel ch;
    size_t size;
    uint8_t data[RN_MAX_MESSAGE];
} sent_msg;

typedef struct fake_transport {
    int connect_result;
    rollnet_error connect_err;
    char connect_address[64];
    uint64_t connect_now;
    rollnet_error send_result;
    rollnet_error receive_err;
    rollnet_error info_err;
    int sends;
    sent_msg sent[MAX_CALLS];
    int disconnects;
    int disconnected[MAX_CALLS];
    int timeouts;
    int timeout_peer;
    uint32_t timeout_ms;
    int flushes;
    uint64_t flush_now;
    int destroys;
    rollnet_transport_peer_info info;
    int info_peer;
    bool has_event;
    rollnet_transport_event event;
} fake_transport;

static rollnet_error fake_connect(void *self, const char *address, uint64_t now_ms,
                                  int *peer_out)
{
    fake_transport *f = self;
    snprintf(f->connect_address, sizeof(f->connect_address), "%s", address);
    f->connect_now = now_ms;
    *peer_out = f->connect_err == ROLLNET_ERR_OK ? f->connect_result : -1;
    return f->connect_err;
}

static rollnet_error fake_send(void *self, int peer, rollnet_channel ch, const void *data,
                               size_t size, uint64_t now_ms)
{
    (void)now_ms;
    fake_transport *f = self;
    if (f->sends < MAX_CALLS) {
        sent_msg *m = &f->sent[f->sends];
        m->peer = peer;
        m->ch = ch;
        m->size = size;
        memcpy(m->data, data, size < sizeof(m->data) ? size : sizeof(m->data));
    }
    f->sends++;
    return f->send_result;
}

static rollnet_error fake_receive(void *self, uint64_t now_ms, rollnet_transport_event *out)
{
    (void)now_ms;
    fake_transport *f = self;
    out->type = ROLLNET_TRANSPORT_NONE;
    if (f->receive_err != ROLLNET_ERR_OK) {
        return f->receive_err;
    }
    if (f->has_event) {
        f->has_event = false;
        *out = f->event;
    }
    return ROLLNET_ERR_OK;
}

static void fake_disconnect(void *self, int peer)
{
    fake_transport *f = self;
    f->disconnected[f->disconnects++ % MAX_CALLS] = peer;
}

static void fake_set_timeout(void *self, int peer, uint32_t timeout_ms)
{
    fake_transport *f = self;
    f->timeouts++;
    f->timeout_peer = peer;
    f->timeout_ms = timeout_ms;
}

static rollnet_error fake_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    fake_transport *f = self;
    f->info_peer = peer;
    if (f->info_err != ROLLNET_ERR_OK) {
        out->rtt_ms = 12345; /* junk a failing transport might leave */
        return f->info_err;
    }
    *out = f->info;
    return ROLLNET_ERR_OK;
}

static void fake_destroy(void *self)
{
    ((fake_transport *)self)->destroys++;
}

static void fake_flush(void *self, uint64_t now_ms)
{
    fake_transport *f = self;
    f->flushes++;
    f->flush_now = now_ms;
}

static const rollnet_transport_vtable full_vtable = {
    .connect = fake_connect,
    .send = fake_send,
    .receive = fake_receive,
    .disconnect = fake_disconnect,
    .set_timeout = fake_set_timeout,
    .peer_info = fake_peer_info,
    .destroy = fake_destroy,
    .flush = fake_flush,
};

/* Only what a transport must have: every optional hook is NULL. */
static const rollnet_transport_vtable minimal_vtable = {
    .connect = fake_connect,
    .send = fake_send,
    .receive = fake_receive,
};

/* What the link logged. */
typedef struct log_rec {
    int lines;
    int errors, warnings;
    char last[256];
} log_rec;

static void rec_log(rollnet_log_level level, const char *message, void *user_data)
{
    log_rec *r = user_data;
    r->lines++;
    r->errors += level == ROLLNET_LOG_ERROR;
    r->warnings += level == ROLLNET_LOG_WARN;
    snprintf(r->last, sizeof(r->last), "%s", message);
}

/* A link over the fake transport and one RUNNING peer (transport id 3),
 * logging into `log`. */
typedef struct link_fx {
    fake_transport f;
    log_rec log;
    rn_events ev;
    rn_link l;
    rn_peer p;
    uint8_t buf[RN_MAX_MESSAGE + 1]; /* a datagram as it arrives */
    rn_msg out;                      /* what rn_link_decode made of it */
} link_fx;

static rn_peer running_peer(void)
{
    rn_peer p;
    rn_peer_reset(&p, 0);
    p.state = RN_PEER_RUNNING;
    p.tp = 3;
    p.tag = PEER_TAG;
    p.player_mask = 1u << 1;
    return p;
}

static link_fx *fx_open(const rollnet_transport_vtable *vt, const rollnet_allocator *a)
{
    link_fx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    rollnet_transport t = {vt, &x->f};
    rn_events_init(&x->ev, &(rollnet_logger){rec_log, &x->log});
    assert_int_equal(rn_link_init(&x->l, &t, a, &x->ev), ROLLNET_ERR_OK);
    assert_true(x->l.dec_ready);
    x->p = running_peer();
    return x;
}

static int setup_full(void **state)
{
    *state = fx_open(&full_vtable, NULL);
    return 0;
}

static int setup_minimal(void **state)
{
    *state = fx_open(&minimal_vtable, NULL);
    return 0;
}

/* rn_link_free is safe to call twice: tests may free first. */
static int teardown(void **state)
{
    link_fx *x = *state;
    rn_link_free(&x->l, NULL, 0);
    free(x);
    return 0;
}

/* One peer in each state, transport ids 10, 11, ... */
static void peers_in_every_state(rn_peer peers[RN_PEER_GONE + 1])
{
    for (int i = 0; i <= RN_PEER_GONE; i++) {
        peers[i] = running_peer();
        peers[i].index = i;
        peers[i].state = (rn_peer_state)i;
        peers[i].tp = 10 + i;
    }
}

static rn_msg checksum_msg(uint16_t tag, int32_t frame, uint64_t sum)
{
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_CHECKSUM;
    m.u.checksum.tag = tag;
    m.u.checksum.frame = frame;
    m.u.checksum.checksum = sum;
    return m;
}

static rn_msg hello_msg(void)
{
    rollnet_session_desc d = hello_desc();
    rn_msg m;
    rn_peer_make_hello(&d, 77, 1u << 1, &m);
    return m;
}

/* Encode `m` into the fixture's datagram; its size. */
static size_t put_msg(link_fx *x, const rn_msg *m)
{
    size_t n = rn_encode(m, 0, x->buf, sizeof(x->buf));
    assert_true(n > 0);
    return n;
}

/* An INPUT of one frame (input 5) for a peer with one one-byte player. */
static size_t put_input(link_fx *x, uint16_t tag)
{
    uint8_t in = 5;
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INPUT;
    m.u.input.tag = tag;
    m.u.input.ack_frame = -1;
    m.u.input.start_frame = 0;
    m.u.input.count = 1;
    m.u.input.inputs = &in;
    size_t n = rn_encode(&m, 1, x->buf, sizeof(x->buf));
    assert_true(n > 0);
    return n;
}

/* Decode the first n bytes of the datagram as coming from `p`. */
static bool decode_from(link_fx *x, rn_peer *p, int block_size, size_t n)
{
    return rn_link_decode(&x->l, p, block_size, x->buf, n, &x->out);
}

static void assert_drops(const rn_peer *p, uint64_t oversize, uint64_t malformed, uint64_t early,
                         uint64_t foreign)
{
    assert_int_equal(p->st.dropped_oversize, oversize);
    assert_int_equal(p->st.dropped_malformed, malformed);
    assert_int_equal(p->st.dropped_early, early);
    assert_int_equal(p->st.dropped_foreign, foreign);
    assert_int_equal(p->st.dropped_stale, 0);
}

/* ---- Lifetime ------------------------------------------------------------ */

static void zeroed_link_is_safe_to_flush_and_free(void **state)
{
    (void)state;
    rn_link l;
    memset(&l, 0, sizeof(l));
    rn_link_flush(&l, 5);
    rn_link_free(&l, NULL, 0);
    assert_false(l.dec_ready);
    assert_null(l.transport.vtable);
}

static void free_closes_peers_still_there_and_destroys_the_transport(void **state)
{
    link_fx *x = *state;
    rn_peer peers[RN_PEER_GONE + 1];
    peers_in_every_state(peers);
    peers[RN_PEER_EMPTY].tp = -1; /* never connected */
    rn_link_free(&x->l, peers, RN_PEER_GONE + 1);
    /* connecting, handshake, running, interrupted: not the departed ones. */
    assert_int_equal(x->f.disconnects, 4);
    assert_int_equal(x->f.disconnected[0], 10 + RN_PEER_CONNECTING);
    assert_int_equal(x->f.disconnected[1], 10 + RN_PEER_HANDSHAKE);
    assert_int_equal(x->f.disconnected[2], 10 + RN_PEER_RUNNING);
    assert_int_equal(x->f.disconnected[3], 10 + RN_PEER_INTERRUPTED);
    assert_int_equal(x->f.destroys, 1);
    assert_false(x->l.dec_ready);
    assert_null(x->l.transport.vtable);
    rn_link_free(&x->l, peers, RN_PEER_GONE + 1); /* twice: nothing more happens */
    assert_int_equal(x->f.destroys, 1);
    assert_int_equal(x->f.disconnects, 4);
}

static void nothing_is_allocated_after_init_and_all_is_freed(void **state)
{
    (void)state;
    counting_alloc counts = {0};
    rollnet_allocator a = {count_alloc, count_free, &counts};
    link_fx *x = fx_open(&full_vtable, &a);
    int after_init = counts.allocs;
    assert_true(after_init > 0);
    for (int i = 0; i < 50; i++) {
        rn_msg m = checksum_msg(PEER_TAG, i, (uint64_t)i * 977u);
        rn_link_broadcast(&x->l, &x->p, 1, &m, ROLLNET_CHANNEL_RELIABLE, 1000);
        assert_true(decode_from(x, &x->p, 1, put_msg(x, &m)));
        assert_true(decode_from(x, &x->p, 1, put_input(x, PEER_TAG)));
    }
    assert_int_equal(counts.allocs, after_init);
    rn_link_free(&x->l, &x->p, 1);
    assert_int_equal(counts.frees, counts.allocs);
    free(x);
}

/* ---- The transport's hooks -------------------------------------------------- */

static void connect_hands_back_the_transports_peer_id(void **state)
{
    link_fx *x = *state;
    x->f.connect_result = 9;
    snprintf(x->p.address, sizeof(x->p.address), "mem:3");
    assert_int_equal(rn_link_connect(&x->l, &x->p, 1234), 9);
    assert_string_equal(x->f.connect_address, "mem:3");
    assert_int_equal(x->f.connect_now, 1234);
    assert_int_equal(x->log.lines, 0);
}

static void connect_failure_gives_no_id_and_logs_the_address_and_cause(void **state)
{
    link_fx *x = *state;
    x->f.connect_err = ROLLNET_ERR_TRANSPORT;
    snprintf(x->p.address, sizeof(x->p.address), "mem:4");
    assert_int_equal(rn_link_connect(&x->l, &x->p, 1235), -1);
    assert_int_equal(x->log.errors, 1);
    assert_non_null(strstr(x->log.last, "'mem:4'"));
    assert_non_null(strstr(x->log.last, rollnet_error_string(ROLLNET_ERR_TRANSPORT)));
}

static void receive_hands_out_the_transports_events(void **state)
{
    link_fx *x = *state;
    rollnet_transport_event ev;
    assert_false(rn_link_receive(&x->l, 10, &ev));
    x->f.has_event = true;
    x->f.event.type = ROLLNET_TRANSPORT_CONNECTED;
    x->f.event.peer = 6;
    assert_true(rn_link_receive(&x->l, 11, &ev));
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);
    assert_int_equal(ev.peer, 6);
    assert_false(rn_link_receive(&x->l, 12, &ev));
}

static void present_hooks_are_called_with_the_peers_id(void **state)
{
    link_fx *x = *state;
    rn_link_close(&x->l, x->p.tp);
    rn_link_close(&x->l, -1); /* no connection: nothing to close */
    assert_int_equal(x->f.disconnects, 1);
    assert_int_equal(x->f.disconnected[0], 3);

    rn_link_set_timeout(&x->l, &x->p, 60000);
    assert_int_equal(x->f.timeouts, 1);
    assert_int_equal(x->f.timeout_peer, 3);
    assert_int_equal(x->f.timeout_ms, 60000);

    rn_link_flush(&x->l, 4321);
    assert_int_equal(x->f.flushes, 1);
    assert_int_equal(x->f.flush_now, 4321);

    x->f.info.rtt_ms = 48;
    x->f.info.rtt_variance_ms = 7;
    x->f.info.send_queue = 3;
    rn_link_refresh_info(&x->l, &x->p);
    assert_int_equal(x->f.info_peer, 3);
    assert_int_equal(x->p.st.rtt_ms, 48);
    assert_int_equal(x->p.st.jitter_ms, 7);
    assert_int_equal(x->p.st.send_queue, 3);
}

static void missing_optional_hooks_are_skipped(void **state)
{
    link_fx *x = *state;
    x->p.st.rtt_ms = 99;
    x->p.st.jitter_ms = 9;
    x->p.st.send_queue = 4;

    rn_link_close(&x->l, x->p.tp);
    rn_link_set_timeout(&x->l, &x->p, 1000);
    rn_link_flush(&x->l, 10);
    rn_link_refresh_info(&x->l, &x->p);
    /* No peer_info: the transport tells nothing, so nothing stale stays. */
    assert_int_equal(x->p.st.rtt_ms, 0);
    assert_int_equal(x->p.st.jitter_ms, 0);
    assert_int_equal(x->p.st.send_queue, 0);
    /* The required hooks still work. */
    rn_msg m = checksum_msg(PEER_TAG, 16, 1);
    rn_link_send(&x->l, &x->p, &m, ROLLNET_CHANNEL_RELIABLE, 10);
    assert_int_equal(x->f.sends, 1);
    /* No disconnect, no destroy: free still releases the decoder. */
    rn_link_free(&x->l, &x->p, 1);
    assert_false(x->l.dec_ready);
    assert_int_equal(x->f.disconnects, 0);
    assert_int_equal(x->f.destroys, 0);
}

/* ---- Sending ---------------------------------------------------------------- */

static void send_counts_bytes_and_messages_of_what_went_out(void **state)
{
    link_fx *x = *state;
    rn_msg m = hello_msg();
    rn_link_send(&x->l, &x->p, &m, ROLLNET_CHANNEL_RELIABLE, 100);
    assert_int_equal(x->f.sends, 1);
    assert_int_equal(x->f.sent[0].peer, 3);
    assert_int_equal(x->f.sent[0].ch, ROLLNET_CHANNEL_RELIABLE);
    assert_int_equal(x->p.st.bytes_sent, x->f.sent[0].size);
    assert_int_equal(x->p.st.messages_sent, 1);
    /* What went out is the message, encoded. */
    size_t n = put_msg(x, &m);
    assert_int_equal(x->f.sent[0].size, n);
    assert_memory_equal(x->f.sent[0].data, x->buf, n);
}

static void failed_send_is_not_counted(void **state)
{
    link_fx *x = *state;
    x->f.send_result = ROLLNET_ERR_TRANSPORT;
    rn_msg m = checksum_msg(PEER_TAG, 16, 1);
    rn_link_send(&x->l, &x->p, &m, ROLLNET_CHANNEL_RELIABLE, 100);
    assert_int_equal(x->f.sends, 1);
    assert_int_equal(x->p.st.bytes_sent, 0);
    assert_int_equal(x->p.st.messages_sent, 0);
}

static void failed_reliable_send_is_logged_once_per_cause_and_then_once_a_second(void **state)
{
    link_fx *x = *state;
    x->f.send_result = ROLLNET_ERR_TRANSPORT;
    rn_msg m = checksum_msg(PEER_TAG, 16, 1);
    rn_link_send(&x->l, &x->p, &m, ROLLNET_CHANNEL_RELIABLE, 1000);
    assert_int_equal(x->log.lines, 1);
    assert_int_equal(x->log.errors, 1);
    assert_non_null(strstr(x->log.last, "reliable message not sent"));
    assert_non_null(strstr(x->log.last, rollnet_error_string(ROLLNET_ERR_TRANSPORT)));
    /* Every frame for a second: not a line more. */
    for (uint64_t now = 1001; now < 2000; now += 16) {
        rn_link_send(&x->l, &x->p, &m, ROLLNET_CHANNEL_RELIABLE, now);
    }
    assert_int_equal(x->log.lines, 1);
    /* A second on: one line that counts them. */
    rn_link_send(&x->l, &x->p, &m, ROLLNET_CHANNEL_RELIABLE, 2000);
    assert_int_equal(x->log.lines, 2);
    assert_non_null(strstr(x->log.last, "64 times in 1000 ms"));
    /* Another cause is news: logged at once. */
    x->f.send_result = ROLLNET_ERR_OUT_OF_MEMORY;
    rn_link_send(&x->l, &x->p, &m, ROLLNET_CHANNEL_RELIABLE, 2001);
    assert_int_equal(x->log.lines, 3);
    assert_non_null(strstr(x->log.last, rollnet_error_string(ROLLNET_ERR_OUT_OF_MEMORY)));
    /* So is the other channel; an unreliable loss is a warning. */
    rn_link_send(&x->l, &x->p, &m, ROLLNET_CHANNEL_UNRELIABLE, 2002);
    assert_int_equal(x->log.lines, 4);
    assert_int_equal(x->log.warnings, 1);
    assert_non_null(strstr(x->log.last, "unreliable message not sent"));
    /* A peer the transport no longer knows is going away: a warning too. */
    x->f.send_result = ROLLNET_ERR_UNKNOWN_PEER;
    rn_link_send(&x->l, &x->p, &m, ROLLNET_CHANNEL_RELIABLE, 2003);
    assert_int_equal(x->log.lines, 5);
    assert_int_equal(x->log.errors, 3);
    assert_int_equal(x->log.warnings, 2);
    assert_non_null(strstr(x->log.last, rollnet_error_string(ROLLNET_ERR_UNKNOWN_PEER)));
    assert_int_equal(x->p.st.messages_sent, 0);
}

static void failed_sends_to_two_peers_are_two_causes(void **state)
{
    link_fx *x = *state;
    x->f.send_result = ROLLNET_ERR_TRANSPORT;
    rn_peer peers[2] = {running_peer(), running_peer()};
    peers[1].index = 1;
    peers[1].tp = 4;
    rn_msg m = checksum_msg(PEER_TAG, 16, 1);
    for (int i = 0; i < 10; i++) {
        rn_link_broadcast(&x->l, peers, 2, &m, ROLLNET_CHANNEL_RELIABLE, 100 + (uint64_t)i);
    }
    assert_int_equal(x->f.sends, 20);
    assert_int_equal(x->log.errors, 2); /* one line per peer */
    assert_non_null(strstr(x->log.last, "peer 1 "));
}

static void receive_failure_ends_the_round_and_is_logged_once_a_second(void **state)
{
    link_fx *x = *state;
    rollnet_transport_event ev;
    x->f.has_event = true;
    x->f.event.type = ROLLNET_TRANSPORT_CONNECTED;
    x->f.receive_err = ROLLNET_ERR_TRANSPORT;
    for (uint64_t now = 500; now < 1500; now++) {
        assert_false(rn_link_receive(&x->l, now, &ev));
        assert_int_equal(ev.type, ROLLNET_TRANSPORT_NONE);
    }
    assert_int_equal(x->log.lines, 1);
    assert_int_equal(x->log.warnings, 1);
    assert_non_null(strstr(x->log.last, rollnet_error_string(ROLLNET_ERR_TRANSPORT)));
    assert_false(rn_link_receive(&x->l, 1500, &ev));
    assert_int_equal(x->log.lines, 2);
    /* Once the transport recovers, the event waiting comes through. */
    x->f.receive_err = ROLLNET_ERR_OK;
    assert_true(rn_link_receive(&x->l, 1501, &ev));
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);
}

static void peer_info_failure_reads_as_zero_without_a_log_line(void **state)
{
    link_fx *x = *state;
    x->p.st.rtt_ms = 99;
    x->f.info_err = ROLLNET_ERR_UNKNOWN_PEER;
    rn_link_refresh_info(&x->l, &x->p);
    assert_int_equal(x->p.st.rtt_ms, 0);
    assert_int_equal(x->p.st.send_queue, 0);
    assert_int_equal(x->log.lines, 0);
}

static void nothing_is_sent_without_a_connection_or_an_encoding(void **state)
{
    link_fx *x = *state;
    x->p.tp = -1;
    rn_msg m = checksum_msg(PEER_TAG, 16, 1);
    rn_link_send(&x->l, &x->p, &m, ROLLNET_CHANNEL_RELIABLE, 100);
    assert_int_equal(x->f.sends, 0);
    /* A message out of range does not encode: nothing goes out. */
    x->p.tp = 3;
    rn_msg bad = checksum_msg(PEER_TAG, -7, 1);
    assert_int_equal(rn_link_encode(&x->l, &bad, 0), 0);
    rn_link_send(&x->l, &x->p, &bad, ROLLNET_CHANNEL_RELIABLE, 100);
    rn_link_send_encoded(&x->l, &x->p, ROLLNET_CHANNEL_RELIABLE, 0, 100);
    assert_int_equal(x->f.sends, 0);
    assert_int_equal(x->p.st.bytes_sent, 0);
    assert_int_equal(x->p.st.messages_sent, 0);
}

static void broadcast_reaches_live_peers_only_and_counts_each(void **state)
{
    link_fx *x = *state;
    rn_peer peers[RN_PEER_GONE + 1];
    peers_in_every_state(peers);
    rn_msg m = checksum_msg(PEER_TAG, 32, 0xfeedull);
    rn_link_broadcast(&x->l, peers, RN_PEER_GONE + 1, &m, ROLLNET_CHANNEL_UNRELIABLE, 200);

    assert_int_equal(x->f.sends, 2);
    assert_int_equal(x->f.sent[0].peer, 10 + RN_PEER_RUNNING);
    assert_int_equal(x->f.sent[1].peer, 10 + RN_PEER_INTERRUPTED);
    size_t n = x->f.sent[0].size;
    assert_true(n > 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(x->f.sent[i].ch, ROLLNET_CHANNEL_UNRELIABLE);
        assert_int_equal(x->f.sent[i].size, n);
        /* Each copy decodes to the message. */
        memcpy(x->buf, x->f.sent[i].data, n);
        assert_true(decode_from(x, &x->p, 1, n));
        assert_int_equal(x->out.type, RN_MSG_CHECKSUM);
        assert_int_equal(x->out.u.checksum.frame, 32);
        assert_int_equal(x->out.u.checksum.checksum, 0xfeedull);
    }
    for (int i = 0; i <= RN_PEER_GONE; i++) {
        bool live = i == RN_PEER_RUNNING || i == RN_PEER_INTERRUPTED;
        assert_int_equal(peers[i].st.bytes_sent, live ? n : 0);
        assert_int_equal(peers[i].st.messages_sent, live ? 1 : 0);
    }
}

/* ---- Receiving -------------------------------------------------------------- */

static void message_with_the_peers_tag_is_accepted(void **state)
{
    link_fx *x = *state;
    rn_msg m = checksum_msg(PEER_TAG, 48, 0xabcull);
    assert_true(decode_from(x, &x->p, 1, put_msg(x, &m)));
    assert_int_equal(x->out.type, RN_MSG_CHECKSUM);
    assert_int_equal(x->out.u.checksum.tag, PEER_TAG);
    assert_int_equal(x->out.u.checksum.frame, 48);
    assert_int_equal(x->out.u.checksum.checksum, 0xabcull);

    assert_true(decode_from(x, &x->p, 1, put_input(x, PEER_TAG)));
    assert_int_equal(x->out.type, RN_MSG_INPUT);
    assert_int_equal(x->out.u.input.count, 1);
    assert_int_equal(x->out.u.input.inputs[0], 5);
    assert_drops(&x->p, 0, 0, 0, 0);
}

static void oversize_datagram_is_dropped_as_oversize(void **state)
{
    link_fx *x = *state;
    size_t n = put_input(x, PEER_TAG); /* a valid start, then zeros up to the size */
    assert_true(n < RN_MAX_MESSAGE);
    assert_false(decode_from(x, &x->p, 1, RN_MAX_MESSAGE + 1));
    assert_drops(&x->p, 1, 0, 0, 0);
    /* At the limit it is judged by its content instead (here: trailing junk). */
    assert_false(decode_from(x, &x->p, 1, RN_MAX_MESSAGE));
    assert_drops(&x->p, 1, 1, 0, 0);
}

static void garbage_and_unknown_types_are_malformed(void **state)
{
    link_fx *x = *state;
    const uint8_t junk[] = {0xc1, 0x00, 0xff};
    memcpy(x->buf, junk, sizeof(junk));
    assert_false(decode_from(x, &x->p, 1, sizeof(junk)));
    assert_false(decode_from(x, &x->p, 1, 0));
    const uint8_t unknown_type[] = {0x91, 0x7f}; /* [127] */
    memcpy(x->buf, unknown_type, sizeof(unknown_type));
    assert_false(decode_from(x, &x->p, 1, sizeof(unknown_type)));
    assert_drops(&x->p, 0, 3, 0, 0);
}

/* Before the handshake the peer's block size is unknown (0): its unreliable
 * inputs may overtake its HELLO. */
static void input_before_the_handshake_is_early_not_malformed(void **state)
{
    link_fx *x = *state;
    x->p.state = RN_PEER_HANDSHAKE;
    size_t n = put_input(x, PEER_TAG);
    assert_false(decode_from(x, &x->p, 0, n));
    assert_drops(&x->p, 0, 0, 1, 0);
    /* After it, an INPUT that does not fit the block size is malformed. */
    x->p.state = RN_PEER_RUNNING;
    assert_false(decode_from(x, &x->p, 2, n));
    assert_drops(&x->p, 0, 1, 1, 0);
}

static void per_frame_message_with_another_tag_is_foreign(void **state)
{
    link_fx *x = *state;
    rn_msg c = checksum_msg(PEER_TAG ^ 0x5555, 16, 1);
    assert_false(decode_from(x, &x->p, 1, put_msg(x, &c)));
    assert_false(decode_from(x, &x->p, 1, put_input(x, PEER_TAG + 1)));
    rn_msg ld;
    memset(&ld, 0, sizeof(ld));
    ld.type = RN_MSG_LOADING;
    ld.u.loading.tag = PEER_TAG + 2;
    ld.u.loading.loading = true;
    ld.u.loading.frame = -1;
    assert_false(decode_from(x, &x->p, 1, put_msg(x, &ld)));
    assert_drops(&x->p, 0, 0, 0, 3);
    /* With the right tag the same LOADING goes through. */
    ld.u.loading.tag = PEER_TAG;
    assert_true(decode_from(x, &x->p, 1, put_msg(x, &ld)));
    assert_true(x->out.u.loading.loading);
    assert_drops(&x->p, 0, 0, 0, 3);
}

/* Per-frame messages come only from a peer that is exchanging inputs;
 * handshake messages carry no tag and come from anyone. */
static void per_frame_message_from_a_peer_not_live_is_foreign(void **state)
{
    link_fx *x = *state;
    rn_msg c = checksum_msg(PEER_TAG, 16, 1);
    size_t nc = put_msg(x, &c);
    const rn_peer_state not_live[] = {RN_PEER_HANDSHAKE, RN_PEER_LEAVING, RN_PEER_GONE};
    for (size_t i = 0; i < sizeof(not_live) / sizeof(not_live[0]); i++) {
        rn_peer p = running_peer();
        p.state = not_live[i];
        assert_false(decode_from(x, &p, 1, nc));
        assert_drops(&p, 0, 0, 0, 1);
    }
    rn_msg h = hello_msg();
    size_t nh = put_msg(x, &h);
    x->p.state = RN_PEER_HANDSHAKE;
    assert_true(decode_from(x, &x->p, 0, nh));
    assert_int_equal(x->out.type, RN_MSG_HELLO);
    assert_int_equal(x->out.u.hello.nonce, 77);
    /* A running peer's HELLO is decoded too (the session decides what it means). */
    x->p.state = RN_PEER_RUNNING;
    assert_true(decode_from(x, &x->p, 1, nh));
    assert_drops(&x->p, 0, 0, 0, 0);
}

#define LINK_TEST(name) cmocka_unit_test_setup_teardown(name, setup_full, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zeroed_link_is_safe_to_flush_and_free),
        LINK_TEST(free_closes_peers_still_there_and_destroys_the_transport),
        cmocka_unit_test(nothing_is_allocated_after_init_and_all_is_freed),
        LINK_TEST(connect_hands_back_the_transports_peer_id),
        LINK_TEST(connect_failure_gives_no_id_and_logs_the_address_and_cause),
        LINK_TEST(receive_hands_out_the_transports_events),
        LINK_TEST(present_hooks_are_called_with_the_peers_id),
        cmocka_unit_test_setup_teardown(missing_optional_hooks_are_skipped, setup_minimal,
                                        teardown),
        LINK_TEST(send_counts_bytes_and_messages_of_what_went_out),
        LINK_TEST(failed_send_is_not_counted),
        LINK_TEST(failed_reliable_send_is_logged_once_per_cause_and_then_once_a_second),
        LINK_TEST(failed_sends_to_two_peers_are_two_causes),
        LINK_TEST(receive_failure_ends_the_round_and_is_logged_once_a_second),
        LINK_TEST(peer_info_failure_reads_as_zero_without_a_log_line),
        LINK_TEST(nothing_is_sent_without_a_connection_or_an_encoding),
        LINK_TEST(broadcast_reaches_live_peers_only_and_counts_each),
        LINK_TEST(message_with_the_peers_tag_is_accepted),
        LINK_TEST(oversize_datagram_is_dropped_as_oversize),
        LINK_TEST(garbage_and_unknown_types_are_malformed),
        LINK_TEST(input_before_the_handshake_is_early_not_malformed),
        LINK_TEST(per_frame_message_with_another_tag_is_foreign),
        LINK_TEST(per_frame_message_from_a_peer_not_live_is_foreign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
