/* A session facing a hand-driven peer on the memnet: the fake peer speaks
 * the wire protocol directly, so every kind of bad message can be sent.
 * Each one is dropped and counted; none crashes or stalls the session.
 * The session's own transport is the memnet behind a gate that can refuse
 * its sends, for what the session does when the transport fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "protocol.h"
#include "rollnet/rollnet.h"

typedef struct wire {
    rollnet_memnet *net;
    rollnet_transport mem0;   /* node 0, behind the gate */
    rollnet_error refuse;     /* when not OK: what the gate's send returns */
    int log_errors, log_warnings, refused_lines;
    rollnet_transport fake;   /* node 1, driven by hand */
    rollnet_session *s;       /* node 0: player 0 local, player 1 remote (incoming) */
    int fake_peer;            /* node 1's peer id for node 0 */
    uint64_t now;
    int32_t session_frame;    /* frames the session has run */
    int64_t state;
    uint8_t buf[RN_MAX_MESSAGE + 64];
} wire;

static const uint64_t FAKE_NONCE = 0xfeedfacecafebeefull;

static void fake_send(wire *w, rollnet_channel ch, const void *data, size_t size)
{
    assert_int_equal(w->fake.vtable->send(w->fake.self, w->fake_peer, ch, data, size, w->now), 0);
}

static void fake_send_msg(wire *w, const rn_msg *m, rollnet_channel ch)
{
    size_t n = rn_encode(m, 1, w->buf, sizeof(w->buf));
    assert_true(n > 0);
    fake_send(w, ch, w->buf, n);
}

static void fake_drain(wire *w)
{
    rollnet_transport_event ev;
    do {
        assert_int_equal(w->fake.vtable->receive(w->fake.self, w->now, &ev), ROLLNET_ERR_OK);
    } while (ev.type != ROLLNET_TRANSPORT_NONE);
}

static int checksum_interval = 16; /* both sides' */

static rn_msg hello(void)
{
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_HELLO;
    m.u.hello.version = RN_PROTOCOL_VERSION;
    m.u.hello.nonce = FAKE_NONCE;
    m.u.hello.num_players = 2;
    m.u.hello.input_size = 1;
    m.u.hello.input_delay = 0;
    m.u.hello.fps = 60;
    m.u.hello.max_prediction = ROLLNET_MAX_PREDICTION;
    m.u.hello.checksum_interval = checksum_interval;
    m.u.hello.player_mask = 1u << 1;
    return m;
}

static void send_inputs_acking(wire *w, int32_t episode, int32_t start, int32_t count,
                               uint8_t value, int32_t ack);

static void send_inputs(wire *w, int32_t episode, int32_t start, int32_t count, uint8_t value)
{
    send_inputs_acking(w, episode, start, count, value, -1);
}

/* ack: the last of the session's frames the fake peer says it holds. */
static void send_inputs_acking(wire *w, int32_t episode, int32_t start, int32_t count,
                               uint8_t value, int32_t ack)
{
    uint8_t data[RN_MAX_INPUT_FRAMES];
    memset(data, value, sizeof(data));
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INPUT;
    m.u.input.tag = rn_nonce_tag(FAKE_NONCE);
    m.u.input.episode = episode;
    m.u.input.ack_frame = ack;
    m.u.input.start_frame = start;
    m.u.input.count = count;
    m.u.input.inputs = data;
    fake_send_msg(w, &m, ROLLNET_CHANNEL_UNRELIABLE);
}

/* Run the session's game (a counter) for one tick if it can. */
static rollnet_error tick(wire *w, int32_t episode_len)
{
    rollnet_session_poll(w->s, w->now);
    uint8_t in = 0;
    rollnet_error err = rollnet_session_add_local_input(w->s, 0, &in, 1);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    const rollnet_request *r;
    int n;
    err = rollnet_session_advance(w->s, &r, &n);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    for (int i = 0; i < n; i++) {
        if (r[i].type == ROLLNET_REQUEST_SAVE) {
            rollnet_writer *wr = rollnet_session_save_begin(w->s, &r[i]);
            rollnet_write_int(wr, w->state);
            assert_int_equal(rollnet_session_save_end(w->s, &r[i]), ROLLNET_ERR_OK);
        } else if (r[i].type == ROLLNET_REQUEST_LOAD) {
            rollnet_reader *rd = rollnet_session_load_begin(w->s, &r[i]);
            assert_true(rollnet_read_int(rd, &w->state));
            assert_int_equal(rollnet_session_load_end(w->s, &r[i]), ROLLNET_ERR_OK);
        } else {
            w->state = w->state * 3 + r[i].inputs[1] + 1;
            w->state &= 0xffffffff;
            bool end = episode_len > 0 && (r[i].frame + 1) % episode_len == 0;
            assert_int_equal(rollnet_session_advance_end(w->s, &r[i], end ? ROLLNET_STEP_EPISODE_END : 0),
                             ROLLNET_ERR_OK);
        }
    }
    return ROLLNET_ERR_OK;
}

