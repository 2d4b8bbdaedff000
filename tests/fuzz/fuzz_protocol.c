/* Fuzz target for the wire decoder.
 *
 * Property: whatever the bytes, rn_decode returns without crashing or
 * allocating (its allocator counts nothing after init, msgpack-c's zone
 * keeps its one chunk); when it accepts a message, re-encoding it succeeds,
 * is no larger than the input (the encoder writes the shortest form),
 * decodes to the same message, and encodes again to the same bytes.
 *
 * Built two ways: with ROLLNET_LIBFUZZER as a libFuzzer target (abort on a
 * violation; fuzz_replay.c runs it over the corpus in builds without
 * libFuzzer), and otherwise as a seeded standalone run registered as a test:
 *   fuzz_protocol [--iterations N] [--seed S]
 * which feeds random bytes, random msgpack, valid messages and mutations of
 * valid messages, and exits non-zero on any failure. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "protocol.h"

#define BLOCK_MAX (ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE)

static const int k_block_sizes[] = { 1, 2, 3, 8, 64, BLOCK_MAX };
#define NUM_BLOCK_SIZES ((int)(sizeof k_block_sizes / sizeof k_block_sizes[0]))

/* Two decoders: the second checks a re-encoding while the first's input
 * buffer still holds the message being compared. Owned by this program. */
static rn_decoder g_dec[2];
static bool g_ready;
static fuzz_alloc g_alloc;
static rollnet_allocator g_allocator = { fuzz_alloc_fn, fuzz_free_fn, &g_alloc };
static long g_allocs_after_init;
static const void *g_chunk[2]; /* each zone's one chunk */

static void decoders_init(void)
{
    if (!g_ready) {
        if (rn_decoder_init(&g_dec[0], &g_allocator) != ROLLNET_ERR_OK ||
            rn_decoder_init(&g_dec[1], &g_allocator) != ROLLNET_ERR_OK) {
            fprintf(stderr, "fuzz_protocol: decoder init failed\n");
            abort();
        }
        g_allocs_after_init = g_alloc.allocs;
        g_chunk[0] = g_dec[0].zone.chunk_list.head;
        g_chunk[1] = g_dec[1].zone.chunk_list.head;
        g_ready = true;
    }
}

/* Decoding allocated nothing: no call to the allocator, no zone growth. */
static bool decoders_unchanged(void)
{
    return g_alloc.allocs == g_allocs_after_init && g_dec[0].zone.chunk_list.head == g_chunk[0] &&
           g_dec[1].zone.chunk_list.head == g_chunk[1];
}

