/* Wire messages: round trips, INPUT size and compression, and every rule the
 * decoder enforces on what a peer sends. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "protocol.h"

#define BLOCK_MAX (ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE)
#define BIG_INPUTS (RN_MAX_INPUT_FRAMES * BLOCK_MAX)

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int setup_decoder(void **state)
{
    static rn_decoder dec;
    assert_int_equal(rn_decoder_init(&dec, NULL), ROLLNET_ERR_OK);
    *state = &dec;
    return 0;
}

static int teardown_decoder(void **state)
{
    rn_decoder_free(*state);
    return 0;
}

static void assert_msg_equal(const rn_msg *a, const rn_msg *b, int block_size)
{
    assert_int_equal(a->type, b->type);
    switch (a->type) {
    case RN_MSG_HELLO:
        assert_int_equal(a->u.hello.version, b->u.hello.version);
        assert_true(a->u.hello.nonce == b->u.hello.nonce);
        assert_int_equal(a->u.hello.num_players, b->u.hello.num_players);
        assert_int_equal(a->u.hello.input_size, b->u.hello.input_size);
        assert_int_equal(a->u.hello.input_delay, b->u.hello.input_delay);
        assert_int_equal(a->u.hello.fps, b->u.hello.fps);
        assert_int_equal(a->u.hello.max_prediction, b->u.hello.max_prediction);
        assert_int_equal(a->u.hello.checksum_interval, b->u.hello.checksum_interval);
        assert_true(a->u.hello.game_id == b->u.hello.game_id);
        assert_true(a->u.hello.seed == b->u.hello.seed);
        assert_int_equal(a->u.hello.player_mask, b->u.hello.player_mask);
        assert_int_equal(a->u.hello.game_params_size, b->u.hello.game_params_size);
        if (a->u.hello.game_params_size > 0) {
            assert_memory_equal(a->u.hello.game_params, b->u.hello.game_params,
                                a->u.hello.game_params_size);
        }
        assert_int_equal(a->u.hello.keyed, b->u.hello.keyed);
        assert_int_equal(a->u.hello.rejoin, b->u.hello.rejoin);
        break;
    case RN_MSG_REFUSE:
        assert_int_equal(a->u.refuse.param, b->u.refuse.param);
        assert_true(a->u.refuse.local_value == b->u.refuse.local_value);
        assert_true(a->u.refuse.remote_value == b->u.refuse.remote_value);
        assert_string_equal(a->u.refuse.key, b->u.refuse.key);
        break;
    case RN_MSG_INPUT:
        assert_int_equal(a->u.input.tag, b->u.input.tag);
        assert_int_equal(a->u.input.episode, b->u.input.episode);
        assert_int_equal(a->u.input.ack_frame, b->u.input.ack_frame);
        assert_int_equal(a->u.input.count, b->u.input.count);
        assert_int_equal(a->u.input.frame_advantage, b->u.input.frame_advantage);
        assert_int_equal(a->u.input.delay, b->u.input.delay);
        if (a->u.input.count > 0) {
            assert_int_equal(a->u.input.start_frame, b->u.input.start_frame);
            assert_memory_equal(a->u.input.inputs, b->u.input.inputs,
                                (size_t)a->u.input.count * (size_t)block_size);
        }
        break;
    case RN_MSG_CHECKSUM:
        assert_int_equal(a->u.checksum.tag, b->u.checksum.tag);
        assert_int_equal(a->u.checksum.episode, b->u.checksum.episode);
        assert_int_equal(a->u.checksum.frame, b->u.checksum.frame);
        assert_true(a->u.checksum.checksum == b->u.checksum.checksum);
        break;
    case RN_MSG_LOADING:
        assert_int_equal(a->u.loading.tag, b->u.loading.tag);
        assert_int_equal(a->u.loading.loading, b->u.loading.loading);
        assert_int_equal(a->u.loading.grace_ms, b->u.loading.grace_ms);
        assert_int_equal(a->u.loading.frame, b->u.loading.frame);
        break;
    case RN_MSG_LEAVE:
        assert_int_equal(a->u.leave.tag, b->u.leave.tag);
        assert_int_equal(a->u.leave.player_mask, b->u.leave.player_mask);
        assert_int_equal(a->u.leave.last_frame, b->u.leave.last_frame);
        assert_int_equal(a->u.leave.count, b->u.leave.count);
        assert_int_equal(a->u.leave.size, b->u.leave.size);
        assert_int_equal(a->u.leave.left, b->u.leave.left);
        assert_int_equal(a->u.leave.fin_stop, b->u.leave.fin_stop);
        assert_int_equal(a->u.leave.fin_end, b->u.leave.fin_end);
        assert_int_equal(a->u.leave.neutral_from, b->u.leave.neutral_from);
        if (a->u.leave.size > 0) {
            assert_memory_equal(a->u.leave.data, b->u.leave.data, a->u.leave.size);
        }
        break;
    case RN_MSG_FINISH:
        assert_int_equal(a->u.finish.tag, b->u.finish.tag);
        assert_int_equal(a->u.finish.stop, b->u.finish.stop);
        assert_int_equal(a->u.finish.inputs_end, b->u.finish.inputs_end);
        assert_int_equal(a->u.finish.done, b->u.finish.done);
        break;
    case RN_MSG_AUTH:
        assert_memory_equal(a->u.auth.proof, b->u.auth.proof, RN_AUTH_BYTES);
        break;
    case RN_MSG_READY:
        assert_int_equal(a->u.ready.elapsed_ms, b->u.ready.elapsed_ms);
        break;
    case RN_MSG_INTRO:
        assert_int_equal(a->u.intro.tag, b->u.intro.tag);
        assert_int_equal(a->u.intro.player_mask, b->u.intro.player_mask);
        assert_int_equal(a->u.intro.address_len, b->u.intro.address_len);
        assert_memory_equal(a->u.intro.address, b->u.intro.address, a->u.intro.address_len);
        break;
    case RN_MSG_INTRO_ASK:
        assert_int_equal(a->u.intro_ask.tag, b->u.intro_ask.tag);
        assert_int_equal(a->u.intro_ask.player_mask, b->u.intro_ask.player_mask);
        break;
    case RN_MSG_RESUME:
        assert_int_equal(a->u.resume.kind, b->u.resume.kind);
        assert_true(a->u.resume.nonce == b->u.resume.nonce);
        assert_true(a->u.resume.peer_nonce == b->u.resume.peer_nonce);
        assert_int_equal(a->u.resume.player_mask, b->u.resume.player_mask);
        assert_true(a->u.resume.challenge == b->u.resume.challenge);
        assert_int_equal(a->u.resume.has_proof, b->u.resume.has_proof);
        if (a->u.resume.has_proof) {
            assert_memory_equal(a->u.resume.proof, b->u.resume.proof, RN_AUTH_BYTES);
        }
        break;
    case RN_MSG_ABSENT:
        assert_int_equal(a->u.absent.tag, b->u.absent.tag);
        assert_int_equal(a->u.absent.player_mask, b->u.absent.player_mask);
        assert_true(a->u.absent.nonce == b->u.absent.nonce);
        assert_int_equal(a->u.absent.last_frame, b->u.absent.last_frame);
        assert_int_equal(a->u.absent.neutral_from, b->u.absent.neutral_from);
        assert_int_equal(a->u.absent.survivors, b->u.absent.survivors);
        assert_int_equal(a->u.absent.count, b->u.absent.count);
        assert_int_equal(a->u.absent.size, b->u.absent.size);
        if (a->u.absent.size > 0) {
            assert_memory_equal(a->u.absent.data, b->u.absent.data, a->u.absent.size);
        }
        break;
    default: /* the spectator's messages: tests/unit/test_state_transfer.c */
        fail_msg("unexpected message type %d", (int)a->type);
    }
}

/* Encode, decode, compare; returns the encoded size. */
static size_t round_trip(rn_decoder *d, const rn_msg *m, int block_size)
{
    uint8_t buf[RN_MAX_MESSAGE];
    size_t n = rn_encode(m, block_size, buf, sizeof buf);
    assert_true(n > 0);
    rn_msg back;
    memset(&back, 0xa5, sizeof back);
    assert_int_equal(rn_decode(d, buf, n, block_size, &back), RN_DECODE_OK);
    assert_msg_equal(m, &back, block_size);
    return n;
}

/* {"max_steps": 450, "map": "arena"} */
static const uint8_t k_params[] = { 0x82, 0xa9, 'm', 'a', 'x', '_', 's', 't', 'e', 'p', 's',
                                    0xcd, 0x01, 0xc2, 0xa3, 'm', 'a', 'p', 0xa5, 'a', 'r',
                                    'e', 'n', 'a' };

static rn_msg valid_hello(void)
{
    rn_msg m = { .type = RN_MSG_HELLO };
    m.u.hello = (rn_hello){ .version = RN_PROTOCOL_VERSION, .nonce = 0x0123456789abcdefull,
                            .num_players = 2, .input_size = 1, .input_delay = 2, .fps = 60,
                            .max_prediction = 8, .checksum_interval = 30, .game_id = 77,
                            .seed = 99, .player_mask = 0x2, .game_params = k_params,
                            .game_params_size = sizeof k_params };
    return m;
}

/* A message as a list of typed msgpack values, for building what a
 * misbehaving peer could send. */
typedef enum vkind { V_UINT, V_INT, V_BOOL, V_BIN, V_STR, V_NIL, V_FLOAT, V_ARRAY } vkind;

typedef struct tval {
    vkind k;
    uint64_t u;
    int64_t i;
    const uint8_t *bin;
    size_t len;
} tval;

#define U(x) ((tval){ .k = V_UINT, .u = (x) })
#define I(x) ((tval){ .k = V_INT, .i = (x) })
#define B(x) ((tval){ .k = V_BOOL, .u = (x) })
#define BIN(p, n) ((tval){ .k = V_BIN, .bin = (p), .len = (n) })
#define STR(p, n) ((tval){ .k = V_STR, .bin = (const uint8_t *)(p), .len = (n) })

typedef struct fixed_out {
    uint8_t *buf;
    size_t cap, len;
} fixed_out;

static int fixed_write(void *data, const char *buf, size_t len)
{
    fixed_out *o = data;
    if (len > o->cap - o->len) {
        return -1;
    }
    if (len > 0) {
        memcpy(o->buf + o->len, buf, len);
        o->len += len;
    }
    return 0;
}