/* ---- The gate: node 0's memnet transport, whose sends can be refused ---- */

static rollnet_error gate_connect(void *self, const char *address, uint64_t now, int *peer_out)
{
    wire *w = self;
    return w->mem0.vtable->connect(w->mem0.self, address, now, peer_out);
}

static rollnet_error gate_send(void *self, int peer, rollnet_channel ch, const void *data,
                               size_t size, uint64_t now)
{
    wire *w = self;
    if (w->refuse != ROLLNET_ERR_OK) {
        return w->refuse;
    }
    return w->mem0.vtable->send(w->mem0.self, peer, ch, data, size, now);
}

static rollnet_error gate_receive(void *self, uint64_t now, rollnet_transport_event *out)
{
    wire *w = self;
    return w->mem0.vtable->receive(w->mem0.self, now, out);
}

static void gate_disconnect(void *self, int peer)
{
    wire *w = self;
    w->mem0.vtable->disconnect(w->mem0.self, peer);
}

static const rollnet_transport_vtable gate_vtable = {
    .connect = gate_connect,
    .send = gate_send,
    .receive = gate_receive,
    .disconnect = gate_disconnect,
};

static void wire_log(rollnet_log_level level, const char *message, void *user_data)
{
    wire *w = user_data;
    w->log_errors += level == ROLLNET_LOG_ERROR;
    w->log_warnings += level == ROLLNET_LOG_WARN;
    if (strstr(message, "message not sent") &&
        strstr(message, rollnet_error_string(ROLLNET_ERR_TRANSPORT))) {
        w->refused_lines++;
    }
}

static void wire_init(wire *w)
{
    memset(w, 0, sizeof(*w));
    w->now = 1000;
    w->net = rollnet_memnet_create(2, NULL);
    w->fake = rollnet_memnet_transport(w->net, 1);
    w->mem0 = rollnet_memnet_transport(w->net, 0);
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.transport = (rollnet_transport){&gate_vtable, w};
    d.logger = (rollnet_logger){wire_log, w};
    d.checksum_interval = checksum_interval;
    d.nonce = 42;
    assert_int_equal(rollnet_session_create(&d, &w->s), ROLLNET_ERR_OK);
    rollnet_session_poll(w->s, w->now);
    assert_int_equal(w->fake.vtable->connect(w->fake.self, "mem:0", w->now, &w->fake_peer),
                     ROLLNET_ERR_OK);
    assert_true(w->fake_peer >= 0);
    rollnet_session_poll(w->s, w->now); /* CONNECTED: the session sends its HELLO */
    fake_drain(w);
    rn_msg h = hello();
    fake_send_msg(w, &h, ROLLNET_CHANNEL_RELIABLE);
    rn_msg ready = { .type = RN_MSG_READY }; /* the fake accepted the session too */
    fake_send_msg(w, &ready, ROLLNET_CHANNEL_RELIABLE);
    rollnet_session_poll(w->s, w->now);
    rollnet_session_stats st;
    rollnet_session_stats_get(w->s, &st);
    assert_true(st.running);
}

static rollnet_peer_stats pstats(wire *w)
{
    rollnet_peer_stats ps;
    assert_int_equal(rollnet_session_peer_stats(w->s, 1, &ps), ROLLNET_ERR_OK);
    return ps;
}

static void test_garbage_is_dropped_as_malformed(void **state)
{
    (void)state;
    static wire w;
    wire_init(&w);
    const uint8_t junk[] = {0xc1, 0x00, 0xff, 0x93};
    fake_send(&w, ROLLNET_CHANNEL_UNRELIABLE, junk, sizeof(junk));
    const uint8_t unknown_type[] = {0x91, 0x7f}; /* [127] */
    fake_send(&w, ROLLNET_CHANNEL_UNRELIABLE, unknown_type, sizeof(unknown_type));
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).dropped_malformed, 2);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