static bool msg_equal(const rn_msg *a, const rn_msg *b, int block_size)
{
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case RN_MSG_HELLO: {
        const rn_hello *x = &a->u.hello, *y = &b->u.hello;
        return x->version == y->version && x->nonce == y->nonce &&
               x->num_players == y->num_players && x->input_size == y->input_size &&
               x->input_delay == y->input_delay && x->fps == y->fps &&
               x->max_prediction == y->max_prediction &&
               x->checksum_interval == y->checksum_interval && x->game_id == y->game_id &&
               x->seed == y->seed && x->player_mask == y->player_mask && x->keyed == y->keyed &&
               x->game_params_size == y->game_params_size &&
               (x->game_params_size == 0 ||
                memcmp(x->game_params, y->game_params, x->game_params_size) == 0);
    }
    case RN_MSG_REFUSE:
        return a->u.refuse.param == b->u.refuse.param &&
               a->u.refuse.local_value == b->u.refuse.local_value &&
               a->u.refuse.remote_value == b->u.refuse.remote_value &&
               strcmp(a->u.refuse.key, b->u.refuse.key) == 0;
    case RN_MSG_INPUT: {
        const rn_input *x = &a->u.input, *y = &b->u.input;
        if (x->tag != y->tag || x->episode != y->episode || x->ack_frame != y->ack_frame ||
            x->count != y->count || x->frame_advantage != y->frame_advantage ||
            x->delay != y->delay || x->start_frame != y->start_frame) {
            return false;
        }
        return x->count == 0 ||
               memcmp(x->inputs, y->inputs, (size_t)x->count * (size_t)block_size) == 0;
    }
    case RN_MSG_CHECKSUM:
        return a->u.checksum.tag == b->u.checksum.tag &&
               a->u.checksum.episode == b->u.checksum.episode &&
               a->u.checksum.frame == b->u.checksum.frame &&
               a->u.checksum.checksum == b->u.checksum.checksum;
    case RN_MSG_LOADING:
        return a->u.loading.tag == b->u.loading.tag &&
               a->u.loading.loading == b->u.loading.loading &&
               a->u.loading.grace_ms == b->u.loading.grace_ms &&
               a->u.loading.frame == b->u.loading.frame;
    case RN_MSG_LEAVE:
        return a->u.leave.tag == b->u.leave.tag &&
               a->u.leave.player_mask == b->u.leave.player_mask &&
               a->u.leave.last_frame == b->u.leave.last_frame &&
               a->u.leave.count == b->u.leave.count && a->u.leave.size == b->u.leave.size &&
               a->u.leave.left == b->u.leave.left && a->u.leave.fin_stop == b->u.leave.fin_stop &&
               a->u.leave.fin_end == b->u.leave.fin_end &&
               a->u.leave.neutral_from == b->u.leave.neutral_from &&
               (a->u.leave.size == 0 ||
                memcmp(a->u.leave.data, b->u.leave.data, a->u.leave.size) == 0);
    case RN_MSG_ABSENT:
        return a->u.absent.tag == b->u.absent.tag &&
               a->u.absent.player_mask == b->u.absent.player_mask &&
               a->u.absent.nonce == b->u.absent.nonce &&
               a->u.absent.last_frame == b->u.absent.last_frame &&
               a->u.absent.neutral_from == b->u.absent.neutral_from &&
               a->u.absent.survivors == b->u.absent.survivors &&
               a->u.absent.count == b->u.absent.count && a->u.absent.size == b->u.absent.size &&
               (a->u.absent.size == 0 ||
                memcmp(a->u.absent.data, b->u.absent.data, a->u.absent.size) == 0);
    case RN_MSG_FINISH:
        return a->u.finish.tag == b->u.finish.tag && a->u.finish.stop == b->u.finish.stop &&
               a->u.finish.inputs_end == b->u.finish.inputs_end &&
               a->u.finish.done == b->u.finish.done;
    case RN_MSG_AUTH:
        return memcmp(a->u.auth.proof, b->u.auth.proof, RN_AUTH_BYTES) == 0;
    case RN_MSG_READY:
        return a->u.ready.elapsed_ms == b->u.ready.elapsed_ms;
    case RN_MSG_INTRO:
        return a->u.intro.tag == b->u.intro.tag &&
               a->u.intro.player_mask == b->u.intro.player_mask &&
               a->u.intro.address_len == b->u.intro.address_len &&
               memcmp(a->u.intro.address, b->u.intro.address, a->u.intro.address_len) == 0;
    case RN_MSG_INTRO_ASK:
        return a->u.intro_ask.tag == b->u.intro_ask.tag &&
               a->u.intro_ask.player_mask == b->u.intro_ask.player_mask;
    case RN_MSG_RESUME: {
        const rn_resume *x = &a->u.resume, *y = &b->u.resume;
        return x->kind == y->kind && x->nonce == y->nonce && x->peer_nonce == y->peer_nonce &&
               x->player_mask == y->player_mask && x->challenge == y->challenge &&
               x->has_proof == y->has_proof &&
               (!x->has_proof || memcmp(x->proof, y->proof, RN_AUTH_BYTES) == 0);
    }
    case RN_MSG_STATE_HEAD:
        return memcmp(&a->u.state_head, &b->u.state_head, sizeof a->u.state_head) == 0;
    case RN_MSG_STATE_CHUNK:
        return a->u.state_chunk.tag == b->u.state_chunk.tag &&
               a->u.state_chunk.offset == b->u.state_chunk.offset &&
               a->u.state_chunk.size == b->u.state_chunk.size &&
               memcmp(a->u.state_chunk.data, b->u.state_chunk.data, a->u.state_chunk.size) == 0;
    case RN_MSG_WATCH:
        return a->u.watch.tag == b->u.watch.tag &&
               a->u.watch.start_frame == b->u.watch.start_frame &&
               a->u.watch.count == b->u.watch.count &&
               a->u.watch.end_frame == b->u.watch.end_frame;
    case RN_MSG_WATCH_ACK:
        return a->u.watch_ack.tag == b->u.watch_ack.tag &&
               a->u.watch_ack.next_frame == b->u.watch_ack.next_frame;
    }
    return false;
}

/* Checks the property for one input at every block size. Returns NULL, or
 * what went wrong. `expect_ok_bs` > 0: the input is a valid message for that
 * block size and must decode. */