static size_t pack_values(const tval *v, int n, uint8_t *out, size_t cap)
{
    fixed_out o = { out, cap, 0 };
    msgpack_packer pk;
    msgpack_packer_init(&pk, &o, fixed_write);
    int r = msgpack_pack_array(&pk, (size_t)n);
    for (int i = 0; i < n; i++) {
        switch (v[i].k) {
        case V_UINT: r |= msgpack_pack_uint64(&pk, v[i].u); break;
        case V_INT: r |= msgpack_pack_int64(&pk, v[i].i); break;
        case V_BOOL: r |= v[i].u ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk); break;
        case V_BIN:
            r |= msgpack_pack_bin(&pk, v[i].len);
            r |= msgpack_pack_bin_body(&pk, v[i].bin, v[i].len);
            break;
        case V_STR:
            r |= v[i].bin ? msgpack_pack_str_with_body(&pk, v[i].bin, v[i].len)
                          : msgpack_pack_str_with_body(&pk, "x", 1);
            break;
        case V_NIL: r |= msgpack_pack_nil(&pk); break;
        case V_FLOAT: r |= msgpack_pack_double(&pk, 1.0); break;
        case V_ARRAY: r |= msgpack_pack_array(&pk, 1) | msgpack_pack_uint8(&pk, 1); break;
        }
    }
    assert_int_equal(r, 0);
    return o.len;
}

static const uint8_t k_one_frame[] = { 0x05 }; /* one literal byte: one 1-byte frame */

/* Valid baselines as value lists (block size 1 for INPUT). */
#define HELLO_N 15
#define REFUSE_N 5
#define INPUT_N 8
#define CHECKSUM_N 5
#define LOADING_N 5
#define ABSENT_N 9

/* The types baseline() knows. */
static const int k_baseline_types[] = { RN_MSG_HELLO,    RN_MSG_REFUSE,  RN_MSG_INPUT,
                                        RN_MSG_CHECKSUM, RN_MSG_LOADING, RN_MSG_ABSENT };
#define BASELINE_TYPES (int)(sizeof k_baseline_types / sizeof k_baseline_types[0])

static int baseline(int type, tval *v)
{
    switch (type) {
    case RN_MSG_HELLO: {
        tval h[HELLO_N] = { U(1), U(RN_PROTOCOL_VERSION), U(12345), I(2), I(1), I(2), I(60),
                            I(8), I(-1), U(7), U(8), U(1), BIN(k_params, sizeof k_params), B(0), B(0) };
        memcpy(v, h, sizeof h);
        return HELLO_N;
    }
    case RN_MSG_REFUSE: {
        tval r[REFUSE_N] = { U(2), U(3), I(-4), I(5), STR("", 0) };
        memcpy(v, r, sizeof r);
        return REFUSE_N;
    }
    case RN_MSG_INPUT: {
        tval in[INPUT_N] = { U(3), U(0x1234), I(0), I(10), I(1), I(-2),
                             BIN(k_one_frame, sizeof k_one_frame), I(2) };
        memcpy(v, in, sizeof in);
        return INPUT_N;
    }
    case RN_MSG_CHECKSUM: {
        tval c[CHECKSUM_N] = { U(4), U(9), I(0), I(100), U(0xdeadbeefull) };
        memcpy(v, c, sizeof c);
        return CHECKSUM_N;
    }
    case RN_MSG_ABSENT: { /* player 1, confirmed to 10, one frame carried, nothing neutral */
        tval a[ABSENT_N] = { U(RN_MSG_ABSENT), U(9), U(2), I(10), I(1),
                             BIN(k_one_frame, sizeof k_one_frame), U(0x1001), I(-1), U(5) };
        memcpy(v, a, sizeof a);
        return ABSENT_N;
    }
    default: {
        tval l[LOADING_N] = { U(5), U(9), B(1), U(60000), I(40) };
        memcpy(v, l, sizeof l);
        return LOADING_N;
    }
    }
}

static rn_decode_result decode_values(rn_decoder *d, const tval *v, int n, int block_size)
{
    uint8_t buf[RN_MAX_MESSAGE + 64];
    size_t len = pack_values(v, n, buf, sizeof buf);
    rn_msg m;
    return rn_decode(d, buf, len, block_size, &m);
}

/* ---- round trips -------------------------------------------------------- */

static void hello_round_trips_with_edge_values(void **state)
{
    rn_msg m = valid_hello();
    round_trip(*state, &m, 0);

    m.u.hello = (rn_hello){ .version = 0, .nonce = 0, .num_players = 1, .input_size = 1,
                            .input_delay = 0, .fps = 1, .max_prediction = 1,
                            .checksum_interval = ROLLNET_CHECKSUMS_OFF, .game_id = 0,
                            .seed = 0, .player_mask = 1 };
    round_trip(*state, &m, 0);

    m.u.hello = (rn_hello){ .version = UINT32_MAX, .nonce = UINT64_MAX,
                            .num_players = ROLLNET_MAX_PLAYERS,
                            .input_size = ROLLNET_MAX_INPUT_SIZE,
                            .input_delay = ROLLNET_MAX_INPUT_DELAY, .fps = 1000,
                            .max_prediction = 64, .checksum_interval = 65535,
                            .game_id = UINT64_MAX, .seed = UINT64_MAX,
                            .player_mask = (1u << ROLLNET_MAX_PLAYERS) - 1 };
    round_trip(*state, &m, 0);
    m.u.hello.checksum_interval = 1;
    round_trip(*state, &m, 0);
}

static void hello_round_trips_its_key_flag(void **state)
{
    rn_msg m = valid_hello();
    m.u.hello.keyed = true;
    round_trip(*state, &m, 0);
    m.u.hello.keyed = false;
    round_trip(*state, &m, 0);
    m.u.hello.rejoin = true;
    round_trip(*state, &m, 0);
}

static void auth_round_trips_any_proof(void **state)
{
    rn_msg m = { .type = RN_MSG_AUTH };
    round_trip(*state, &m, 0); /* all zero */
    memset(m.u.auth.proof, 0xff, RN_AUTH_BYTES);
    round_trip(*state, &m, 0);
    for (int i = 0; i < RN_AUTH_BYTES; i++) {
        m.u.auth.proof[i] = (uint8_t)(i * 37 + 1);
    }
    size_t n = round_trip(*state, &m, 0);
    assert_int_equal(n, 1 + 1 + 2 + RN_AUTH_BYTES); /* fixarray, type, bin8 header, proof */
}

/* A proof is exactly RN_AUTH_BYTES of bin; the message exactly two elements. */
static void auth_decode_rejects_anything_but_a_full_proof(void **state)
{
    uint8_t proof[RN_AUTH_BYTES + 1] = { 0 };
    tval v[3] = { U(RN_MSG_AUTH), BIN(proof, RN_AUTH_BYTES), U(0) };
    assert_int_equal(decode_values(*state, v, 2, 0), RN_DECODE_OK);
    const size_t sizes[] = { 0, 1, RN_AUTH_BYTES - 1, RN_AUTH_BYTES + 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        v[1] = BIN(proof, sizes[i]);
        assert_int_equal(decode_values(*state, v, 2, 0), RN_DECODE_MALFORMED);
    }
    static const vkind wrong[] = { V_UINT, V_INT, V_BOOL, V_STR, V_NIL, V_FLOAT, V_ARRAY };
    for (size_t w = 0; w < sizeof wrong / sizeof wrong[0]; w++) {
        v[1] = (tval){ .k = wrong[w], .u = 1, .i = -1 };
        assert_int_equal(decode_values(*state, v, 2, 0), RN_DECODE_MALFORMED);
    }
    v[1] = BIN(proof, RN_AUTH_BYTES);
    assert_int_equal(decode_values(*state, v, 1, 0), RN_DECODE_MALFORMED);
    assert_int_equal(decode_values(*state, v, 3, 0), RN_DECODE_MALFORMED);
}

static void refuse_round_trips_with_extreme_values(void **state)
{
    rn_msg m = { .type = RN_MSG_REFUSE };
    m.u.refuse = (rn_refuse){ ROLLNET_PARAM_PROTOCOL_VERSION, INT64_MIN, INT64_MAX, "" };
    round_trip(*state, &m, 0);
    m.u.refuse = (rn_refuse){ ROLLNET_PARAM_PLAYERS, 0, -1, "" };
    round_trip(*state, &m, 0);
    /* GAME_PARAMS names the key; the values say which side has it. */
    m.u.refuse = (rn_refuse){ ROLLNET_PARAM_GAME_PARAMS, 1, 0, "max_steps" };
    round_trip(*state, &m, 0);
    m.u.refuse = (rn_refuse){ ROLLNET_PARAM_GAME_PARAMS, 1, 1, "0123456789abcdef0123456789abcde" };
    round_trip(*state, &m, 0);
}

static void input_round_trips_with_edge_frames_and_advantages(void **state)
{
    static uint8_t inputs[BIG_INPUTS];
    uint64_t s = 1;
    for (size_t i = 0; i < sizeof inputs; i++) {
        inputs[i] = (uint8_t)((rng_next(&s) & 7) == 0 ? rng_next(&s) : 0);
    }
    rn_msg m = { .type = RN_MSG_INPUT };
    m.u.input = (rn_input){ .tag = 0xffff, .episode = RN_MAX_FRAME, .ack_frame = -1,
                            .start_frame = 0, .count = 3, .frame_advantage = INT8_MIN,
                            .delay = ROLLNET_MAX_INPUT_DELAY, .inputs = inputs };
    round_trip(*state, &m, 1);

    m.u.input = (rn_input){ .tag = 0, .episode = 0, .ack_frame = RN_MAX_FRAME,
                            .start_frame = RN_MAX_FRAME, .count = 1,
                            .frame_advantage = INT8_MAX, .inputs = inputs };
    round_trip(*state, &m, 4);

    /* The last frame carried is the last frame allowed. */
    m.u.input = (rn_input){ .tag = 7, .episode = 3, .ack_frame = 0,
                            .start_frame = RN_MAX_FRAME - RN_MAX_INPUT_FRAMES + 1,
                            .count = RN_MAX_INPUT_FRAMES, .frame_advantage = 0,
                            .inputs = inputs };
    round_trip(*state, &m, 1);

    /* A start far behind the ack (a resend after the ack moved on). */
    m.u.input = (rn_input){ .tag = 7, .episode = 3, .ack_frame = RN_MAX_FRAME,
                            .start_frame = 0, .count = 2, .inputs = inputs };
    round_trip(*state, &m, 2);

    /* Widest block at a size that still fits: all-zero inputs compress to runs. */
    static const uint8_t zeros[BIG_INPUTS];
    m.u.input = (rn_input){ .tag = 1, .episode = 1, .ack_frame = 100, .start_frame = 90,
                            .count = RN_MAX_INPUT_FRAMES, .inputs = zeros };
    round_trip(*state, &m, BLOCK_MAX);
}