static void test_oversize_message_is_dropped_and_counted(void **state)
{
    (void)state;
    static wire w;
    wire_init(&w);
    uint8_t big[RN_MAX_MESSAGE + 10];
    memset(big, 0x90, sizeof(big));
    fake_send(&w, ROLLNET_CHANNEL_UNRELIABLE, big, sizeof(big));
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).dropped_oversize, 1);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

static void test_wrong_tag_is_foreign(void **state)
{
    (void)state;
    static wire w;
    wire_init(&w);
    uint8_t data[4] = {1, 1, 1, 1};
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INPUT;
    m.u.input.tag = (uint16_t)(rn_nonce_tag(FAKE_NONCE) ^ 0x5555);
    m.u.input.ack_frame = -1;
    m.u.input.start_frame = 0;
    m.u.input.count = 4;
    m.u.input.inputs = data;
    fake_send_msg(&w, &m, ROLLNET_CHANNEL_UNRELIABLE);
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).dropped_foreign, 1);
    assert_int_equal(pstats(&w).last_received_frame, -1);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

static void test_inputs_beyond_the_window_are_refused(void **state)
{
    (void)state;
    static wire w;
    wire_init(&w);
    send_inputs(&w, 0, 100000, 4, 1); /* far ahead: a gap and beyond the ring */
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).dropped_malformed, 1);
    /* An ack for frames the session never sent is refused too. */
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INPUT;
    m.u.input.tag = rn_nonce_tag(FAKE_NONCE);
    m.u.input.ack_frame = 5000;
    fake_send_msg(&w, &m, ROLLNET_CHANNEL_UNRELIABLE);
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).dropped_malformed, 2);
    /* Valid inputs still go through afterwards. */
    send_inputs(&w, 0, 0, 4, 1);
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).last_received_frame, 3);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

/* The INPUT messages the session sent to the fake peer since the last call:
 * start frame and count of each, in order. Returns how many. */
static int sent_inputs(wire *w, rn_decoder *d, int32_t *start, int32_t *count, int max)
{
    int n = 0;
    rollnet_transport_event ev;
    while (w->fake.vtable->receive(w->fake.self, w->now, &ev) == ROLLNET_ERR_OK &&
           ev.type != ROLLNET_TRANSPORT_NONE) {
        rn_msg m;
        if (ev.type == ROLLNET_TRANSPORT_RECEIVE &&
            rn_decode(d, ev.data, ev.size, 1, &m) == RN_DECODE_OK && m.type == RN_MSG_INPUT &&
            n < max) {
            start[n] = m.u.input.start_frame;
            count[n] = m.u.input.count;
            n++;
        }
    }
    return n;
}

/* While the peer acknowledges nothing, a message repeats only the newest
 * frames, except every RN_INPUT_FULL_EVERY-th (4th), which carries every
 * unacknowledged frame, oldest first. Before: every message carried them
 * all. */