static const char *check_input(const uint8_t *data, size_t size, int expect_ok_bs,
                               int *ok_count)
{
    rn_decode_result first = RN_DECODE_OK;
    rn_msg first_msg;
    memset(&first_msg, 0, sizeof first_msg);
    for (int k = 0; k < NUM_BLOCK_SIZES; k++) {
        int bs = k_block_sizes[k];
        rn_msg m;
        memset(&m, 0, sizeof m);
        rn_decode_result r = rn_decode(&g_dec[0], data, size, bs, &m);
        if (!decoders_unchanged()) {
            return "decoding allocated";
        }
        if (r != RN_DECODE_OK && r != RN_DECODE_MALFORMED && r != RN_DECODE_UNKNOWN &&
            r != RN_DECODE_OVERSIZE) {
            return "decode returned a value outside rn_decode_result";
        }
        if ((r == RN_DECODE_OVERSIZE) != (size > RN_MAX_MESSAGE)) {
            return "OVERSIZE does not match the size limit";
        }
        if (bs == expect_ok_bs && r != RN_DECODE_OK) {
            return "a valid encoded message did not decode";
        }
        /* Only INPUT and WATCH depend on the block size: any other outcome must be
         * the same at every block size. */
        if (k == 0) {
            first = r;
            first_msg = m;
        } else {
            bool first_fixed = first == RN_DECODE_UNKNOWN || first == RN_DECODE_OVERSIZE ||
                               (first == RN_DECODE_OK && first_msg.type != RN_MSG_INPUT &&
                                first_msg.type != RN_MSG_WATCH);
            bool this_fixed = r == RN_DECODE_UNKNOWN || r == RN_DECODE_OVERSIZE ||
                              (r == RN_DECODE_OK && m.type != RN_MSG_INPUT &&
                               m.type != RN_MSG_WATCH);
            if ((first_fixed || this_fixed) &&
                (r != first || (r == RN_DECODE_OK && !msg_equal(&m, &first_msg, bs)))) {
                return "a non-INPUT outcome depends on the block size";
            }
        }
        if (r != RN_DECODE_OK) {
            continue;
        }
        (*ok_count)++;
        if (m.type == RN_MSG_HELLO && m.u.hello.version != RN_PROTOCOL_VERSION) {
            /* Another rollnet's HELLO: only its version counts (it is refused
             * for it), whatever its layout; it is never re-encoded. */
            continue;
        }
        if (m.type == RN_MSG_INPUT &&
            (m.u.input.count < 0 || m.u.input.count > RN_MAX_INPUT_FRAMES ||
             (m.u.input.count > 0 && !m.u.input.inputs))) {
            return "decoded INPUT out of bounds";
        }
        uint8_t enc[RN_MAX_MESSAGE];
        size_t n = rn_encode(&m, bs, enc, sizeof enc);
        if (n == 0) {
            return "accepted message does not re-encode";
        }
        if (n > size) {
            return "re-encoding is longer than the accepted input";
        }
        rn_msg back;
        if (rn_decode(&g_dec[1], enc, n, bs, &back) != RN_DECODE_OK) {
            return "re-encoded message does not decode";
        }
        if (!decoders_unchanged()) {
            return "decoding allocated";
        }
        if (!msg_equal(&m, &back, bs)) {
            return "re-encoded message decodes to a different message";
        }
        uint8_t enc2[RN_MAX_MESSAGE];
        size_t n2 = rn_encode(&back, bs, enc2, sizeof enc2);
        if (n2 != n || memcmp(enc, enc2, n) != 0) {
            return "encoding is not stable";
        }
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_target_name = "fuzz_protocol";
    fuzz_watch_install();
    decoders_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decoders_init();
    fuzz_watch_arm(true);
    int ok = 0;
    const char *why = check_input(data, size, 0, &ok);
    fuzz_watch_disarm();
    if (why) {
        fprintf(stderr, "fuzz_protocol: %s\n", why);
        abort();
    }
    FUZZ_CHECK(fuzz_watch.count == 0, "%ld mallocs while decoding", (long)fuzz_watch.count);
    return 0;
}

#ifndef ROLLNET_LIBFUZZER

/* ---- standalone driver -------------------------------------------------- */

static uint64_t g_rng;

static uint64_t rnd(void)
{
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

/* A random value of random magnitude. One draw per statement keeps a seed's
 * inputs the same whatever order a compiler evaluates operands in. */
static uint64_t shifted(unsigned max_shift)
{
    uint64_t v = rnd();
    return v >> below(max_shift);
}

/* Integers near the edges that the decoder checks, lo..hi inclusive.
 * Unsigned arithmetic: the span of the int64 range overflows int64. */
static int64_t edgy(int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    uint64_t off;
    switch (below(6)) {
    case 0: off = 0; break;
    case 1: off = span; break;
    case 2: off = below(3); break;
    case 3: off = span - below(3); break;
    default: off = span == UINT64_MAX ? rnd() : below(span + 1); break;
    }
    if (off > span) {
        off = span;
    }
    return (int64_t)((uint64_t)lo + off);
}

static uint8_t g_inputs[RN_MAX_INPUT_FRAMES * BLOCK_MAX];
static uint8_t g_params[ROLLNET_MAX_GAME_PARAMS + 600];

static size_t random_game_params(uint8_t *buf, size_t cap);

/* A game parameter's name: 1..31 bytes, no NUL; `i` keeps the keys of one map apart. */
static size_t random_key(char *key, size_t i)
{
    static const char k_chars[] = "abcdefghijklmnopqrstuvwxyz_0123456789ABC\x7f\xc3\xa9 ";
    size_t len = (size_t)edgy(i < 26 ? 1 : 2, ROLLNET_GAME_PARAM_KEY_SIZE - 1);
    for (size_t c = 0; c < len; c++) {
        key[c] = k_chars[below(sizeof k_chars - 1)];
    }
    key[0] = (char)('A' + (i % 26));
    if (len > 1) {
        key[1] = (char)('a' + (i / 26) % 26);
    }
    return len;
}

static rn_msg random_valid_msg(int *bs)
{
    rn_msg m;
    memset(&m, 0, sizeof m);
    m.type = (rn_msg_type)(1 + below(RN_MSG_ABSENT));
    *bs = k_block_sizes[below(NUM_BLOCK_SIZES)];
    switch (m.type) {
    case RN_MSG_HELLO:
        m.u.hello.version = (uint32_t)rnd();
        m.u.hello.nonce = rnd();
        m.u.hello.num_players = (int32_t)edgy(1, ROLLNET_MAX_PLAYERS);
        m.u.hello.input_size = (int32_t)edgy(1, ROLLNET_MAX_INPUT_SIZE);
        m.u.hello.input_delay = (int32_t)edgy(0, ROLLNET_MAX_INPUT_DELAY);
        m.u.hello.fps = (int32_t)edgy(1, 1000);
        m.u.hello.max_prediction = (int32_t)edgy(1, 64);
        m.u.hello.checksum_interval = below(4) == 0 ? ROLLNET_CHECKSUMS_OFF
                                                    : (int32_t)edgy(1, 65535);
        m.u.hello.game_id = shifted(64);
        m.u.hello.seed = shifted(64);
        m.u.hello.player_mask = (uint32_t)edgy(0, (1 << ROLLNET_MAX_PLAYERS) - 1);
        m.u.hello.game_params_size = random_game_params(g_params, sizeof g_params);
        m.u.hello.game_params = g_params;
        m.u.hello.keyed = below(2);
        break;
    case RN_MSG_REFUSE:
        m.u.refuse.param = (uint32_t)edgy(0, ROLLNET_PARAM_COUNT_ - 1);
        if (m.u.refuse.param == ROLLNET_PARAM_GAME_PARAMS) {
            size_t len = random_key(m.u.refuse.key, below(1000));
            m.u.refuse.key[len] = '\0';
            m.u.refuse.local_value = below(2);
            m.u.refuse.remote_value = m.u.refuse.local_value ? (int64_t)below(2) : 1;
            break;
        }
        m.u.refuse.local_value = (int64_t)(shifted(64) >> 1);
        if (below(2)) {
            m.u.refuse.local_value = -m.u.refuse.local_value;
        }
        m.u.refuse.remote_value = edgy(INT64_MIN, INT64_MAX);
        break;
    case RN_MSG_INPUT: {
        rn_input *in = &m.u.input;
        in->tag = (uint16_t)rnd();
        in->episode = (int32_t)edgy(0, RN_MAX_FRAME);
        in->ack_frame = (int32_t)edgy(-1, RN_MAX_FRAME);
        in->frame_advantage = (int8_t)edgy(INT8_MIN, INT8_MAX);
        in->delay = (int8_t)edgy(0, ROLLNET_MAX_INPUT_DELAY);
        in->count = (int32_t)edgy(0, RN_MAX_INPUT_FRAMES);
        in->start_frame = (int32_t)edgy(0, RN_MAX_FRAME - (in->count > 0 ? in->count - 1 : 0));
        if (below(2) && in->ack_frame >= 0 &&
            in->ack_frame <= RN_MAX_FRAME - RN_MAX_INPUT_FRAMES) {
            in->start_frame = in->ack_frame + 1; /* the usual case: just past the ack */
        }
        /* Held buttons with occasional changes, noise, or an idle player
         * (every frame the same: long zero runs after the XOR). */
        size_t total = (size_t)in->count * (size_t)*bs;
        uint64_t change = below(4) == 0 ? 0 : 1 + below(16);
        for (size_t i = 0; i < total; i++) {
            if (i >= (size_t)*bs && (change == 0 || below(change) != 0)) {
                g_inputs[i] = g_inputs[i - (size_t)*bs];
            } else {
                g_inputs[i] = (uint8_t)(below(3) == 0 ? 0 : rnd());
            }
        }
        in->inputs = g_inputs;
        if (in->count == 0) {
            in->start_frame = in->ack_frame; /* what the decoder reports */
        }
        break;
    }
    case RN_MSG_CHECKSUM:
        m.u.checksum.tag = (uint16_t)rnd();
        m.u.checksum.episode = (int32_t)edgy(0, RN_MAX_FRAME);
        m.u.checksum.frame = (int32_t)edgy(-1, RN_MAX_FRAME);
        m.u.checksum.checksum = rnd();
        break;
    case RN_MSG_LOADING:
        m.u.loading.tag = (uint16_t)rnd();
        m.u.loading.loading = below(2);
        m.u.loading.grace_ms = (uint32_t)(shifted(64) >> 32);
        m.u.loading.frame = (int32_t)below(1000) - 1;
        break;
    case RN_MSG_LEAVE: {
        m.u.leave.tag = (uint16_t)rnd();
        m.u.leave.player_mask = (uint32_t)(1 + below((1u << ROLLNET_MAX_PLAYERS) - 1));
        m.u.leave.last_frame = (int32_t)edgy(-1, RN_MAX_FRAME);
        int32_t most = m.u.leave.last_frame + 1 < RN_MAX_INPUT_FRAMES ? m.u.leave.last_frame + 1
                                                                      : RN_MAX_INPUT_FRAMES;
        m.u.leave.count = most > 0 ? (int32_t)below((uint64_t)most + 1) : 0;
        m.u.leave.size = (size_t)below(64);
        for (size_t i = 0; i < m.u.leave.size; i++) {
            g_inputs[i] = (uint8_t)rnd();
        }
        m.u.leave.data = g_inputs;
        m.u.leave.left = below(2);
        m.u.leave.fin_stop = m.u.leave.fin_end = -1;
        if (below(2)) {
            m.u.leave.fin_stop = (int32_t)edgy(0, RN_MAX_FRAME);
            m.u.leave.fin_end = (int32_t)edgy(m.u.leave.fin_stop, RN_MAX_FRAME);
        }
        m.u.leave.neutral_from =
            below(2) ? -1 : (int32_t)edgy(0, (int64_t)m.u.leave.last_frame + 1);
        break;
    }
    case RN_MSG_ABSENT: {
        m.u.absent.tag = (uint16_t)rnd();
        m.u.absent.player_mask = (uint32_t)(1 + below((1u << ROLLNET_MAX_PLAYERS) - 1));
        m.u.absent.nonce = below(2) ? 0 : rnd();
        m.u.absent.last_frame = (int32_t)edgy(-1, RN_MAX_FRAME);
        m.u.absent.neutral_from =
            below(2) ? -1 : (int32_t)edgy(0, (uint64_t)m.u.absent.last_frame + 1);
        int32_t to = m.u.absent.neutral_from >= 0 ? m.u.absent.neutral_from - 1
                                                  : m.u.absent.last_frame;
        int32_t most = to + 1 < RN_MAX_INPUT_FRAMES ? to + 1 : RN_MAX_INPUT_FRAMES;
        m.u.absent.count = most > 0 ? (int32_t)below((uint64_t)most + 1) : 0;
        m.u.absent.size = (size_t)below(64);
        for (size_t i = 0; i < m.u.absent.size; i++) {
            g_inputs[i] = (uint8_t)rnd();
        }
        m.u.absent.data = g_inputs;
        m.u.absent.survivors = (uint32_t)below(1u << ROLLNET_MAX_PLAYERS);
        break;
    }
    case RN_MSG_FINISH:
        m.u.finish.tag = (uint16_t)rnd();
        m.u.finish.stop = (int32_t)edgy(0, RN_MAX_FRAME);
        m.u.finish.inputs_end = (int32_t)edgy(m.u.finish.stop, RN_MAX_FRAME);
        m.u.finish.done = below(2);
        break;
    case RN_MSG_AUTH:
        for (int i = 0; i < RN_AUTH_BYTES; i++) {
            m.u.auth.proof[i] = (uint8_t)rnd();
        }
        break;
    case RN_MSG_READY:
        m.u.ready.elapsed_ms = (uint32_t)(shifted(32) >> 32);
        break;
    case RN_MSG_INTRO: {
        m.u.intro.tag = (uint16_t)rnd();
        m.u.intro.player_mask = (uint32_t)edgy(1, (1 << ROLLNET_MAX_PLAYERS) - 1);
        static char text[RN_INTRO_ADDRESS_MAX];
        int len = (int)edgy(1, RN_INTRO_ADDRESS_MAX);
        for (int i = 0; i < len; i++) {
            text[i] = (char)(1 + below(255)); /* any byte but NUL */
        }
        m.u.intro.address = text;
        m.u.intro.address_len = (uint32_t)len;
        break;
    }
    case RN_MSG_INTRO_ASK:
        m.u.intro_ask.tag = (uint16_t)rnd();
        m.u.intro_ask.player_mask = (uint32_t)edgy(1, (1 << ROLLNET_MAX_PLAYERS) - 1);
        break;
    case RN_MSG_RESUME:
        m.u.resume.kind = (uint8_t)below(RN_RESUME_KINDS_);
        m.u.resume.nonce = rnd();
        m.u.resume.peer_nonce = rnd();
        m.u.resume.player_mask = (uint32_t)edgy(1, (1 << ROLLNET_MAX_PLAYERS) - 1);
        if (m.u.resume.kind == RN_RESUME_CHALLENGE || m.u.resume.kind == RN_RESUME_PROOF) {
            m.u.resume.challenge = shifted(64);
        }
        if (m.u.resume.kind == RN_RESUME_PROOF && below(2)) {
            m.u.resume.has_proof = true;
            for (int i = 0; i < RN_AUTH_BYTES; i++) {
                m.u.resume.proof[i] = (uint8_t)rnd();
            }
        }
        break;
    case RN_MSG_STATE_HEAD: {
        rn_state_head *h = &m.u.state_head;
        h->tag = (uint16_t)rnd();
        h->frame = (int32_t)edgy(0, RN_MAX_FRAME);
        h->episode = (int32_t)edgy(0, h->frame);
        h->episode_start = (int32_t)edgy(h->episode, h->frame);
        h->size = (uint32_t)edgy(0, RN_STATE_MAX_BYTES);
        h->checksum = rnd();
        break;
    }
    case RN_MSG_STATE_CHUNK: {
        static uint8_t bytes[RN_STATE_CHUNK_BYTES];
        m.u.state_chunk.tag = (uint16_t)rnd();
        m.u.state_chunk.size = (uint32_t)edgy(1, 1000);
        m.u.state_chunk.offset = (uint32_t)edgy(0, RN_STATE_MAX_BYTES - m.u.state_chunk.size);
        for (uint32_t i = 0; i < m.u.state_chunk.size; i++) {
            bytes[i] = (uint8_t)rnd();
        }
        m.u.state_chunk.data = bytes;
        break;
    }
    case RN_MSG_WATCH: {
        rn_watch *w = &m.u.watch;
        w->tag = (uint16_t)rnd();
        w->count = (int32_t)edgy(0, 4);
        w->start_frame = (int32_t)edgy(0, RN_MAX_FRAME + 1 - w->count);
        w->end_frame = below(2) ? -1 : (int32_t)edgy(w->start_frame + w->count, RN_MAX_FRAME);
        size_t total = (size_t)w->count * (size_t)*bs;
        for (size_t i = 0; i < total; i++) {
            g_inputs[i] = (uint8_t)(below(3) == 0 ? 0 : rnd());
        }
        w->inputs = g_inputs;
        if (w->end_frame > RN_MAX_FRAME) {
            w->end_frame = -1;
        }
        break;
    }
    case RN_MSG_WATCH_ACK:
        m.u.watch_ack.tag = (uint16_t)rnd();
        m.u.watch_ack.next_frame = (int32_t)edgy(0, RN_MAX_FRAME + 1);
        break;
    }
    return m;
}

static unsigned long long g_unencodable; /* HELLOs and REFUSEs drawn in range that did not encode */

/* A valid message, encoded; INPUTs too big to fit lose frames until they do. */
static size_t valid_encoded(uint8_t *buf, size_t cap, int *bs, rn_msg *m)
{
    *m = random_valid_msg(bs);
    for (;;) {
        size_t n = rn_encode(m, *bs, buf, cap);
        if (n > 0) {
            return n;
        }
        if (m->type != RN_MSG_INPUT || m->u.input.count == 0) {
            /* A HELLO (game parameters included) or REFUSE drawn in range
             * that does not encode is a bug in the generator or the encoder
             * (other types may draw an out-of-range value on purpose). */
            g_unencodable += m->type == RN_MSG_HELLO || m->type == RN_MSG_REFUSE;
            return 0;
        }
        m->u.input.count /= 2;
        if (m->u.input.count == 0) {
            m->u.input.start_frame = m->u.input.ack_frame;
        }
    }
}

typedef struct sink {
    uint8_t *buf;
    size_t cap, len;
} sink;

static int sink_write(void *data, const char *buf, size_t len)
{
    sink *s = data;
    if (len > s->cap - s->len) {
        return -1;
    }
    if (len > 0) {
        memcpy(s->buf + s->len, buf, len);
        s->len += len;
    }
    return 0;
}

static void pack_random_value(msgpack_packer *pk, int depth)
{
    static const uint8_t bytes[300] = { 1, 0, 5, 0, 0, 7 };
    switch (below(depth < 3 ? 12 : 10)) {
    case 0: msgpack_pack_uint64(pk, shifted(64)); break;
    case 1: msgpack_pack_int64(pk, -(int64_t)(shifted(64) >> 1)); break;
    case 2: msgpack_pack_int64(pk, edgy(-2, 70)); break;
    case 3: msgpack_pack_uint64(pk, (uint64_t)edgy(0, 0x10000)); break;
    case 4: below(2) ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
    case 5: msgpack_pack_nil(pk); break;
    case 6: {
        size_t n = below(2) ? below(8) : below(sizeof bytes);
        msgpack_pack_bin(pk, n);
        msgpack_pack_bin_body(pk, bytes, n);
        break;
    }
    case 7: msgpack_pack_str_with_body(pk, "rollnet", below(8)); break;
    case 8: msgpack_pack_double(pk, (double)rnd()); break;
    case 9: {
        size_t n = below(20);
        msgpack_pack_ext_with_body(pk, bytes, n, (int8_t)rnd());
        break;
    }
    case 10: {
        size_t n = below(4);
        msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n; i++) {
            pack_random_value(pk, depth + 1);
        }
        break;
    }
    default: {
        size_t n = below(3);
        msgpack_pack_map(pk, n);
        for (size_t i = 0; i < 2 * n; i++) {
            pack_random_value(pk, depth + 1);
        }
        break;
    }
    }
}

/* A map of game parameters: distinct string keys, random values; or none
 * (0) when nothing was drawn or it came out larger than the limit. */
static size_t random_game_params(uint8_t *buf, size_t cap)
{
    if (below(4) == 0) {
        return 0;
    }
    sink s = { buf, cap, 0 };
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s, sink_write);
    size_t n = below(2) ? below(4) : below(40);
    msgpack_pack_map(&pk, n);
    for (size_t i = 0; i < n; i++) {
        char key[ROLLNET_GAME_PARAM_KEY_SIZE];
        size_t len = random_key(key, i);
        msgpack_pack_str_with_body(&pk, key, len);
        pack_random_value(&pk, 1);
    }
    return s.len <= ROLLNET_MAX_GAME_PARAMS ? s.len : 0;
}