static void input_without_frames_decodes_with_start_at_ack(void **state)
{
    rn_msg m = { .type = RN_MSG_INPUT };
    m.u.input = (rn_input){ .tag = 5, .episode = 2, .ack_frame = 40, .start_frame = 1000,
                            .count = 0, .frame_advantage = -3, .delay = 5, .inputs = NULL };
    uint8_t buf[64];
    size_t n = rn_encode(&m, 1, buf, sizeof buf);
    assert_true(n > 0);
    rn_msg back;
    assert_int_equal(rn_decode(*state, buf, n, 1, &back), RN_DECODE_OK);
    assert_int_equal(back.u.input.count, 0);
    assert_int_equal(back.u.input.start_frame, 40);
    assert_int_equal(back.u.input.frame_advantage, -3);
    assert_int_equal(back.u.input.delay, 5);
}

static void checksum_round_trips_with_edge_values(void **state)
{
    rn_msg m = { .type = RN_MSG_CHECKSUM };
    m.u.checksum = (rn_checksum){ 0xffff, RN_MAX_FRAME, RN_MAX_FRAME, UINT64_MAX };
    round_trip(*state, &m, 0);
    m.u.checksum = (rn_checksum){ 0, 0, 0, 0 };
    round_trip(*state, &m, 0);
    /* No snapshot has a negative frame: such a checksum is out of range. */
    uint8_t buf[64];
    m.u.checksum = (rn_checksum){ 0, 0, -1, 0 };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof(buf)), 0);
}

static void loading_round_trips_both_ways(void **state)
{
    rn_msg m = { .type = RN_MSG_LOADING };
    m.u.loading = (rn_loading){ 0xffff, true, UINT32_MAX, RN_MAX_FRAME };
    round_trip(*state, &m, 0);
    m.u.loading = (rn_loading){ 1, false, 0, -1 };
    round_trip(*state, &m, 0);
}

static void leave_round_trips_and_checks_its_fields(void **state)
{
    uint8_t inputs[6] = {1, 1, 2, 2, 2, 0};
    uint8_t packed[64];
    size_t packed_len = 0;
    assert_true(rn_inputs_compress(inputs, 6, 1, packed, sizeof packed, &packed_len));
    rn_msg m = { .type = RN_MSG_LEAVE };
    m.u.leave = (rn_leave){ 0x1234, 1u << 2, 100, 6, packed, packed_len, false, -1, -1, -1 };
    round_trip(*state, &m, 0);
    m.u.leave = (rn_leave){ 1, 1u, -1, 0, NULL, 0, true, 450, 452, -1 };
    round_trip(*state, &m, 0);
    uint8_t buf[RN_MAX_MESSAGE];
    m.u.leave = (rn_leave){ 1, 0, 10, 1, packed, packed_len, false, -1, -1, -1 }; /* no player */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.leave = (rn_leave){ 1, 1u << ROLLNET_MAX_PLAYERS, 10, 1, packed, packed_len, false, -1, -1, -1 };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.leave = (rn_leave){ 1, 1u, 3, 5, packed, packed_len, false, -1, -1, -1 }; /* more frames than exist */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.leave = (rn_leave){ 1, 1u, 10, RN_MAX_INPUT_FRAMES + 1, packed, packed_len, false, -1, -1, -1 };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    /* A FINISH whose inputs end before its stop, or half given. */
    m.u.leave = (rn_leave){ 1, 1u, 10, 1, packed, packed_len, false, 20, 19, -1 };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.leave = (rn_leave){ 1, 1u, 10, 1, packed, packed_len, false, 20, -1, -1 };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    /* neutral_from: the first frame played neutral, at most last + 1. */
    m.u.leave = (rn_leave){ 1, 1u << 2, 100, 6, packed, packed_len, false, -1, -1, 90 };
    round_trip(*state, &m, 0);
    m.u.leave = (rn_leave){ 1, 1u << 2, 100, 6, packed, packed_len, false, -1, -1, 101 };
    round_trip(*state, &m, 0);
    m.u.leave = (rn_leave){ 1, 1u << 2, 100, 6, packed, packed_len, false, -1, -1, 102 };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.leave = (rn_leave){ 1, 1u << 2, 100, 6, packed, packed_len, false, -1, -1, -2 };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
}

static void ready_round_trips_and_checks_its_field(void **state)
{
    rn_msg m = { .type = RN_MSG_READY };
    m.u.ready.elapsed_ms = 0;
    assert_int_equal(round_trip(*state, &m, 0), 3);
    m.u.ready.elapsed_ms = UINT32_MAX;
    round_trip(*state, &m, 0);
    tval v[3] = { U(RN_MSG_READY), U(16), U(1) };
    assert_int_equal(decode_values(*state, v, 2, 0), RN_DECODE_OK);
    assert_int_equal(decode_values(*state, v, 1, 0), RN_DECODE_MALFORMED);
    assert_int_equal(decode_values(*state, v, 3, 0), RN_DECODE_MALFORMED);
    v[1] = I(-1);
    assert_int_equal(decode_values(*state, v, 2, 0), RN_DECODE_MALFORMED);
}

static void intro_round_trips_and_checks_its_fields(void **state)
{
    rn_msg m = { .type = RN_MSG_INTRO };
    m.u.intro.tag = 0x1234;
    m.u.intro.player_mask = 1u << 2 | 1u << 3;
    m.u.intro.address = "127.0.0.1:7001";
    m.u.intro.address_len = 14;
    round_trip(*state, &m, 0);
    static char longest_text[RN_INTRO_ADDRESS_MAX + 1];
    memset(longest_text, 'a', sizeof longest_text);
    m.u.intro.address = longest_text;
    m.u.intro.address_len = RN_INTRO_ADDRESS_MAX; /* the longest */
    round_trip(*state, &m, 0);
    uint8_t buf[RN_MAX_MESSAGE];
    m.u.intro.player_mask = 0; /* nobody */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.intro.player_mask = 1u << ROLLNET_MAX_PLAYERS; /* no such player */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.intro.player_mask = 1;
    m.u.intro.address_len = 0; /* no address */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.intro.address_len = RN_INTRO_ADDRESS_MAX + 1; /* too long */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.intro.address = "mem\0:3"; /* a NUL inside */
    m.u.intro.address_len = 6;
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.intro.address = NULL;
    m.u.intro.address_len = 5;
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);

    static const char addr[] = "mem:3";
    static char longest[RN_INTRO_ADDRESS_MAX + 1];
    memset(longest, 'x', sizeof longest);
    tval v[5] = { U(RN_MSG_INTRO), U(7), U(4), STR(addr, 5), U(1) };
    assert_int_equal(decode_values(*state, v, 4, 0), RN_DECODE_OK);
    assert_int_equal(decode_values(*state, v, 3, 0), RN_DECODE_MALFORMED);
    assert_int_equal(decode_values(*state, v, 5, 0), RN_DECODE_MALFORMED);
    v[1] = U(65536); /* a tag is 16 bits */
    assert_int_equal(decode_values(*state, v, 4, 0), RN_DECODE_MALFORMED);
    v[1] = U(7);
    v[2] = U(0);
    assert_int_equal(decode_values(*state, v, 4, 0), RN_DECODE_MALFORMED);
    v[2] = U(1u << ROLLNET_MAX_PLAYERS);
    assert_int_equal(decode_values(*state, v, 4, 0), RN_DECODE_MALFORMED);
    v[2] = I(-1);
    assert_int_equal(decode_values(*state, v, 4, 0), RN_DECODE_MALFORMED);
    v[2] = U(4);
    v[3] = STR(addr, 0); /* empty */
    assert_int_equal(decode_values(*state, v, 4, 0), RN_DECODE_MALFORMED);
    v[3] = STR("mem\0:3", 6); /* a NUL inside */
    assert_int_equal(decode_values(*state, v, 4, 0), RN_DECODE_MALFORMED);
    v[3] = BIN((const uint8_t *)addr, 5); /* not a str */
    assert_int_equal(decode_values(*state, v, 4, 0), RN_DECODE_MALFORMED);
    v[3] = STR(longest, RN_INTRO_ADDRESS_MAX);
    assert_int_equal(decode_values(*state, v, 4, 0), RN_DECODE_OK);
    v[3] = STR(longest, RN_INTRO_ADDRESS_MAX + 1); /* longer than a peer's address */
    assert_int_equal(decode_values(*state, v, 4, 0), RN_DECODE_MALFORMED);
}

static void intro_ask_round_trips_and_checks_its_fields(void **state)
{
    rn_msg m = { .type = RN_MSG_INTRO_ASK };
    m.u.intro_ask.tag = 0xbeef;
    m.u.intro_ask.player_mask = (1u << ROLLNET_MAX_PLAYERS) - 1;
    round_trip(*state, &m, 0);
    uint8_t buf[RN_MAX_MESSAGE];
    m.u.intro_ask.player_mask = 0;
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.intro_ask.player_mask = 1u << ROLLNET_MAX_PLAYERS;
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    tval v[4] = { U(RN_MSG_INTRO_ASK), U(7), U(6), U(1) };
    assert_int_equal(decode_values(*state, v, 3, 0), RN_DECODE_OK);
    assert_int_equal(decode_values(*state, v, 2, 0), RN_DECODE_MALFORMED);
    assert_int_equal(decode_values(*state, v, 4, 0), RN_DECODE_MALFORMED);
    v[1] = U(65536);
    assert_int_equal(decode_values(*state, v, 3, 0), RN_DECODE_MALFORMED);
    v[1] = U(7);
    v[2] = U(0);
    assert_int_equal(decode_values(*state, v, 3, 0), RN_DECODE_MALFORMED);
    v[2] = U(1u << ROLLNET_MAX_PLAYERS);
    assert_int_equal(decode_values(*state, v, 3, 0), RN_DECODE_MALFORMED);
    v[2] = B(1);
    assert_int_equal(decode_values(*state, v, 3, 0), RN_DECODE_MALFORMED);
}