static void test_a_message_repeats_a_bounded_number_of_frames(void **state)
{
    (void)state;
    static wire w;
    static rn_decoder dec;
    wire_init(&w);
    assert_int_equal(rn_decoder_init(&dec, NULL), ROLLNET_ERR_OK);
    (void)sent_inputs(&w, &dec, NULL, NULL, 0);
    int32_t start[64], count[64];
    int full = 0, bounded = 0;
    for (int f = 0; f < ROLLNET_MAX_PREDICTION; f++) {
        w.now += 16;
        assert_int_equal(tick(&w, 0), ROLLNET_ERR_OK);
        int n = sent_inputs(&w, &dec, start, count, 64);
        for (int i = 0; i < n; i++) {
            /* Every message ends at the newest frame. */
            assert_int_equal(start[i] + count[i] - 1, f);
            if (start[i] == 0) {
                full++;
            } else {
                assert_int_equal(count[i], 5); /* RN_INPUT_REPEAT */
                bounded++;
            }
        }
    }
    /* Frames 0..4 fit in any message; from frame 5 on (3 frames) one message
     * in 4 is full. */
    assert_true(bounded >= 2);
    assert_true(full >= 6);
    rn_decoder_free(&dec);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

/* A message that starts past a gap (after a burst of losses) is not
 * malformed: its ack is taken, its inputs wait for the message that closes
 * the gap, and nothing past the gap is confirmed before that. */
static void test_inputs_past_a_gap_wait_for_the_message_that_closes_it(void **state)
{
    (void)state;
    static wire w;
    static rn_decoder dec;
    wire_init(&w);
    assert_int_equal(rn_decoder_init(&dec, NULL), ROLLNET_ERR_OK);
    for (int f = 0; f < 6; f++) {
        w.now += 16;
        assert_int_equal(tick(&w, 0), ROLLNET_ERR_OK);
    }
    (void)sent_inputs(&w, &dec, NULL, NULL, 0);
    /* Frames 5..8, acking our frames up to 5: frames 0..4 missing. */
    uint8_t data[4] = {1, 1, 1, 1};
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INPUT;
    m.u.input.tag = rn_nonce_tag(FAKE_NONCE);
    m.u.input.ack_frame = 5;
    m.u.input.start_frame = 5;
    m.u.input.count = 4;
    m.u.input.inputs = data;
    fake_send_msg(&w, &m, ROLLNET_CHANNEL_UNRELIABLE);
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).dropped_malformed, 0);
    rollnet_session_stats st;
    rollnet_session_stats_get(w.s, &st);
    assert_int_equal(st.confirmed_frame, -1);
    /* The ack was taken: the next message starts after frame 5. */
    w.now += 16;
    assert_int_equal(tick(&w, 0), ROLLNET_ERR_OK);
    int32_t start[8], count[8];
    int n = sent_inputs(&w, &dec, start, count, 8);
    assert_true(n >= 1);
    assert_int_equal(start[n - 1], 6);
    /* Frames 0..4 close the gap; 5..8 come again with the next message, as
     * the sender repeats them until acknowledged. */
    send_inputs(&w, 0, 0, 5, 1);
    rollnet_session_poll(w.s, w.now);
    rollnet_session_stats_get(w.s, &st);
    assert_int_equal(st.confirmed_frame, 4);
    send_inputs(&w, 0, 3, 6, 1);
    rollnet_session_poll(w.s, w.now);
    rollnet_session_stats_get(w.s, &st);
    assert_int_equal(st.confirmed_frame, 6); /* our own inputs end at frame 6 */
    assert_int_equal(pstats(&w).dropped_malformed, 0);
    rn_decoder_free(&dec);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

static void test_second_hello_and_checksum_off_grid_are_malformed(void **state)
{
    (void)state;
    static wire w;
    wire_init(&w);
    rn_msg h = hello();
    fake_send_msg(&w, &h, ROLLNET_CHANNEL_RELIABLE);
    rn_msg c;
    memset(&c, 0, sizeof(c));
    c.type = RN_MSG_CHECKSUM;
    c.u.checksum.tag = rn_nonce_tag(FAKE_NONCE);
    c.u.checksum.frame = 17; /* not a multiple of the interval */
    fake_send_msg(&w, &c, ROLLNET_CHANNEL_RELIABLE);
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).dropped_malformed, 2);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

/* AUTH is asked for only by a keyed HELLO: in a session without a key, or
 * from a peer already running, it is malformed and changes nothing. */
static void test_auth_out_of_turn_is_malformed(void **state)
{
    (void)state;
    static wire w;
    wire_init(&w);
    rn_msg a;
    memset(&a, 0, sizeof(a));
    a.type = RN_MSG_AUTH;
    memset(a.u.auth.proof, 0x11, RN_AUTH_BYTES);
    fake_send_msg(&w, &a, ROLLNET_CHANNEL_RELIABLE);
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).dropped_malformed, 1);
    rollnet_session_stats st;
    rollnet_session_stats_get(w.s, &st);
    assert_true(st.running);
    assert_int_equal(st.handshakes_refused, 0);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

/* Regression: with checksum_interval 1 a CHECKSUM for frame -1 passed the
 * interval check and was stored at index -1 of the checksum ring (UBSan:
 * index out of bounds), overwriting the fields before it. */