/* An INPUT shaped right whose compressed inputs are random tokens: literals,
 * zero runs of any length (0 included), a dangling zero. */
static size_t random_rle_input(uint8_t *buf, size_t cap)
{
    static uint8_t rle[RN_MAX_MESSAGE];
    size_t n = below(2) ? below(16) : below(sizeof rle - 16);
    bool long_runs = below(2);
    for (size_t i = 0; i < n; i++) {
        if (below(3) == 0) {
            rle[i] = (uint8_t)(1 + below(255));
        } else {
            rle[i++] = 0;
            if (i < n) {
                rle[i] = long_runs ? (uint8_t)(255 - below(4)) : (uint8_t)below(256);
            }
        }
    }
    sink s = { buf, cap, 0 };
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s, sink_write);
    msgpack_pack_array(&pk, 7);
    msgpack_pack_uint8(&pk, RN_MSG_INPUT);
    msgpack_pack_uint16(&pk, (uint16_t)rnd());
    msgpack_pack_int32(&pk, (int32_t)edgy(0, 3));
    msgpack_pack_int32(&pk, (int32_t)edgy(-1, 1000));
    msgpack_pack_int32(&pk, (int32_t)edgy(-2, 3));
    msgpack_pack_int32(&pk, (int32_t)edgy(-3, 3));
    msgpack_pack_bin(&pk, n);
    msgpack_pack_bin_body(&pk, rle, n);
    return s.len;
}