static void resume_round_trips_and_checks_its_fields(void **state)
{
    rn_msg m = { .type = RN_MSG_RESUME };
    m.u.resume = (rn_resume){ RN_RESUME_CLAIM, UINT64_MAX, 1, 1u, 0, { 0 }, false };
    round_trip(*state, &m, 0);
    m.u.resume = (rn_resume){ RN_RESUME_CHALLENGE, 7, 9, 6u, 42, { 0 }, false };
    round_trip(*state, &m, 0);
    m.u.resume = (rn_resume){ RN_RESUME_PROOF, 7, 9, 6u, 42, { 0 }, true };
    memset(m.u.resume.proof, 0xab, RN_AUTH_BYTES);
    round_trip(*state, &m, 0);
    m.u.resume = (rn_resume){ RN_RESUME_ACCEPT, 7, 9, 1u, 0, { 0 }, false };
    round_trip(*state, &m, 0);
    uint8_t buf[RN_MAX_MESSAGE];
    /* Out of range: the kind, no players, players past the maximum, a
     * challenge in a claim, a proof anywhere but in a PROOF. */
    m.u.resume = (rn_resume){ RN_RESUME_KINDS_, 7, 9, 1u, 0, { 0 }, false };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.resume = (rn_resume){ RN_RESUME_CLAIM, 7, 9, 0u, 0, { 0 }, false };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.resume = (rn_resume){ RN_RESUME_CLAIM, 7, 9, 1u << ROLLNET_MAX_PLAYERS, 0, { 0 }, false };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.resume = (rn_resume){ RN_RESUME_CLAIM, 7, 9, 1u, 5, { 0 }, false };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.resume = (rn_resume){ RN_RESUME_ACCEPT, 7, 9, 1u, 0, { 0 }, true };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    /* The decoder: element count, the kind's range, the proof's length. */
    static const uint8_t proof[RN_AUTH_BYTES + 1];
    tval v[8] = { U(RN_MSG_RESUME), U(2), U(7), U(9), U(1), U(3), BIN(proof, RN_AUTH_BYTES),
                  U(0) };
    assert_int_equal(decode_values(*state, v, 7, 0), RN_DECODE_OK);
    assert_int_equal(decode_values(*state, v, 6, 0), RN_DECODE_MALFORMED);
    assert_int_equal(decode_values(*state, v, 8, 0), RN_DECODE_MALFORMED);
    v[6].len = RN_AUTH_BYTES + 1;
    assert_int_equal(decode_values(*state, v, 7, 0), RN_DECODE_MALFORMED);
    v[6].len = 0;
    assert_int_equal(decode_values(*state, v, 7, 0), RN_DECODE_OK);
    v[1] = U(RN_RESUME_KINDS_);
    assert_int_equal(decode_values(*state, v, 7, 0), RN_DECODE_MALFORMED);
    v[1] = I(-1);
    assert_int_equal(decode_values(*state, v, 7, 0), RN_DECODE_MALFORMED);
}

static void finish_round_trips_and_checks_its_fields(void **state)
{
    rn_msg m = { .type = RN_MSG_FINISH };
    m.u.finish = (rn_finish){ 0x1234, 450, 452, false };
    round_trip(*state, &m, 0);
    m.u.finish = (rn_finish){ 1, 0, 0, true };
    round_trip(*state, &m, 0);
    uint8_t buf[RN_MAX_MESSAGE];
    m.u.finish = (rn_finish){ 1, 10, 9, false }; /* inputs end before the stop */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.finish = (rn_finish){ 1, -1, 9, false };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.finish = (rn_finish){ 1, 0, RN_MAX_FRAME + 1, false };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
}

/* ABSENT carries the inputs up to neutral_from - 1 (or last_frame when
 * nothing was played neutral); both sides refuse a note that carries more
 * frames than that, names nobody or players past the maximum, or plays
 * neutral from past last_frame + 1. */
static void absent_round_trips_and_checks_its_fields(void **state)
{
    uint8_t inputs[6] = { 1, 1, 2, 2, 2, 0 };
    uint8_t packed[64];
    size_t packed_len = 0;
    assert_true(rn_inputs_compress(inputs, 6, 1, packed, sizeof packed, &packed_len));
    rn_msg m = { .type = RN_MSG_ABSENT };
    /* tag, mask, nonce, last, neutral_from, count, data, size */
    m.u.absent = (rn_absent){ 0x1234, 1u << 2, 0, 100, -1, 6, packed, packed_len, 7u };
    round_trip(*state, &m, 0);
    m.u.absent = (rn_absent){ 1, 1u << 3, UINT64_MAX, 100, 90, 6, packed, packed_len, 7u };
    round_trip(*state, &m, 0); /* carried to 89 */
    m.u.absent = (rn_absent){ 1, 1u, 7, 100, 101, 6, packed, packed_len, 7u };
    round_trip(*state, &m, 0); /* neutral from the frame after the last: allowed */
    m.u.absent = (rn_absent){ 1, 1u, 0, -1, -1, 0, NULL, 0, 7u };
    round_trip(*state, &m, 0); /* nothing confirmed, nothing carried */
    m.u.absent = (rn_absent){ 1, 1u, 0, 5, 0, 0, NULL, 0, 7u };
    round_trip(*state, &m, 0); /* neutral from frame 0: nothing to carry */
    m.u.absent = (rn_absent){ 1, (1u << ROLLNET_MAX_PLAYERS) - 1, 0, 5, 3, 3, packed, packed_len, 7u };
    round_trip(*state, &m, 0); /* frames 0..2 carried, exactly as many as there are */
    uint8_t buf[RN_MAX_MESSAGE];
    m.u.absent = (rn_absent){ 1, 1u, 0, 100, 102, 6, packed, packed_len, 7u }; /* past last + 1 */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.absent = (rn_absent){ 1, 1u, 0, 100, -2, 6, packed, packed_len, 7u };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.absent = (rn_absent){ 1, 1u, 0, 5, 3, 4, packed, packed_len, 7u }; /* frames 0..2 only */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.absent = (rn_absent){ 1, 1u, 0, 5, -1, 7, packed, packed_len, 7u }; /* frames 0..5 only */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.absent = (rn_absent){ 1, 1u, 0, 5, 0, 1, packed, packed_len, 7u }; /* neutral from 0 */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.absent = (rn_absent){ 1, 0, 0, 100, -1, 6, packed, packed_len, 7u }; /* no player */
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.absent = (rn_absent){ 1, 1u << ROLLNET_MAX_PLAYERS, 0, 100, -1, 6, packed, packed_len, 7u };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.absent = (rn_absent){ 1, 1u, 0, 100, -1, RN_MAX_INPUT_FRAMES + 1, packed, packed_len, 7u };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.absent = (rn_absent){ 1, 1u, 0, -2, -1, 0, NULL, 0, 7u };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.absent = (rn_absent){ 1, 1u, 0, 5, -1, 0, NULL, 0, 1u << ROLLNET_MAX_PLAYERS };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0); /* survivors out of range */
    /* The decoder, from the baseline (player 1, confirmed to 10, one frame). */
    tval v[ABSENT_N + 1];
    assert_int_equal(baseline(RN_MSG_ABSENT, v), ABSENT_N);
    assert_int_equal(decode_values(*state, v, ABSENT_N, 0), RN_DECODE_OK);
    v[7] = I(3); /* neutral from 3: frames 0..2 carried, one of them is enough */
    assert_int_equal(decode_values(*state, v, ABSENT_N, 0), RN_DECODE_OK);
    v[4] = I(3);
    assert_int_equal(decode_values(*state, v, ABSENT_N, 0), RN_DECODE_OK);
    v[4] = I(4); /* more than frames 0..2 */
    assert_int_equal(decode_values(*state, v, ABSENT_N, 0), RN_DECODE_MALFORMED);
    v[4] = I(0);
    v[7] = I(0);
    assert_int_equal(decode_values(*state, v, ABSENT_N, 0), RN_DECODE_OK);
    v[4] = I(1); /* neutral from frame 0, yet a frame carried */
    assert_int_equal(decode_values(*state, v, ABSENT_N, 0), RN_DECODE_MALFORMED);
    v[4] = I(1);
    v[7] = I(11); /* last_frame + 1 */
    assert_int_equal(decode_values(*state, v, ABSENT_N, 0), RN_DECODE_OK);
    v[7] = I(12);
    assert_int_equal(decode_values(*state, v, ABSENT_N, 0), RN_DECODE_MALFORMED);
    v[7] = I(-1);
    v[2] = U(0);
    assert_int_equal(decode_values(*state, v, ABSENT_N, 0), RN_DECODE_MALFORMED);
    v[2] = U(1u << ROLLNET_MAX_PLAYERS);
    assert_int_equal(decode_values(*state, v, ABSENT_N, 0), RN_DECODE_MALFORMED);
    v[2] = U((1u << ROLLNET_MAX_PLAYERS) - 1);
    assert_int_equal(decode_values(*state, v, ABSENT_N, 0), RN_DECODE_OK);
}

/* ---- compression -------------------------------------------------------- */

static void fill_inputs(uint8_t *buf, int count, int bs, uint64_t *s, int style)
{
    for (int f = 0; f < count; f++) {
        for (int j = 0; j < bs; j++) {
            uint8_t *b = &buf[f * bs + j];
            if (style == 0) {
                *b = (uint8_t)rng_next(s); /* noise */
            } else if (f > 0 && rng_next(s) % 8 != 0) {
                *b = buf[(f - 1) * bs + j]; /* a held button, as players do */
            } else {
                *b = (uint8_t)(rng_next(s) & 0x1f);
            }
        }
    }
}

