/* A session facing a hand-driven peer on the memnet: the fake peer speaks
 * the wire protocol directly, so every kind of bad message can be sent.
 * Each one is dropped and counted; none crashes or stalls the session. */
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
    while (w->fake.vtable->receive(w->fake.self, w->now, &ev) > 0) {
    }
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

static void send_inputs(wire *w, int32_t episode, int32_t start, int32_t count, uint8_t value)
{
    uint8_t data[RN_MAX_INPUT_FRAMES];
    memset(data, value, sizeof(data));
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INPUT;
    m.u.input.tag = rn_nonce_tag(FAKE_NONCE);
    m.u.input.episode = episode;
    m.u.input.ack_frame = -1;
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

static void wire_init(wire *w)
{
    memset(w, 0, sizeof(*w));
    w->now = 1000;
    w->net = rollnet_memnet_create(2, NULL);
    w->fake = rollnet_memnet_transport(w->net, 1);
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.transport = rollnet_memnet_transport(w->net, 0);
    d.checksum_interval = checksum_interval;
    d.nonce = 42;
    assert_int_equal(rollnet_session_create(&d, &w->s), ROLLNET_ERR_OK);
    rollnet_session_poll(w->s, w->now);
    w->fake_peer = w->fake.vtable->connect(w->fake.self, "mem:0", w->now);
    assert_true(w->fake_peer >= 0);
    rollnet_session_poll(w->s, w->now); /* CONNECTED: the session sends its HELLO */
    fake_drain(w);
    rn_msg h = hello();
    fake_send_msg(w, &h, ROLLNET_CHANNEL_RELIABLE);
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
    send_inputs(&w, 0, 5, 4, 1);      /* a gap: frames 0..4 missing */
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).dropped_malformed, 2);
    /* An ack for frames the session never sent is refused too. */
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INPUT;
    m.u.input.tag = rn_nonce_tag(FAKE_NONCE);
    m.u.input.ack_frame = 5000;
    fake_send_msg(&w, &m, ROLLNET_CHANNEL_UNRELIABLE);
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).dropped_malformed, 3);
    /* Valid inputs still go through afterwards. */
    send_inputs(&w, 0, 0, 4, 1);
    rollnet_session_poll(w.s, w.now);
    assert_int_equal(pstats(&w).last_received_frame, 3);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_is_dropped_as_malformed),
        cmocka_unit_test(test_oversize_message_is_dropped_and_counted),
        cmocka_unit_test(test_wrong_tag_is_foreign),
        cmocka_unit_test(test_inputs_beyond_the_window_are_refused),
        cmocka_unit_test(test_second_hello_and_checksum_off_grid_are_malformed),
        cmocka_unit_test(test_auth_out_of_turn_is_malformed),
        cmocka_unit_test(test_checksum_for_a_negative_frame_is_malformed),
        cmocka_unit_test(test_messages_from_an_earlier_episode_are_dropped_as_stale),
        cmocka_unit_test(test_random_messages_never_break_the_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