/* Mostly message-shaped msgpack: an array led by a type number, with values
 * of random types, so the decoder gets past its first checks. */
static size_t random_msgpack(uint8_t *buf, size_t cap)
{
    sink s = { buf, cap, 0 };
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s, sink_write);
    if (below(10) == 0) {
        pack_random_value(&pk, 0);
        return s.len;
    }
    size_t n = below(16);
    msgpack_pack_array(&pk, n);
    if (n > 0) {
        msgpack_pack_uint64(&pk, (uint64_t)edgy(0, 7));
    }
    for (size_t i = 1; i < n; i++) {
        pack_random_value(&pk, 1);
    }
    return s.len;
}

static const uint8_t k_interesting[] = { 0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xc0, 0xc1,
                                         0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xcc, 0xcd, 0xce, 0xcf,
                                         0xd0, 0xd3, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff };

static size_t mutate(uint8_t *buf, size_t len, size_t cap, const uint8_t *other,
                     size_t other_len)
{
    int rounds = 1 + (int)below(4);
    for (int r = 0; r < rounds; r++) {
        size_t pos = below(len > 0 ? len : 1);
        switch (below(8)) {
        case 0: /* bit flip */
            if (len > 0) {
                buf[pos] ^= (uint8_t)(1u << below(8));
            }
            break;
        case 1: /* interesting byte */
            if (len > 0) {
                buf[pos] = k_interesting[below(sizeof k_interesting)];
            }
            break;
        case 2: /* random byte */
            if (len > 0) {
                buf[pos] = (uint8_t)rnd();
            }
            break;
        case 3: /* truncate */
            len = below(len + 1);
            break;
        case 4: { /* insert random bytes */
            size_t at = below(len + 1), n = 1 + below(8);
            if (len + n <= cap) {
                memmove(buf + at + n, buf + at, len - at);
                for (size_t i = 0; i < n; i++) {
                    buf[at + i] = below(2) ? (uint8_t)rnd() : k_interesting[below(sizeof k_interesting)];
                }
                len += n;
            }
            break;
        }
        case 5: { /* delete a range */
            if (len > 0) {
                size_t at = below(len), n = 1 + below(len - at);
                memmove(buf + at, buf + at + n, len - at - n);
                len -= n;
            }
            break;
        }
        case 6: { /* splice: our prefix, another message's suffix */
            size_t at = below(len + 1), from = below(other_len + 1);
            size_t n = other_len - from;
            if (at + n <= cap) {
                memcpy(buf + at, other + from, n);
                len = at + n;
            }
            break;
        }
        default: { /* duplicate a range */
            if (len > 0) {
                size_t at = below(len), n = 1 + below(len - at);
                if (len + n <= cap) {
                    memmove(buf + at + n, buf + at, len - at);
                    len += n;
                }
            }
            break;
        }
        }
    }
    return len;
}