static void inputs_compression_round_trips_random_inputs(void **state)
{
    (void)state;
    static const int sizes[] = { 1, 2, 8, 64 };
    static uint8_t in[RN_MAX_INPUT_FRAMES * 64];
    static uint8_t packed[RN_MAX_INPUT_FRAMES * 64 * 2];
    static uint8_t out[RN_MAX_INPUT_FRAMES * 64];
    uint64_t s = 42;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int bs = sizes[k];
        for (int count = 1; count <= RN_MAX_INPUT_FRAMES; count++) {
            for (int style = 0; style < 2; style++) {
                fill_inputs(in, count, bs, &s, style);
                size_t len = 0, measured = 0;
                assert_true(rn_inputs_compress(in, count, bs, packed, sizeof packed, &len));
                assert_true(rn_inputs_compress(in, count, bs, NULL, 0, &measured));
                assert_int_equal(len, measured);
                memset(out, 0xcc, sizeof out);
                assert_int_equal(rn_inputs_decompress(packed, len, bs, out, RN_MAX_INPUT_FRAMES),
                                 count);
                assert_memory_equal(in, out, (size_t)count * (size_t)bs);
            }
        }
    }
}

static void input_message_round_trips_whenever_it_fits(void **state)
{
    static const int sizes[] = { 1, 2, 8, 64 };
    static uint8_t in[RN_MAX_INPUT_FRAMES * 64];
    uint64_t s = 7;
    int fitted = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int bs = sizes[k];
        for (int count = 1; count <= RN_MAX_INPUT_FRAMES; count++) {
            for (int style = 0; style < 2; style++) {
                fill_inputs(in, count, bs, &s, style);
                rn_msg m = { .type = RN_MSG_INPUT };
                m.u.input = (rn_input){ .tag = 0xbeef, .episode = 1, .ack_frame = 1000,
                                        .start_frame = 1001, .count = count,
                                        .frame_advantage = 2, .inputs = in };
                uint8_t buf[RN_MAX_MESSAGE];
                size_t n = rn_encode(&m, bs, buf, sizeof buf);
                size_t packed = 0;
                assert_true(rn_inputs_compress(in, count, bs, NULL, 0, &packed));
                if (n == 0) {
                    /* Only a payload near the message limit may fail to fit. */
                    assert_true(packed > RN_MAX_MESSAGE - 32);
                    continue;
                }
                assert_true(n <= RN_MAX_MESSAGE);
                round_trip(*state, &m, bs);
                fitted++;
            }
        }
    }
    /* Every 1-byte case and every held-button case fits. */
    assert_true(fitted >= 2 * RN_MAX_INPUT_FRAMES + 3 * RN_MAX_INPUT_FRAMES);
}

static void input_of_four_one_byte_frames_fits_in_19_bytes(void **state)
{
    static const uint8_t vals[] = { 0x00, 0x01, 0x02, 0x80, 0xff };
    size_t largest = 0;
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            for (int c = 0; c < 5; c++)
                for (int e = 0; e < 5; e++) {
                    uint8_t in[4] = { vals[a], vals[b], vals[c], vals[e] };
                    rn_msg m = { .type = RN_MSG_INPUT };
                    /* A 3-byte tag, small frames, a few unacked frames. */
                    m.u.input = (rn_input){ .tag = 0xfedc, .episode = 0, .ack_frame = 60,
                                            .start_frame = 61, .count = 4,
                                            .frame_advantage = -5, .inputs = in };
                    size_t n = round_trip(*state, &m, 1);
                    largest = n > largest ? n : largest;
                }
    assert_true(largest <= 19); /* 18 before INPUT carried the sender's delay */

    /* Steady play: the same input held gives a run. */
    uint8_t held[4] = { 0x10, 0x10, 0x10, 0x10 };
    rn_msg m = { .type = RN_MSG_INPUT };
    m.u.input = (rn_input){ .tag = 0xfedc, .ack_frame = 60, .start_frame = 61, .count = 4,
                            .delay = ROLLNET_MAX_INPUT_DELAY, .inputs = held };
    assert_true(round_trip(*state, &m, 1) <= 15);
}

static void frame_advantage_clamps_to_int8(void **state)
{
    (void)state;
    assert_int_equal(rn_clamp_advantage(1000), INT8_MAX);
    assert_int_equal(rn_clamp_advantage(-1000), INT8_MIN);
    assert_int_equal(rn_clamp_advantage(-7), -7);
}

/* ---- validation: one test per class ---------------------------------- */