static void test_checksum_for_a_negative_frame_is_malformed(void **state)
{
    (void)state;
    static wire w;
    checksum_interval = 1;
    wire_init(&w);
    checksum_interval = 16;
    /* Built by hand: the encoder refuses such a frame. */
    int64_t frames[] = {-1, -2, INT32_MIN + 1};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, 5);
        msgpack_pack_uint32(&pk, RN_MSG_CHECKSUM);
        msgpack_pack_uint32(&pk, rn_nonce_tag(FAKE_NONCE));
        msgpack_pack_int32(&pk, 0);
        msgpack_pack_int64(&pk, frames[i]);
        msgpack_pack_uint64(&pk, 0xdeadbeef);
        fake_send(&w, ROLLNET_CHANNEL_RELIABLE, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
    }
    rollnet_session_poll(w.s, w.now);
    /* Each refused by the decoder's range or by the session, none stored. */
    assert_int_equal(pstats(&w).dropped_malformed, 3);
    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(w.s, &info), ROLLNET_ERR_NO_DESYNC);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

/* After episode 0 is complete, a late INPUT from episode 0 is stale. */
static void test_messages_from_an_earlier_episode_are_dropped_as_stale(void **state)
{
    (void)state;
    static wire w;
    wire_init(&w);
    const int32_t len = 5;
    int32_t sent = 0;
    rollnet_session_stats st;
    for (int t = 0; t < 40; t++) {
        if (sent < 12) {
            /* A real peer labels inputs with the episodes it has completed. */
            send_inputs(&w, sent / len, sent, 1, 2);
            sent++;
        }
        tick(&w, len);
        fake_drain(&w);
        w.now += 16;
    }
    rollnet_session_stats_get(w.s, &st);
    assert_true(st.episode >= 1);
    assert_true(st.frame > len);
    uint64_t stale_before = pstats(&w).dropped_stale;
    send_inputs(&w, st.episode - 1, sent, 1, 2); /* the right frame, an episode too old */
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).dropped_stale, stale_before + 1);
    assert_int_equal(pstats(&w).last_received_frame, sent - 1);
    send_inputs(&w, st.episode, sent, 1, 2);
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).last_received_frame, sent);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

/* Thousands of random messages from a connected peer: the session never
 * crashes, counts them, and still runs with valid inputs afterwards. */