static void print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && i < 64; i++) {
        fprintf(stderr, "%02x", p[i]);
    }
    fprintf(stderr, n > 64 ? "...\n" : "\n");
}

int main(int argc, char **argv)
{
    unsigned long long iterations = 200000, seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            iterations = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: %s [--iterations N] [--seed S]\n", argv[0]);
            return 2;
        }
    }
    g_rng = seed;
    decoders_init();

    static uint8_t buf[RN_MAX_MESSAGE + 64];
    static uint8_t other[RN_MAX_MESSAGE];
    unsigned long long failures = 0, accepted = 0;
    unsigned long long kinds[4] = { 0 };
    for (unsigned long long it = 0; it < iterations; it++) {
        size_t len = 0;
        int expect_bs = 0;
        int bs;
        rn_msg m;
        unsigned kind = (unsigned)below(10);
        if (kind < 1) { /* noise */
            len = below(2) ? below(32) : below(sizeof buf + 1);
            for (size_t i = 0; i < len; i++) {
                buf[i] = (uint8_t)rnd();
            }
            kinds[0]++;
        } else if (kind < 3) { /* message-shaped msgpack */
            len = below(3) == 0 ? random_rle_input(buf, sizeof buf)
                                : random_msgpack(buf, sizeof buf);
            kinds[1]++;
        } else if (kind < 5) { /* a valid message must decode and round trip */
            len = valid_encoded(buf, sizeof buf, &bs, &m);
            expect_bs = len > 0 ? bs : 0;
            kinds[2]++;
        } else { /* a mutated valid message */
            len = valid_encoded(buf, sizeof buf, &bs, &m);
            size_t olen = below(2) ? valid_encoded(other, sizeof other, &bs, &m)
                                   : random_msgpack(other, sizeof other);
            len = mutate(buf, len, sizeof buf, other, olen);
            kinds[3]++;
        }
        int ok = 0;
        const char *why = check_input(buf, len, expect_bs, &ok);
        accepted += (unsigned long long)ok;
        if (why) {
            failures++;
            if (failures <= 10) {
                fprintf(stderr, "fuzz_protocol: iteration %llu: %s; input (%zu bytes): ", it,
                        why, len);
                print_hex(buf, len);
            }
        }
    }
    rn_decoder_free(&g_dec[0]);
    rn_decoder_free(&g_dec[1]);
    printf("fuzz_protocol: seed %llu: %llu noise, %llu msgpack, %llu valid, %llu mutated; "
           "%llu decodes accepted\n",
           seed, kinds[0], kinds[1], kinds[2], kinds[3], accepted);
    if (g_unencodable > 0) {
        fprintf(stderr, "fuzz_protocol: %llu generated messages did not encode\n", g_unencodable);
        failures += g_unencodable;
    }
    printf("fuzz_protocol: %llu inputs, %llu failures\n", iterations, failures);
    return failures == 0 ? 0 : 1;
}

#endif