static void decode_rejects_elements_of_the_wrong_type(void **state)
{
    static const vkind wrong[] = { V_BOOL, V_BIN, V_STR, V_NIL, V_FLOAT, V_ARRAY, V_INT, V_UINT };
    for (int t = 0; t < BASELINE_TYPES; t++) {
        tval v[16];
        int n = baseline(k_baseline_types[t], v);
        assert_int_equal(decode_values(*state, v, n, 1), RN_DECODE_OK);
        for (int f = 0; f < n; f++) {
            for (size_t w = 0; w < sizeof wrong / sizeof wrong[0]; w++) {
                tval save = v[f];
                /* Integers are wrong only as a negative where unsigned is
                 * expected, or as a number where a bool or bin is. */
                if (wrong[w] == save.k || (wrong[w] == V_INT && save.k != V_UINT) ||
                    (wrong[w] == V_UINT && save.k != V_BOOL && save.k != V_BIN &&
                     save.k != V_STR)) {
                    continue;
                }
                v[f] = (tval){ .k = wrong[w], .u = 1, .i = -1, .bin = k_one_frame, .len = 1 };
                assert_int_equal(decode_values(*state, v, n, 1), RN_DECODE_MALFORMED);
                v[f] = save;
            }
        }
    }
    /* Not an array at all. */
    uint8_t buf[16];
    fixed_out o = { buf, sizeof buf, 0 };
    msgpack_packer pk;
    msgpack_packer_init(&pk, &o, fixed_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_uint8(&pk, 3);
    msgpack_pack_uint8(&pk, 3);
    rn_msg m;
    assert_int_equal(rn_decode(*state, buf, o.len, 1, &m), RN_DECODE_MALFORMED);
    o.len = 0;
    msgpack_pack_uint8(&pk, 3);
    assert_int_equal(rn_decode(*state, buf, o.len, 1, &m), RN_DECODE_MALFORMED);
    assert_int_equal(rn_decode(*state, buf, 0, 1, &m), RN_DECODE_MALFORMED);
}

/* Another rollnet's HELLO, in its own layout (version 9's 14 elements, or
 * just [1, version]): only its version is read, so the handshake refuses
 * it naming the version instead of timing out on a malformed message. The
 * same layout with this version is malformed. */
static void decode_reads_the_version_of_another_rollnets_hello(void **state)
{
    tval h[17];
    int n = baseline(RN_MSG_HELLO, h);
    h[1] = U(9);
    uint8_t buf[RN_MAX_MESSAGE + 64];
    size_t len = pack_values(h, n - 1, buf, sizeof buf);
    rn_msg m;
    assert_int_equal(rn_decode(*state, buf, len, 0, &m), RN_DECODE_OK);
    assert_int_equal(m.type, RN_MSG_HELLO);
    assert_int_equal(m.u.hello.version, 9);
    assert_int_equal(m.u.hello.num_players, 0); /* nothing else is read */
    tval two[2] = { U(1), U(123) };
    len = pack_values(two, 2, buf, sizeof buf);
    assert_int_equal(rn_decode(*state, buf, len, 0, &m), RN_DECODE_OK);
    assert_int_equal(m.u.hello.version, 123);
    h[1] = U(RN_PROTOCOL_VERSION);
    assert_int_equal(decode_values(*state, h, n - 1, 0), RN_DECODE_MALFORMED);
    tval bad[2] = { U(1), I(-1) };
    assert_int_equal(decode_values(*state, bad, 2, 0), RN_DECODE_MALFORMED);
    tval one[1] = { U(1) };
    assert_int_equal(decode_values(*state, one, 1, 0), RN_DECODE_MALFORMED);
}

static void decode_rejects_the_wrong_element_count(void **state)
{
    for (int t = 0; t < BASELINE_TYPES; t++) {
        tval v[17];
        int n = baseline(k_baseline_types[t], v);
        assert_int_equal(decode_values(*state, v, n - 1, 1), RN_DECODE_MALFORMED);
        v[n] = U(0);
        assert_int_equal(decode_values(*state, v, n + 1, 1), RN_DECODE_MALFORMED);
        assert_int_equal(decode_values(*state, v, 1, 1), RN_DECODE_MALFORMED);
    }
    assert_int_equal(decode_values(*state, NULL, 0, 1), RN_DECODE_MALFORMED);

    /* HELLO is exactly 15 elements, the game parameters, `keyed`, then
     * `rejoin` last: a HELLO without `rejoin` (14, version 9's) is refused,
     * and so are version 6's (13, no `keyed`), version 2's (12, no game
     * parameters) and a 16th element. */
    tval h[17];
    assert_int_equal(baseline(RN_MSG_HELLO, h), 15);
    assert_int_equal(decode_values(*state, h, 15, 0), RN_DECODE_OK);
    h[13] = B(1);
    h[14] = B(1);
    assert_int_equal(decode_values(*state, h, 15, 0), RN_DECODE_OK);
    assert_int_equal(decode_values(*state, h, 14, 0), RN_DECODE_MALFORMED);
    assert_int_equal(decode_values(*state, h, 13, 0), RN_DECODE_MALFORMED);
    assert_int_equal(decode_values(*state, h, 12, 0), RN_DECODE_MALFORMED);
    h[15] = B(0);
    assert_int_equal(decode_values(*state, h, 16, 0), RN_DECODE_MALFORMED);
    h[12] = B(1); /* a bool where the game parameters belong */
    assert_int_equal(decode_values(*state, h, 15, 0), RN_DECODE_MALFORMED);
    /* REFUSE is exactly 5: version 2's had no key. */
    tval r[17];
    assert_int_equal(baseline(RN_MSG_REFUSE, r), 5);
    assert_int_equal(decode_values(*state, r, 4, 0), RN_DECODE_MALFORMED);
}

typedef struct range_case {
    int type;
    int field;
    tval value;
} range_case;

static void decode_rejects_values_out_of_range(void **state)
{
    const range_case cases[] = {
        { RN_MSG_HELLO, 1, U(1ull << 32) },                /* version */
        { RN_MSG_HELLO, 3, I(0) },                         /* num_players */
        { RN_MSG_HELLO, 3, I(ROLLNET_MAX_PLAYERS + 1) },
        { RN_MSG_HELLO, 4, I(0) },                         /* input_size */
        { RN_MSG_HELLO, 4, I(ROLLNET_MAX_INPUT_SIZE + 1) },
        { RN_MSG_HELLO, 5, I(-1) },                        /* input_delay */
        { RN_MSG_HELLO, 5, I(ROLLNET_MAX_INPUT_DELAY + 1) },
        { RN_MSG_HELLO, 6, I(0) },                         /* fps */
        { RN_MSG_HELLO, 6, I(1001) },
        { RN_MSG_HELLO, 7, I(0) },                         /* max_prediction */
        { RN_MSG_HELLO, 7, I(65) },
        { RN_MSG_HELLO, 8, I(-2) },                        /* checksum_interval */
        { RN_MSG_HELLO, 8, I(0) },
        { RN_MSG_HELLO, 8, I(65536) },
        { RN_MSG_HELLO, 8, I(INT64_MIN) },
        { RN_MSG_HELLO, 11, U(1u << ROLLNET_MAX_PLAYERS) }, /* player_mask (0: a spectator) */
        { RN_MSG_REFUSE, 1, U(ROLLNET_PARAM_COUNT_) },
        { RN_MSG_REFUSE, 4, STR("max_steps", 9) },         /* a key for input_delay */
        { RN_MSG_REFUSE, 2, U((uint64_t)INT64_MAX + 1) },
        { RN_MSG_INPUT, 1, U(0x10000) },                   /* tag */
        { RN_MSG_INPUT, 2, I(-1) },                        /* episode */
        { RN_MSG_INPUT, 2, I(RN_MAX_FRAME + 1ll) },
        { RN_MSG_INPUT, 3, I(-2) },                        /* ack_frame */
        { RN_MSG_INPUT, 3, I(RN_MAX_FRAME + 1ll) },
        { RN_MSG_INPUT, 4, I(-11) },                       /* start_frame = 10 - 11 */
        { RN_MSG_INPUT, 4, I(RN_MAX_FRAME) },              /* start_frame past the limit */
        { RN_MSG_INPUT, 4, I(INT64_MIN) },
        { RN_MSG_INPUT, 5, I(128) },                       /* frame_advantage */
        { RN_MSG_INPUT, 5, I(-129) },
        { RN_MSG_INPUT, 7, I(-1) },                        /* delay */
        { RN_MSG_INPUT, 7, I(ROLLNET_MAX_INPUT_DELAY + 1) },
        { RN_MSG_CHECKSUM, 1, U(0x10000) },
        { RN_MSG_CHECKSUM, 2, I(-1) },
        { RN_MSG_CHECKSUM, 3, I(-2) },
        { RN_MSG_CHECKSUM, 3, I(-1) },
        { RN_MSG_CHECKSUM, 3, I(RN_MAX_FRAME + 1ll) },
        { RN_MSG_LOADING, 1, U(0x10000) },
        { RN_MSG_LOADING, 3, U(1ull << 32) },
        { RN_MSG_LOADING, 4, I(-2) },
        { RN_MSG_LOADING, 4, I(RN_MAX_FRAME + 1ll) },
        { RN_MSG_ABSENT, 1, U(0x10000) },                  /* tag */
        { RN_MSG_ABSENT, 2, U(0) },                        /* player_mask: nobody */
        { RN_MSG_ABSENT, 2, U(1u << ROLLNET_MAX_PLAYERS) },
        { RN_MSG_ABSENT, 3, I(-2) },                       /* last_frame */
        { RN_MSG_ABSENT, 3, I(RN_MAX_FRAME + 1ll) },
        { RN_MSG_ABSENT, 4, I(-1) },                       /* count */
        { RN_MSG_ABSENT, 4, I(12) },                       /* more than frames 0..10 */
        { RN_MSG_ABSENT, 4, I(RN_MAX_INPUT_FRAMES + 1) },
        { RN_MSG_ABSENT, 6, I(-1) },                       /* nonce */
        { RN_MSG_ABSENT, 7, I(-2) },                       /* neutral_from */
        { RN_MSG_ABSENT, 7, I(12) },                       /* past last_frame + 1 */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tval v[16];
        int n = baseline(cases[c].type, v);
        v[cases[c].field] = cases[c].value;
        if (decode_values(*state, v, n, 1) != RN_DECODE_MALFORMED) {
            fail_msg("case %zu (type %d field %d) was accepted", c, cases[c].type,
                     cases[c].field);
        }
    }
}

/* ---- game parameters ----------------------------------------------------- */

static void hello_carries_game_params_byte_for_byte_up_to_the_limit(void **state)
{
    rn_msg m = valid_hello();
    round_trip(*state, &m, 0);
    /* None: an empty bin. */
    m.u.hello.game_params = NULL;
    m.u.hello.game_params_size = 0;
    round_trip(*state, &m, 0);
    /* The largest map: {"k": bin of 506 bytes} is 512 bytes, and the HELLO
     * that carries it stays well inside a wire message. */
    static uint8_t big[ROLLNET_MAX_GAME_PARAMS + 1];
    size_t payload = ROLLNET_MAX_GAME_PARAMS - 6;
    big[0] = 0x81;
    big[1] = 0xa1;
    big[2] = 'k';
    big[3] = 0xc5;
    big[4] = (uint8_t)(payload >> 8);
    big[5] = (uint8_t)payload;
    memset(big + 6, 0x33, payload);
    m.u.hello.game_params = big;
    m.u.hello.game_params_size = ROLLNET_MAX_GAME_PARAMS;
    size_t n = round_trip(*state, &m, 0);
    assert_true(n < RN_MAX_MESSAGE / 2 + 40);
    /* One byte more is refused on both sides. */
    big[5] = (uint8_t)(payload + 1);
    big[6 + payload] = 0x33;
    m.u.hello.game_params_size = ROLLNET_MAX_GAME_PARAMS + 1;
    uint8_t buf[RN_MAX_MESSAGE];
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    tval v[HELLO_N];
    baseline(RN_MSG_HELLO, v);
    v[12] = BIN(big, ROLLNET_MAX_GAME_PARAMS + 1);
    assert_int_equal(decode_values(*state, v, HELLO_N, 0), RN_DECODE_MALFORMED);
}

typedef struct blob_case {
    const char *why;
    uint8_t bytes[8];
    size_t len;
} blob_case;

static void decode_rejects_a_lying_game_params_blob(void **state)
{
    static const blob_case cases[] = {
        { "announces two pairs, holds one", { 0x82, 0xa1, 'a', 0x01 }, 4 },
        { "a key longer than the bytes left", { 0x81, 0xa5, 'a', 0x01 }, 4 },
        { "a value cut short", { 0x81, 0xa1, 'a', 0xcd, 0x01 }, 5 },
        { "the byte msgpack never uses", { 0x81, 0xa1, 'a', 0xc1 }, 4 },
        { "an array, not a map", { 0x91, 0x01 }, 2 },
        { "an integer, not a map", { 0x07 }, 1 },
        { "an integer key", { 0x81, 0x01, 0x02 }, 3 },
        { "a bin key", { 0x81, 0xc4, 0x01, 'a', 0x02 }, 5 },
        { "an empty key", { 0x81, 0xa0, 0x01 }, 3 },
        { "a key holding a NUL", { 0x81, 0xa2, 'a', 0x00, 0x01 }, 5 },
        { "a key twice", { 0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02 }, 7 },
        { "bytes after the map", { 0x81, 0xa1, 'a', 0x01, 0x00 }, 5 },
        { "two maps", { 0x80, 0x80 }, 2 },
    };
    tval v[HELLO_N];
    baseline(RN_MSG_HELLO, v);
    assert_int_equal(decode_values(*state, v, HELLO_N, 0), RN_DECODE_OK);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        v[12] = BIN(cases[c].bytes, cases[c].len);
        if (decode_values(*state, v, HELLO_N, 0) != RN_DECODE_MALFORMED) {
            fail_msg("game_params with %s was accepted", cases[c].why);
        }
        /* Nor does this side send one. */
        rn_msg m = valid_hello();
        m.u.hello.game_params = cases[c].bytes;
        m.u.hello.game_params_size = cases[c].len;
        uint8_t buf[RN_MAX_MESSAGE];
        if (rn_encode(&m, 0, buf, sizeof buf) != 0) {
            fail_msg("game_params with %s was encoded", cases[c].why);
        }
    }
    /* A 31-byte key is the longest; an empty map is none. */
    static const uint8_t longest[] = { 0x81, 0xbf, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
                                       'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r',
                                       's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '0', '1',
                                       '2', '3', '4', 0xc0 };
    v[12] = BIN(longest, sizeof longest);
    assert_int_equal(decode_values(*state, v, HELLO_N, 0), RN_DECODE_OK);
    static const uint8_t empty_map[] = { 0x80 };
    v[12] = BIN(empty_map, 1);
    assert_int_equal(decode_values(*state, v, HELLO_N, 0), RN_DECODE_OK);
}

static void refuse_names_a_key_only_for_game_params(void **state)
{
    static const char k32[] = "0123456789abcdef0123456789abcdef";
    const struct {
        uint64_t param;
        int64_t local, remote;
        tval key;
        rn_decode_result want;
    } cases[] = {
        { ROLLNET_PARAM_GAME_PARAMS, 1, 0, STR("max_steps", 9), RN_DECODE_OK },
        { ROLLNET_PARAM_GAME_PARAMS, 0, 1, STR("max_steps", 9), RN_DECODE_OK },
        { ROLLNET_PARAM_GAME_PARAMS, 1, 1, STR(k32, 31), RN_DECODE_OK },
        { ROLLNET_PARAM_GAME_PARAMS, 1, 1, STR(k32, 32), RN_DECODE_MALFORMED },  /* too long */
        { ROLLNET_PARAM_GAME_PARAMS, 1, 1, STR("", 0), RN_DECODE_MALFORMED },    /* no key */
        { ROLLNET_PARAM_GAME_PARAMS, 1, 1, STR("a\0b", 3), RN_DECODE_MALFORMED }, /* NUL */
        { ROLLNET_PARAM_GAME_PARAMS, 0, 0, STR("a", 1), RN_DECODE_MALFORMED },   /* nobody has it */
        { ROLLNET_PARAM_GAME_PARAMS, 2, 1, STR("a", 1), RN_DECODE_MALFORMED },   /* not a flag */
        { ROLLNET_PARAM_GAME_PARAMS, 1, -1, STR("a", 1), RN_DECODE_MALFORMED },
        { ROLLNET_PARAM_FPS, 60, 30, STR("a", 1), RN_DECODE_MALFORMED },         /* key for fps */
        { ROLLNET_PARAM_FPS, 60, 30, STR("", 0), RN_DECODE_OK },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tval v[REFUSE_N] = { U(2), U(cases[c].param), I(cases[c].local), I(cases[c].remote),
                             cases[c].key };
        if (decode_values(*state, v, REFUSE_N, 0) != cases[c].want) {
            fail_msg("REFUSE case %zu decoded otherwise", c);
        }
    }
    /* The encoder keeps the same rules. */
    uint8_t buf[RN_MAX_MESSAGE];
    rn_msg m = { .type = RN_MSG_REFUSE };
    m.u.refuse = (rn_refuse){ ROLLNET_PARAM_GAME_PARAMS, 1, 1, "" };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.refuse = (rn_refuse){ ROLLNET_PARAM_SEED, 1, 2, "seed" };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m.u.refuse = (rn_refuse){ ROLLNET_PARAM_GAME_PARAMS, 0, 0, "a" };
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    memset(m.u.refuse.key, 'a', sizeof m.u.refuse.key); /* no NUL at all */
    m.u.refuse.local_value = 1;
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
}