static void test_random_messages_never_break_the_session(void **state)
{
    (void)state;
    static wire w;
    wire_init(&w);
    uint64_t x = 12345;
    uint8_t msg[200];
    for (int i = 0; i < 5000; i++) {
        size_t len = 1 + (size_t)(x % sizeof(msg));
        for (size_t k = 0; k < len; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            msg[k] = (uint8_t)x;
        }
        if (i % 3 == 0) {
            msg[0] = 0x97; /* a 7-element array: nearer to a real INPUT */
            msg[1] = RN_MSG_INPUT;
        }
        fake_send(&w, (rollnet_channel)(i & 1), msg, len);
        if (i % 64 == 0) {
            rollnet_session_poll(w.s, w.now);
        }
    }
    rollnet_session_poll(w.s, w.now);
    rollnet_peer_stats ps = pstats(&w);
    assert_true(ps.dropped_malformed + ps.dropped_foreign > 4000);
    for (int32_t f = 0; f < 30; f++) {
        send_inputs(&w, 0, f, 1, 3);
        assert_int_equal(tick(&w, 0), ROLLNET_ERR_OK);
        fake_drain(&w);
        w.now += 16;
    }
    rollnet_session_stats st;
    rollnet_session_stats_get(w.s, &st);
    assert_true(st.frame >= 30);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

static char g_last_error[256];
static void keep_last_error(rollnet_log_level level, const char *msg, void *user_data)
{
    (void)user_data;
    if (level == ROLLNET_LOG_ERROR) {
        snprintf(g_last_error, sizeof(g_last_error), "%s", msg);
    }
}

/* A peer that refuses us over the game parameters says which key, from its
 * side: the event and the log name it, with the sides turned to ours. */
static void test_a_refuse_naming_a_game_parameter_reaches_the_game_with_the_key(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    rollnet_transport fake = rollnet_memnet_transport(net, 1);
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.players[1].address = "mem:1"; /* the session connects to the fake */
    d.transport = rollnet_memnet_transport(net, 0);
    d.logger.log = keep_last_error;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    uint64_t now = 1000;
    rollnet_session_poll(s, now);
    rollnet_transport_event ev;
    int peer = -1;
    while (fake.vtable->receive(fake.self, now, &ev) == ROLLNET_ERR_OK && ev.type != ROLLNET_TRANSPORT_NONE) {
        if (ev.type == ROLLNET_TRANSPORT_CONNECTED) {
            peer = ev.peer;
        }
    }
    assert_true(peer >= 0);
    /* The fake has a "level" the session lacks, and refuses before its HELLO. */
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_REFUSE;
    m.u.refuse.param = ROLLNET_PARAM_GAME_PARAMS;
    m.u.refuse.local_value = 1;
    m.u.refuse.remote_value = 0;
    snprintf(m.u.refuse.key, sizeof(m.u.refuse.key), "level");
    uint8_t buf[RN_MAX_MESSAGE];
    size_t n = rn_encode(&m, 1, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(fake.vtable->send(fake.self, peer, ROLLNET_CHANNEL_RELIABLE, buf, n, now), 0);
    g_last_error[0] = '\0';
    rollnet_session_poll(s, now);
    rollnet_event e;
    bool seen = false;
    while (rollnet_session_next_event(s, &e)) {
        if (e.type == ROLLNET_EVENT_REFUSED) {
            seen = true;
            assert_int_equal(e.player, 1);
            assert_int_equal(e.u.refused.param, ROLLNET_PARAM_GAME_PARAMS);
            assert_string_equal(e.u.refused.key, "level");
            assert_int_equal(e.u.refused.local_value, 0);
            assert_int_equal(e.u.refused.remote_value, 1);
        }
    }
    assert_true(seen);
    assert_non_null(strstr(g_last_error, "game_params differ at key 'level' (missing here)"));
    rollnet_session_destroy(s);
    rollnet_memnet_destroy(net);
}

/* A transport that refuses every send for three seconds: the session logs
 * it (the reliable checksums at ERROR, the unreliable inputs at WARN) a line
 * per cause and then one a second, not one per frame, and plays on. */
static void test_refused_sends_are_logged_without_flooding_the_log(void **state)
{
    (void)state;
    static wire w;
    wire_init(&w);
    assert_int_equal(w.log_errors, 0);
    w.refuse = ROLLNET_ERR_TRANSPORT;
    int32_t f = 0;
    for (; f < 180; f++) { /* 3 s at 60 fps: 11 checksums and 180 input messages refused */
        /* It acknowledges what it never got, so that the session runs on. */
        send_inputs_acking(&w, 0, f, 1, 1, f - 1);
        assert_int_equal(tick(&w, 0), ROLLNET_ERR_OK);
        fake_drain(&w);
        w.now += 1000 / 60;
    }
    rollnet_session_stats st;
    rollnet_session_stats_get(w.s, &st);
    assert_true(st.running);
    assert_true(st.frame >= 170);
    /* One line per channel at once, then at most one a second each. */
    assert_true(w.log_errors >= 1 && w.log_errors <= 4);
    assert_true(w.log_warnings >= 1 && w.log_warnings <= 4);
    assert_int_equal(w.refused_lines, w.log_errors + w.log_warnings);
    rollnet_session_destroy(w.s);
    rollnet_memnet_destroy(w.net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_sends_are_logged_without_flooding_the_log),
        cmocka_unit_test(test_garbage_is_dropped_as_malformed),
        cmocka_unit_test(test_oversize_message_is_dropped_and_counted),
        cmocka_unit_test(test_wrong_tag_is_foreign),
        cmocka_unit_test(test_inputs_beyond_the_window_are_refused),
        cmocka_unit_test(test_a_message_repeats_a_bounded_number_of_frames),
        cmocka_unit_test(test_inputs_past_a_gap_wait_for_the_message_that_closes_it),
        cmocka_unit_test(test_second_hello_and_checksum_off_grid_are_malformed),
        cmocka_unit_test(test_auth_out_of_turn_is_malformed),
        cmocka_unit_test(test_checksum_for_a_negative_frame_is_malformed),
        cmocka_unit_test(test_messages_from_an_earlier_episode_are_dropped_as_stale),
        cmocka_unit_test(test_random_messages_never_break_the_session),
        cmocka_unit_test(test_a_refuse_naming_a_game_parameter_reaches_the_game_with_the_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