static void encode_rejects_values_out_of_range(void **state)
{
    (void)state;
    uint8_t buf[RN_MAX_MESSAGE];
    uint8_t in[RN_MAX_INPUT_FRAMES + 1] = { 0 };
    rn_msg m = valid_hello();
    m.u.hello.num_players = ROLLNET_MAX_PLAYERS + 1;
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m = valid_hello();
    m.u.hello.player_mask = 1u << ROLLNET_MAX_PLAYERS;
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    m = valid_hello();
    m.u.hello.player_mask = 0; /* a spectator */
    assert_true(rn_encode(&m, 0, buf, sizeof buf) > 0);

    m = (rn_msg){ .type = RN_MSG_INPUT };
    m.u.input = (rn_input){ .ack_frame = 5, .start_frame = 6, .count = 1, .inputs = in };
    assert_true(rn_encode(&m, 1, buf, sizeof buf) > 0);
    assert_int_equal(rn_encode(&m, 0, buf, sizeof buf), 0);
    assert_int_equal(rn_encode(&m, BLOCK_MAX + 1, buf, sizeof buf), 0);
    m.u.input.count = RN_MAX_INPUT_FRAMES + 1;
    assert_int_equal(rn_encode(&m, 1, buf, sizeof buf), 0);
    m.u.input.count = 1;
    m.u.input.start_frame = -1;
    assert_int_equal(rn_encode(&m, 1, buf, sizeof buf), 0);
    m.u.input.start_frame = RN_MAX_FRAME;
    m.u.input.count = 2;
    assert_int_equal(rn_encode(&m, 1, buf, sizeof buf), 0);
    m.u.input.start_frame = 6;
    m.u.input.inputs = NULL;
    assert_int_equal(rn_encode(&m, 1, buf, sizeof buf), 0);
    m.u.input.inputs = in;
    m.u.input.delay = ROLLNET_MAX_INPUT_DELAY + 1;
    assert_int_equal(rn_encode(&m, 1, buf, sizeof buf), 0);
    m.u.input.delay = -1;
    assert_int_equal(rn_encode(&m, 1, buf, sizeof buf), 0);

    m = (rn_msg){ .type = (rn_msg_type)(RN_MSG_ABSENT + 1) };
    assert_int_equal(rn_encode(&m, 1, buf, sizeof buf), 0);
}

static void decode_rejects_trailing_bytes(void **state)
{
    for (int t = 0; t < BASELINE_TYPES; t++) {
        tval v[16];
        int n = baseline(k_baseline_types[t], v);
        uint8_t buf[2 * RN_MAX_MESSAGE];
        size_t len = pack_values(v, n, buf, sizeof buf);
        rn_msg m;
        assert_int_equal(rn_decode(*state, buf, len, 1, &m), RN_DECODE_OK);
        buf[len] = 0x00;
        assert_int_equal(rn_decode(*state, buf, len + 1, 1, &m), RN_DECODE_MALFORMED);
        /* Two messages in one datagram. */
        memcpy(buf + len, buf, len);
        assert_int_equal(rn_decode(*state, buf, 2 * len, 1, &m), RN_DECODE_MALFORMED);
    }
}

/* An INPUT of exactly `total` bytes whose bin is all literal bytes; *bs gets
 * a block size that the payload length is a whole number of frames of, or 0. */
static size_t input_of_size(uint8_t *buf, size_t cap, size_t total, int *bs)
{
    static uint8_t lit[RN_MAX_MESSAGE + 8];
    memset(lit, 0x01, sizeof lit);
    tval v[INPUT_N] = { U(3), U(1), I(0), I(0), I(1), I(0), BIN(lit, 0), I(0) };
    size_t overhead = pack_values(v, INPUT_N, buf, cap) - 2; /* minus bin8 header */
    v[6].len = total - overhead - 3;                        /* bin16 header */
    size_t len = pack_values(v, INPUT_N, buf, cap);
    assert_int_equal(len, total);
    *bs = 0;
    for (int b = 1; b <= BLOCK_MAX && *bs == 0; b++) {
        if (v[6].len % (size_t)b == 0 && v[6].len / (size_t)b <= RN_MAX_INPUT_FRAMES) {
            *bs = b;
        }
    }
    return len;
}

static void decode_drops_messages_over_the_size_limit(void **state)
{
    static uint8_t buf[RN_MAX_MESSAGE + 64];
    rn_msg m;
    int bs;
    size_t len = input_of_size(buf, sizeof buf, RN_MAX_MESSAGE, &bs);
    assert_true(bs > 0);
    assert_int_equal(rn_decode(*state, buf, len, bs, &m), RN_DECODE_OK);
    len = input_of_size(buf, sizeof buf, RN_MAX_MESSAGE + 1, &bs);
    assert_int_equal(rn_decode(*state, buf, len, 1, &m), RN_DECODE_OVERSIZE);
    memset(buf, 0, sizeof buf);
    assert_int_equal(rn_decode(*state, buf, sizeof buf, 1, &m), RN_DECODE_OVERSIZE);
}

static void decode_reports_unknown_types(void **state)
{
    const uint64_t types[] = { 0, RN_MSG_ABSENT + 1, 127, 255, UINT64_MAX };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        tval v[3] = { U(types[i]), U(1), U(2) };
        assert_int_equal(decode_values(*state, v, 3, 1), RN_DECODE_UNKNOWN);
        assert_int_equal(decode_values(*state, v, 1, 1), RN_DECODE_UNKNOWN);
    }
    tval neg[1] = { I(-3) };
    assert_int_equal(decode_values(*state, neg, 1, 1), RN_DECODE_MALFORMED);
}

static void decode_rejects_input_before_the_block_size_is_known(void **state)
{
    tval v[16];
    int n = baseline(RN_MSG_INPUT, v);
    assert_int_equal(decode_values(*state, v, n, 1), RN_DECODE_OK);
    assert_int_equal(decode_values(*state, v, n, 0), RN_DECODE_MALFORMED);
    assert_int_equal(decode_values(*state, v, n, -1), RN_DECODE_MALFORMED);
    assert_int_equal(decode_values(*state, v, n, BLOCK_MAX + 1), RN_DECODE_MALFORMED);
}

static void decode_rejects_bad_compressed_inputs(void **state)
{
    tval v[16];
    int n = baseline(RN_MSG_INPUT, v);
    /* Zero runs that would write past the decoder's buffer. */
    static uint8_t runs[600];
    for (size_t i = 0; i < sizeof runs; i += 2) {
        runs[i] = 0x00;
        runs[i + 1] = 0xff;
    }
    v[6] = BIN(runs, 600);                   /* 300 runs of 255 = 76500 zero bytes */
    assert_int_equal(decode_values(*state, v, n, BLOCK_MAX), RN_DECODE_MALFORMED);
    /* One block past RN_MAX_INPUT_FRAMES. */
    static const uint8_t over[] = { 0x00, RN_MAX_INPUT_FRAMES, 0x00, 1 };
    v[6] = BIN(over, 2);
    assert_int_equal(decode_values(*state, v, n, 1), RN_DECODE_OK);
    v[6] = BIN(over, 4);
    assert_int_equal(decode_values(*state, v, n, 1), RN_DECODE_MALFORMED);
    /* Length not a multiple of the block size. */
    static const uint8_t three[] = { 1, 2, 3 };
    v[6] = BIN(three, 3);
    assert_int_equal(decode_values(*state, v, n, 3), RN_DECODE_OK);
    assert_int_equal(decode_values(*state, v, n, 2), RN_DECODE_MALFORMED);
    /* A zero byte without its run length, and a run of zero. */
    static const uint8_t dangling[] = { 1, 0x00 };
    v[6] = BIN(dangling, 2);
    assert_int_equal(decode_values(*state, v, n, 1), RN_DECODE_MALFORMED);
    static const uint8_t empty_run[] = { 0x00, 0x00, 1 };
    v[6] = BIN(empty_run, 3);
    assert_int_equal(decode_values(*state, v, n, 1), RN_DECODE_MALFORMED);
    /* No frames must come with a zero start delta. */
    v[6] = BIN(NULL, 0);
    v[4] = I(0);
    assert_int_equal(decode_values(*state, v, n, 1), RN_DECODE_OK);
    v[4] = I(1);
    assert_int_equal(decode_values(*state, v, n, 1), RN_DECODE_MALFORMED);
    /* The helper on its own refuses what the decoder refuses. */
    uint8_t out[8];
    assert_int_equal(rn_inputs_decompress(over, 4, 1, out, 8), -1);
    assert_int_equal(rn_inputs_decompress(three, 3, 0, out, 8), -1);
}

/* ---- robustness --------------------------------------------------------- */

static void truncated_messages_never_decode(void **state)
{
    uint8_t inputs[4 * 3] = { 1, 2, 3, 1, 2, 3, 0, 0, 9, 9, 9, 9 };
    rn_msg msgs[6] = { valid_hello() };
    msgs[1] = (rn_msg){ .type = RN_MSG_REFUSE };
    msgs[1].u.refuse = (rn_refuse){ 4, -70000, 123456789012ll, "" };
    msgs[2] = (rn_msg){ .type = RN_MSG_INPUT };
    msgs[2].u.input = (rn_input){ .tag = 0xabcd, .episode = 300, .ack_frame = 70000,
                                  .start_frame = 69990, .count = 4, .frame_advantage = -9,
                                  .inputs = inputs };
    msgs[3] = (rn_msg){ .type = RN_MSG_CHECKSUM };
    msgs[3].u.checksum = (rn_checksum){ 0xabcd, 2, 1234567, 0x1122334455667788ull };
    msgs[4] = (rn_msg){ .type = RN_MSG_LOADING };
    msgs[4].u.loading = (rn_loading){ 0xabcd, true, 60000, 1234 };
    msgs[5] = (rn_msg){ .type = RN_MSG_ABSENT };
    msgs[5].u.absent = (rn_absent){ 0xabcd, 6u, 0x1122334455667788ull, 1234567, 1234560, 1,
                                    k_one_frame, sizeof k_one_frame, 7u };
    for (int i = 0; i < 6; i++) {
        uint8_t buf[RN_MAX_MESSAGE];
        size_t n = rn_encode(&msgs[i], 3, buf, sizeof buf);
        assert_true(n > 0);
        for (size_t cut = 0; cut < n; cut++) {
            /* A copy of exactly `cut` bytes, so a read past it is caught by ASan. */
            uint8_t part[RN_MAX_MESSAGE];
            memcpy(part, buf, cut);
            rn_msg out;
            rn_msg before;
            memset(&out, 0x5a, sizeof out);
            memcpy(&before, &out, sizeof out);
            assert_int_equal(rn_decode(*state, cut ? part : NULL, cut, 3, &out),
                             RN_DECODE_MALFORMED);
            assert_memory_equal(&out, &before, sizeof out);
        }
    }
}

static void encode_into_a_small_buffer_returns_zero(void **state)
{
    (void)state;
    uint8_t inputs[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    rn_msg msgs[3] = { valid_hello() };
    msgs[1] = (rn_msg){ .type = RN_MSG_INPUT };
    msgs[1].u.input = (rn_input){ .tag = 3, .episode = 1, .ack_frame = 100,
                                  .start_frame = 101, .count = 8, .inputs = inputs };
    msgs[2] = (rn_msg){ .type = RN_MSG_CHECKSUM };
    msgs[2].u.checksum = (rn_checksum){ 3, 1, 100, UINT64_MAX };
    for (int i = 0; i < 3; i++) {
        uint8_t full[RN_MAX_MESSAGE];
        size_t n = rn_encode(&msgs[i], 1, full, sizeof full);
        assert_true(n > 0);
        for (size_t cap = 0; cap < n; cap++) {
            uint8_t buf[RN_MAX_MESSAGE];
            memset(buf, 0xee, sizeof buf);
            assert_int_equal(rn_encode(&msgs[i], 1, buf, cap), 0);
            for (size_t j = cap; j < sizeof buf; j++) {
                assert_int_equal(buf[j], 0xee);
            }
        }
        uint8_t exact[RN_MAX_MESSAGE];
        assert_int_equal(rn_encode(&msgs[i], 1, exact, n), n);
        assert_memory_equal(exact, full, n);
    }
}

static void nonce_tag_folds_to_16_bits_and_is_never_zero(void **state)
{
    (void)state;
    assert_int_equal(rn_nonce_tag(0), 1);
    assert_int_equal(rn_nonce_tag(0x1234123400000000ull), 1);
    assert_int_equal(rn_nonce_tag(0x0001000200040008ull), 0x000f);
    assert_int_equal(rn_nonce_tag(0xffff), 0xffff);
    assert_int_not_equal(rn_nonce_tag(0x0001000000000000ull), rn_nonce_tag(0x2));
}

typedef struct counting {
    int allocs, frees;
} counting;

static void *count_alloc(size_t size, void *user)
{
    ((counting *)user)->allocs++;
    return test_malloc(size);
}

static void count_free(void *p, void *user)
{
    ((counting *)user)->frees++;
    test_free(p);
}

static void decoder_allocates_only_at_init_and_its_zone_never_grows(void **state)
{
    (void)state;
    counting c = { 0, 0 };
    rollnet_allocator a = { count_alloc, count_free, &c };
    rn_decoder d;
    assert_int_equal(rn_decoder_init(&d, &a), ROLLNET_ERR_OK);
    int after_init = c.allocs;
    assert_true(after_init > 0);
    void *head = d.zone.chunk_list.head;

    /* The most objects a message can hold: one array of fixints. */
    static uint8_t buf[RN_MAX_MESSAGE];
    fixed_out o = { buf, sizeof buf, 0 };
    msgpack_packer pk;
    msgpack_packer_init(&pk, &o, fixed_write);
    msgpack_pack_array(&pk, RN_MAX_MESSAGE - 3);
    for (int i = 0; i < RN_MAX_MESSAGE - 3; i++) {
        msgpack_pack_uint8(&pk, 3);
    }
    assert_int_equal(o.len, RN_MAX_MESSAGE);
    rn_msg m;
    assert_int_equal(rn_decode(&d, buf, o.len, 1, &m), RN_DECODE_MALFORMED);
    assert_ptr_equal(d.zone.chunk_list.head, head);

    /* Many empty maps and arrays: one alignment pad each. */
    o.len = 0;
    msgpack_pack_array(&pk, (RN_MAX_MESSAGE - 3) / 2 + 1);
    msgpack_pack_uint8(&pk, 3);
    for (int i = 0; i < (RN_MAX_MESSAGE - 3) / 2; i++) {
        msgpack_pack_array(&pk, 1);
        msgpack_pack_map(&pk, 0);
    }
    assert_int_equal(rn_decode(&d, buf, o.len, 1, &m), RN_DECODE_MALFORMED);
    assert_ptr_equal(d.zone.chunk_list.head, head);

    /* Headers that claim far more elements than bytes follow. */
    static const uint8_t huge_array[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x03 };
    static const uint8_t huge_map[] = { 0x91, 0xdf, 0x7f, 0xff, 0xff, 0xff, 0x01, 0x02 };
    static const uint8_t huge_bin[] = { 0x92, 0x03, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00 };
    static const uint8_t reserved[] = { 0x92, 0x03, 0xc1 };
    assert_int_equal(rn_decode(&d, huge_array, sizeof huge_array, 1, &m), RN_DECODE_MALFORMED);
    assert_int_equal(rn_decode(&d, huge_map, sizeof huge_map, 1, &m), RN_DECODE_MALFORMED);
    assert_int_equal(rn_decode(&d, huge_bin, sizeof huge_bin, 1, &m), RN_DECODE_MALFORMED);
    assert_int_equal(rn_decode(&d, reserved, sizeof reserved, 1, &m), RN_DECODE_MALFORMED);

    /* Deeper nesting than msgpack-c's parser stack. */
    memset(buf, 0x91, 100);
    buf[100] = 0x03;
    assert_int_equal(rn_decode(&d, buf, 101, 1, &m), RN_DECODE_MALFORMED);

    rn_msg hello = valid_hello();
    size_t n = rn_encode(&hello, 0, buf, sizeof buf);
    assert_int_equal(rn_decode(&d, buf, n, 0, &m), RN_DECODE_OK);
    assert_ptr_equal(d.zone.chunk_list.head, head);
    assert_int_equal(c.allocs, after_init);

    rn_decoder_free(&d);
    assert_int_equal(c.frees, c.allocs);
    rn_decoder_free(&d);
    assert_int_equal(c.frees, c.allocs);
    assert_int_equal(rn_decode(&d, buf, n, 0, &m), RN_DECODE_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hello_round_trips_with_edge_values),
        cmocka_unit_test(hello_round_trips_its_key_flag),
        cmocka_unit_test(auth_round_trips_any_proof),
        cmocka_unit_test(auth_decode_rejects_anything_but_a_full_proof),
        cmocka_unit_test(refuse_round_trips_with_extreme_values),
        cmocka_unit_test(hello_carries_game_params_byte_for_byte_up_to_the_limit),
        cmocka_unit_test(decode_rejects_a_lying_game_params_blob),
        cmocka_unit_test(refuse_names_a_key_only_for_game_params),
        cmocka_unit_test(input_round_trips_with_edge_frames_and_advantages),
        cmocka_unit_test(input_without_frames_decodes_with_start_at_ack),
        cmocka_unit_test(checksum_round_trips_with_edge_values),
        cmocka_unit_test(loading_round_trips_both_ways),
        cmocka_unit_test(inputs_compression_round_trips_random_inputs),
        cmocka_unit_test(input_message_round_trips_whenever_it_fits),
        cmocka_unit_test(input_of_four_one_byte_frames_fits_in_19_bytes),
        cmocka_unit_test(frame_advantage_clamps_to_int8),
        cmocka_unit_test(decode_rejects_elements_of_the_wrong_type),
        cmocka_unit_test(decode_rejects_the_wrong_element_count),
        cmocka_unit_test(decode_reads_the_version_of_another_rollnets_hello),
        cmocka_unit_test(decode_rejects_values_out_of_range),
        cmocka_unit_test(encode_rejects_values_out_of_range),
        cmocka_unit_test(decode_rejects_trailing_bytes),
        cmocka_unit_test(decode_drops_messages_over_the_size_limit),
        cmocka_unit_test(decode_reports_unknown_types),
        cmocka_unit_test(leave_round_trips_and_checks_its_fields),
        cmocka_unit_test(finish_round_trips_and_checks_its_fields),
        cmocka_unit_test(absent_round_trips_and_checks_its_fields),
        cmocka_unit_test(ready_round_trips_and_checks_its_field),
        cmocka_unit_test(intro_round_trips_and_checks_its_fields),
        cmocka_unit_test(intro_ask_round_trips_and_checks_its_fields),
        cmocka_unit_test(resume_round_trips_and_checks_its_fields),
        cmocka_unit_test(decode_rejects_input_before_the_block_size_is_known),
        cmocka_unit_test(decode_rejects_bad_compressed_inputs),
        cmocka_unit_test(truncated_messages_never_decode),
        cmocka_unit_test(encode_into_a_small_buffer_returns_zero),
        cmocka_unit_test(nonce_tag_folds_to_16_bits_and_is_never_zero),
        cmocka_unit_test(decoder_allocates_only_at_init_and_its_zone_never_grows),
    };
    return cmocka_run_group_tests(tests, setup_decoder, teardown_decoder);
}
