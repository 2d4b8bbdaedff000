/* Wire messages. Each is one msgpack array; element 0 is the rn_msg_type.
 * Layouts, in element order (integers in the shortest msgpack form):
 *
 *   HELLO    [1, version, nonce, num_players, input_size, input_delay, fps,
 *             max_prediction, checksum_interval, game_id, seed, player_mask,
 *             game_params, keyed, rejoin]
 *            version: RN_PROTOCOL_VERSION; nonce: the sender's session nonce;
 *            then its session parameters; player_mask: players local to it
 *            (0: a spectator, which watches and plays nobody);
 *            game_params: bin, the sender's desc.game_params (empty: none),
 *            which must be a map rn_game_params_parse accepts; keyed: bool,
 *            the sender has a session key (AUTH follows); rejoin: bool, the
 *            sender takes the place of a crashed peer (p2p_rejoin.c).
 *   REFUSE   [2, param, local_value, remote_value, key]
 *            param: the rollnet_param that differs; local_value: the sender's
 *            own value; remote_value: the receiver's, as the sender saw it;
 *            key: str, see rn_game_params_refusal_ok (empty but for GAME_PARAMS).
 *   INPUT    [3, tag, episode, ack_frame, start_frame - ack_frame,
 *             frame_advantage, inputs, delay]
 *            tag: rn_nonce_tag(sender's nonce); episode: the sender's current
 *            episode; ack_frame: last receiver-input frame the sender has
 *            confirmed, -1 none; element 4: 0 when no frames are carried;
 *            frame_advantage: the sender's, clamped to int8; inputs: bin,
 *            the `count` blocks compressed by rn_inputs_compress. `count` is
 *            not sent: the receiver gets it by decompressing with the block
 *            size it expects from that peer. delay: the sender's input
 *            delay (the smallest of its players'), 0..ROLLNET_MAX_INPUT_DELAY:
 *            its newest input frame lies delay - 1 frames past its next frame,
 *            so the receiver knows which frame the sender runs.
 *   CHECKSUM [4, tag, episode, frame, checksum]
 *            the sender's checksum of its confirmed `frame` in `episode`.
 *   LOADING  [5, tag, loading, grace_ms, frame]
 *            loading: bool, true begins and false ends; grace_ms: the grace
 *            the sender asks for; frame: the newest input frame the sender
 *            had sent, -1 none.
 *   LEAVE    [6, tag, player_mask, last_frame, count, data, left, fin_stop, fin_end,
 *             neutral_from]
 *            player_mask: the departed peer's players; last_frame: the
 *            sender's last confirmed frame of them, -1 none; count: frames
 *            carried, last_frame-count+1 .. last_frame; data: bin, those
 *            frames compressed by rn_inputs_compress, a block being the
 *            departed players' inputs in handle order. The decoder checks
 *            count's range but not data against it: the receiver does.
 *            left: the departed peer left on purpose (player_mask is then
 *            the sender's own when it announces its departure itself);
 *            fin_stop, fin_end: the departed peer's FINISH (where it stopped,
 *            where its inputs end) as the sender heard it, -1 -1 when not;
 *            neutral_from: the first frame the sender played the departed
 *            players neutral while they were away, up to the departure
 *            (absent_play NEUTRAL), -1 none; at most last_frame + 1.
 *   FINISH   [7, tag, stop, inputs_end, done]
 *            stop: the sender's next frame when it began finishing;
 *            inputs_end: the first frame without an input of its players
 *            (it adds no more), at least stop; done: false when it starts
 *            finishing, true once every frame before the session's end is
 *            confirmed there.
 *   AUTH     [8, proof]
 *            proof: bin of RN_AUTH_BYTES, the sender's rn_auth_proof (auth.h)
 *            over both nonces and both peers' players. Sent
 *            by a peer with a session key once the other's HELLO matched.
 *   READY    [9, elapsed_ms]
 *            the sender accepted the receiver (its HELLO, and its AUTH with
 *            a key) elapsed_ms ago; sent reliably on accepting, then
 *            unreliably every poll until the sender runs, so that the
 *            receiver learns when the sender accepted even when one copy is
 *            late. Both ends of a link start at the later acceptance plus
 *            one way (p2p_handshake.c).
 *   INTRO    [10, tag, player_mask, address]
 *            the sender accepted the peer that hosts player_mask (non-zero,
 *            below 1 << ROLLNET_MAX_PLAYERS) and completed the handshake
 *            with it; address: str of 1..RN_INTRO_ADDRESS_MAX bytes without
 *            a NUL, where the sender's transport sees that peer. The
 *            receiver may dial it; the handshake between them still decides
 *            (p2p_intro.c).
 *   INTRO_ASK [11, tag, player_mask]
 *            the sender has no address for player_mask (non-zero, below
 *            1 << ROLLNET_MAX_PLAYERS): sent to each peer it dialled, so that
 *            a host introduces two joiners only when each asked for the
 *            other (neither dials the other on its own).
 *   STATE_HEAD, STATE_CHUNK, WATCH, WATCH_ACK: see protocol_spectate.c.
 *   ABSENT   [17, tag, player_mask, last_frame, count, data, nonce, neutral_from,
 *             survivors]
 *            3+ players: the sender's note about a lost peer (rn_absent,
 *            p2p_absent.c). player_mask, last_frame, count and data as in
 *            LEAVE, except that the frames carried end at neutral_from - 1
 *            when neutral_from >= 0 (frames from it on are neutral: nothing
 *            to carry); nonce: 0 when the sender lost the peer, else the
 *            nonce of the rejoining process it accepted in its place;
 *            survivors: the players of the survivors whose notes the
 *            sender's agreement takes, its own included.
 *
 *   RESUME   [10, kind, nonce, peer_nonce, player_mask, challenge, proof]
 *            a lost connection regained (rn_resume): kind 0..3 (claim,
 *            challenge, proof, accept); nonce: the sender's session nonce;
 *            peer_nonce: the receiver's, as the first handshake told the
 *            sender; player_mask: the sender's players (non-zero, in range);
 *            challenge: a value the challenger never used before (0 in a
 *            claim or an accept); proof: bin, empty or RN_AUTH_BYTES (only
 *            in a proof).
 *
 * INPUT goes out every frame to every peer, so its start frame travels as a
 * delta from the ack (a fixint in steady play) and its inputs as a bin
 * compressed by rn_inputs_compress. */
#include <limits.h>
#include <string.h>

#include "game_params.h"
#include "protocol.h"
#include "protocol_valid.h"
#include "protocol_fields.h"
#include "snapshot.h"


#define RN_HELLO_ELEMENTS 15
#define RN_AUTH_ELEMENTS 2
#define RN_REFUSE_ELEMENTS 5
#define RN_CHECKSUM_ELEMENTS 5
#define RN_INTRO_ELEMENTS 4
#define RN_INTRO_ASK_ELEMENTS 3
#define RN_LOADING_ELEMENTS 5
#define RN_LEAVE_ELEMENTS 10
#define RN_ABSENT_ELEMENTS 9
#define RN_FINISH_ELEMENTS 5
#define RN_RESUME_ELEMENTS 7


uint16_t rn_nonce_tag(uint64_t nonce)
{
    uint16_t t = (uint16_t)(nonce ^ (nonce >> 16) ^ (nonce >> 32) ^ (nonce >> 48));
    return t != 0 ? t : 1;
}

/* ------------------------------------------------------------------------ */
/* Encode                                                                    */
/* ------------------------------------------------------------------------ */


static int rn_pack_input(msgpack_packer *pk, const rn_input *in, int block_size)
{
    /* Anything larger than RN_MAX_MESSAGE would be dropped by the receiver. */
    uint8_t packed[RN_MAX_MESSAGE];
    size_t packed_len = 0;
    if (!rn_block_size_ok(block_size) ||
        !rn_inputs_compress(in->inputs, in->count, block_size, packed, sizeof packed,
                            &packed_len)) {
        return -1;
    }
    int64_t delta = in->count > 0 ? (int64_t)in->start_frame - in->ack_frame : 0;
    int r = msgpack_pack_array(pk, RN_INPUT_ELEMENTS);
    r |= msgpack_pack_uint8(pk, RN_MSG_INPUT);
    r |= msgpack_pack_uint16(pk, in->tag);
    r |= msgpack_pack_int32(pk, in->episode);
    r |= msgpack_pack_int32(pk, in->ack_frame);
    r |= msgpack_pack_int64(pk, delta);
    r |= msgpack_pack_int8(pk, in->frame_advantage);
    r |= msgpack_pack_bin(pk, packed_len);
    r |= msgpack_pack_bin_body(pk, packed, packed_len);
    r |= msgpack_pack_int8(pk, in->delay);
    return r;
}

/* HELLO, LEAVE, ABSENT element by element, as the layouts at the top say. */
static int pack_hello(msgpack_packer *pk, const rn_hello *h)
{
    int r = 0;
    r |= msgpack_pack_array(pk, RN_HELLO_ELEMENTS);
    r |= msgpack_pack_uint8(pk, RN_MSG_HELLO);
    r |= msgpack_pack_uint32(pk, h->version);
    r |= msgpack_pack_uint64(pk, h->nonce);
    r |= msgpack_pack_int32(pk, h->num_players);
    r |= msgpack_pack_int32(pk, h->input_size);
    r |= msgpack_pack_int32(pk, h->input_delay);
    r |= msgpack_pack_int32(pk, h->fps);
    r |= msgpack_pack_int32(pk, h->max_prediction);
    r |= msgpack_pack_int32(pk, h->checksum_interval);
    r |= msgpack_pack_uint64(pk, h->game_id);
    r |= msgpack_pack_uint64(pk, h->seed);
    r |= msgpack_pack_uint32(pk, h->player_mask);
    r |= msgpack_pack_bin_with_body(pk, h->game_params, h->game_params_size);
    r |= h->keyed ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    r |= h->rejoin ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    return r;
}

static int pack_leave(msgpack_packer *pk, const rn_leave *x)
{
    int r = 0;
    r |= msgpack_pack_array(pk, RN_LEAVE_ELEMENTS);
    r |= msgpack_pack_uint8(pk, RN_MSG_LEAVE);
    r |= msgpack_pack_uint16(pk, x->tag);
    r |= msgpack_pack_uint32(pk, x->player_mask);
    r |= msgpack_pack_int32(pk, x->last_frame);
    r |= msgpack_pack_int32(pk, x->count);
    r |= msgpack_pack_bin_with_body(pk, x->data, x->size);
    r |= x->left ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    r |= msgpack_pack_int32(pk, x->fin_stop);
    r |= msgpack_pack_int32(pk, x->fin_end);
    r |= msgpack_pack_int32(pk, x->neutral_from);
    return r;
}

static int pack_absent(msgpack_packer *pk, const rn_absent *x)
{
    int r = 0;
    r |= msgpack_pack_array(pk, RN_ABSENT_ELEMENTS);
    r |= msgpack_pack_uint8(pk, RN_MSG_ABSENT);
    r |= msgpack_pack_uint16(pk, x->tag);
    r |= msgpack_pack_uint32(pk, x->player_mask);
    r |= msgpack_pack_int32(pk, x->last_frame);
    r |= msgpack_pack_int32(pk, x->count);
    r |= msgpack_pack_bin_with_body(pk, x->data, x->size);
    r |= msgpack_pack_uint64(pk, x->nonce);
    r |= msgpack_pack_int32(pk, x->neutral_from);
    r |= msgpack_pack_uint32(pk, x->survivors);
    return r;
}

size_t rn_encode(const rn_msg *m, int block_size, uint8_t *out, size_t cap)
{
    if (!m || !out || !rn_msg_valid(m)) {
        return 0;
    }
    /* The snapshot writer's packer: a fixed buffer, no allocation. */
    rollnet_writer w;
    rn_writer_init(&w, out, cap < RN_MAX_MESSAGE ? cap : RN_MAX_MESSAGE);
    msgpack_packer pk = w.pk;
    int r = 0;
    switch (m->type) {
    case RN_MSG_HELLO:
        r |= pack_hello(&pk, &m->u.hello);
        break;
    case RN_MSG_REFUSE:
        r |= msgpack_pack_array(&pk, RN_REFUSE_ELEMENTS);
        r |= msgpack_pack_uint8(&pk, RN_MSG_REFUSE);
        r |= msgpack_pack_uint32(&pk, m->u.refuse.param);
        r |= msgpack_pack_int64(&pk, m->u.refuse.local_value);
        r |= msgpack_pack_int64(&pk, m->u.refuse.remote_value);
        r |= msgpack_pack_str_with_body(&pk, m->u.refuse.key, strlen(m->u.refuse.key));
        break;
    case RN_MSG_INPUT:
        r |= rn_pack_input(&pk, &m->u.input, block_size);
        break;
    case RN_MSG_CHECKSUM:
        r |= msgpack_pack_array(&pk, RN_CHECKSUM_ELEMENTS);
        r |= msgpack_pack_uint8(&pk, RN_MSG_CHECKSUM);
        r |= msgpack_pack_uint16(&pk, m->u.checksum.tag);
        r |= msgpack_pack_int32(&pk, m->u.checksum.episode);
        r |= msgpack_pack_int32(&pk, m->u.checksum.frame);
        r |= msgpack_pack_uint64(&pk, m->u.checksum.checksum);
        break;
    case RN_MSG_LOADING:
        r |= msgpack_pack_array(&pk, RN_LOADING_ELEMENTS);
        r |= msgpack_pack_uint8(&pk, RN_MSG_LOADING);
        r |= msgpack_pack_uint16(&pk, m->u.loading.tag);
        r |= m->u.loading.loading ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
        r |= msgpack_pack_uint32(&pk, m->u.loading.grace_ms);
        r |= msgpack_pack_int32(&pk, m->u.loading.frame);
        break;
    case RN_MSG_LEAVE:
        r |= pack_leave(&pk, &m->u.leave);
        break;
    case RN_MSG_ABSENT:
        r |= pack_absent(&pk, &m->u.absent);
        break;
    case RN_MSG_FINISH:
        r |= msgpack_pack_array(&pk, RN_FINISH_ELEMENTS);
        r |= msgpack_pack_uint8(&pk, RN_MSG_FINISH);
        r |= msgpack_pack_uint16(&pk, m->u.finish.tag);
        r |= msgpack_pack_int32(&pk, m->u.finish.stop);
        r |= msgpack_pack_int32(&pk, m->u.finish.inputs_end);
        r |= m->u.finish.done ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
        break;
    case RN_MSG_AUTH:
        r |= msgpack_pack_array(&pk, RN_AUTH_ELEMENTS);
        r |= msgpack_pack_uint8(&pk, RN_MSG_AUTH);
        r |= msgpack_pack_bin_with_body(&pk, m->u.auth.proof, RN_AUTH_BYTES);
        break;
    case RN_MSG_READY:
        r |= msgpack_pack_array(&pk, 2);
        r |= msgpack_pack_uint8(&pk, RN_MSG_READY);
        r |= msgpack_pack_uint32(&pk, m->u.ready.elapsed_ms);
        break;
    case RN_MSG_INTRO:
        r |= msgpack_pack_array(&pk, RN_INTRO_ELEMENTS);
        r |= msgpack_pack_uint8(&pk, RN_MSG_INTRO);
        r |= msgpack_pack_uint16(&pk, m->u.intro.tag);
        r |= msgpack_pack_uint32(&pk, m->u.intro.player_mask);
        r |= msgpack_pack_str_with_body(&pk, m->u.intro.address, m->u.intro.address_len);
        break;
    case RN_MSG_INTRO_ASK:
        r |= msgpack_pack_array(&pk, RN_INTRO_ASK_ELEMENTS);
        r |= msgpack_pack_uint8(&pk, RN_MSG_INTRO_ASK);
        r |= msgpack_pack_uint16(&pk, m->u.intro_ask.tag);
        r |= msgpack_pack_uint32(&pk, m->u.intro_ask.player_mask);
        break;
    case RN_MSG_RESUME:
        r |= msgpack_pack_array(&pk, RN_RESUME_ELEMENTS);
        r |= msgpack_pack_uint8(&pk, RN_MSG_RESUME);
        r |= msgpack_pack_uint8(&pk, m->u.resume.kind);
        r |= msgpack_pack_uint64(&pk, m->u.resume.nonce);
        r |= msgpack_pack_uint64(&pk, m->u.resume.peer_nonce);
        r |= msgpack_pack_uint32(&pk, m->u.resume.player_mask);
        r |= msgpack_pack_uint64(&pk, m->u.resume.challenge);
        r |= msgpack_pack_bin_with_body(&pk, m->u.resume.proof,
                                        m->u.resume.has_proof ? RN_AUTH_BYTES : 0);
        break;
    default:
        r |= rn_spectate_pack(&pk, m, block_size);
        break;
    }
    return r == 0 && !w.overflow ? w.len : 0;
}

/* ------------------------------------------------------------------------ */
/* Decode                                                                    */
/* ------------------------------------------------------------------------ */








static bool rn_parse_hello(const msgpack_object *e, rn_hello *h)
{
    return rn_get_u32(&e[1], &h->version) && rn_get_uint(&e[2], UINT64_MAX, &h->nonce) &&
           rn_get_i32(&e[3], &h->num_players) && rn_get_i32(&e[4], &h->input_size) &&
           rn_get_i32(&e[5], &h->input_delay) && rn_get_i32(&e[6], &h->fps) &&
           rn_get_i32(&e[7], &h->max_prediction) && rn_get_i32(&e[8], &h->checksum_interval) &&
           rn_get_uint(&e[9], UINT64_MAX, &h->game_id) &&
           rn_get_uint(&e[10], UINT64_MAX, &h->seed) && rn_get_u32(&e[11], &h->player_mask) &&
           rn_get_bin(&e[12], ROLLNET_MAX_GAME_PARAMS, &h->game_params, &h->game_params_size) &&
           rn_get_bool(&e[13], &h->keyed) && rn_get_bool(&e[14], &h->rejoin);
}

static bool rn_parse_refuse(const msgpack_object *e, rn_refuse *r)
{
    if (!rn_get_u32(&e[1], &r->param) ||
        !rn_get_int(&e[2], INT64_MIN, INT64_MAX, &r->local_value) ||
        !rn_get_int(&e[3], INT64_MIN, INT64_MAX, &r->remote_value) ||
        e[4].type != MSGPACK_OBJECT_STR || e[4].via.str.size >= sizeof(r->key)) {
        return false;
    }
    /* A NUL inside would cut the key short: rn_refuse_valid rejects it. */
    if (e[4].via.str.size > 0) { /* an empty str may come with a NULL pointer */
        memcpy(r->key, e[4].via.str.ptr, e[4].via.str.size);
    }
    r->key[e[4].via.str.size] = '\0';
    return e[4].via.str.size == 0 || memchr(r->key, '\0', e[4].via.str.size) == NULL;
}

static bool rn_parse_input(rn_decoder *d, const msgpack_object *e, int block_size, rn_input *in)
{
    int64_t delta, adv, delay;
    if (!rn_get_u16(&e[1], &in->tag) || !rn_get_i32(&e[2], &in->episode) ||
        !rn_get_i32(&e[3], &in->ack_frame) ||
        !rn_get_int(&e[4], -(int64_t)RN_MAX_FRAME - 1, (int64_t)RN_MAX_FRAME + 1, &delta) ||
        !rn_get_int(&e[5], INT8_MIN, INT8_MAX, &adv) || e[6].type != MSGPACK_OBJECT_BIN ||
        !rn_get_int(&e[7], 0, ROLLNET_MAX_INPUT_DELAY, &delay) || !rn_block_size_ok(block_size)) {
        return false;
    }
    int count = rn_inputs_decompress((const uint8_t *)e[6].via.bin.ptr, e[6].via.bin.size,
                                     block_size, d->inputs, RN_MAX_INPUT_FRAMES);
    if (count < 0 || (count == 0 && delta != 0)) {
        return false;
    }
    int64_t start = (int64_t)in->ack_frame + delta;
    if (start < INT32_MIN || start > INT32_MAX) {
        return false;
    }
    in->start_frame = (int32_t)start;
    in->count = count;
    in->frame_advantage = (int8_t)adv;
    in->delay = (int8_t)delay;
    in->inputs = d->inputs;
    return true;
}

static bool rn_parse_checksum(const msgpack_object *e, rn_checksum *c)
{
    return rn_get_u16(&e[1], &c->tag) && rn_get_i32(&e[2], &c->episode) &&
           rn_get_i32(&e[3], &c->frame) && rn_get_uint(&e[4], UINT64_MAX, &c->checksum);
}

static bool rn_parse_loading(const msgpack_object *e, rn_loading *l)
{
    return rn_get_u16(&e[1], &l->tag) && rn_get_bool(&e[2], &l->loading) &&
           rn_get_u32(&e[3], &l->grace_ms) && rn_get_i32(&e[4], &l->frame) &&
           rn_frame_ok(l->frame);
}

static bool rn_parse_leave(const msgpack_object *e, rn_leave *l)
{
    return rn_get_u16(&e[1], &l->tag) && rn_get_u32(&e[2], &l->player_mask) &&
           rn_get_i32(&e[3], &l->last_frame) && rn_get_i32(&e[4], &l->count) &&
           rn_get_bin(&e[5], RN_MAX_MESSAGE, &l->data, &l->size) &&
           rn_get_bool(&e[6], &l->left) && rn_get_i32(&e[7], &l->fin_stop) &&
           rn_get_i32(&e[8], &l->fin_end) && rn_get_i32(&e[9], &l->neutral_from);
}

static bool rn_parse_absent(const msgpack_object *e, rn_absent *a)
{
    return rn_get_u16(&e[1], &a->tag) && rn_get_u32(&e[2], &a->player_mask) &&
           rn_get_i32(&e[3], &a->last_frame) && rn_get_i32(&e[4], &a->count) &&
           rn_get_bin(&e[5], RN_MAX_MESSAGE, &a->data, &a->size) &&
           rn_get_uint(&e[6], UINT64_MAX, &a->nonce) && rn_get_i32(&e[7], &a->neutral_from) &&
           rn_get_u32(&e[8], &a->survivors);
}

static bool rn_parse_finish(const msgpack_object *e, rn_finish *f)
{
    return rn_get_u16(&e[1], &f->tag) && rn_get_i32(&e[2], &f->stop) &&
           rn_get_i32(&e[3], &f->inputs_end) && rn_get_bool(&e[4], &f->done);
}

static bool rn_parse_auth(const msgpack_object *e, rn_auth *a)
{
    if (e[1].type != MSGPACK_OBJECT_BIN || e[1].via.bin.size != RN_AUTH_BYTES) {
        return false;
    }
    memcpy(a->proof, e[1].via.bin.ptr, RN_AUTH_BYTES);
    return true;
}

static bool rn_parse_intro(const msgpack_object *e, rn_intro *in)
{
    if (!rn_get_u16(&e[1], &in->tag) || !rn_get_u32(&e[2], &in->player_mask) ||
        e[3].type != MSGPACK_OBJECT_STR) {
        return false;
    }
    /* The length, and no NUL inside (it would cut the address short), are
     * checked with the other ranges. */
    in->address = e[3].via.str.ptr;
    in->address_len = e[3].via.str.size;
    return true;
}

static bool rn_parse_resume(const msgpack_object *e, rn_resume *r)
{
    uint64_t kind = 0;
    if (!rn_get_uint(&e[1], RN_RESUME_KINDS_ - 1, &kind) ||
        !rn_get_uint(&e[2], UINT64_MAX, &r->nonce) ||
        !rn_get_uint(&e[3], UINT64_MAX, &r->peer_nonce) || !rn_get_u32(&e[4], &r->player_mask) ||
        !rn_get_uint(&e[5], UINT64_MAX, &r->challenge) || e[6].type != MSGPACK_OBJECT_BIN ||
        (e[6].via.bin.size != 0 && e[6].via.bin.size != RN_AUTH_BYTES)) {
        return false;
    }
    r->kind = (uint8_t)kind;
    r->has_proof = e[6].via.bin.size == RN_AUTH_BYTES;
    if (r->has_proof) {
        memcpy(r->proof, e[6].via.bin.ptr, RN_AUTH_BYTES);
    }
    return true;
}

rn_decode_result rn_decode(rn_decoder *d, const uint8_t *data, size_t len, int block_size,
                           rn_msg *out)
{
    if (len > RN_MAX_MESSAGE) {
        return RN_DECODE_OVERSIZE;
    }
    size_t end = 0;
    if (!d || !d->zone_ready || !out || !data || !rn_msgpack_measure(data, len, 0, &end) || end != len) {
        return RN_DECODE_MALFORMED;
    }
    msgpack_zone_clear(&d->zone);
    msgpack_object root;
    if (msgpack_unpack((const char *)data, len, NULL, &d->zone, &root) !=
            MSGPACK_UNPACK_SUCCESS ||
        root.type != MSGPACK_OBJECT_ARRAY || root.via.array.size == 0) {
        return RN_DECODE_MALFORMED;
    }
    const msgpack_object *e = root.via.array.ptr;
    uint32_t n = root.via.array.size;
    if (e[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        return RN_DECODE_MALFORMED;
    }
    rn_msg m;
    memset(&m, 0, sizeof m);
    bool ok;
    switch (e[0].via.u64) {
    case RN_MSG_HELLO:
        ok = n == RN_HELLO_ELEMENTS && rn_parse_hello(e, &m.u.hello);
        if (!ok && n >= 2 && rn_get_u32(&e[1], &m.u.hello.version) &&
            m.u.hello.version != RN_PROTOCOL_VERSION) {
            /* Another rollnet's HELLO, laid out its own way: only its
             * version is read, so that it is refused naming the version
             * (REFUSE's layout has not changed since version 2). */
            memset(&m.u.hello, 0, sizeof m.u.hello);
            rn_get_u32(&e[1], &m.u.hello.version);
            ok = true;
        }
        break;
    case RN_MSG_REFUSE:
        ok = n == RN_REFUSE_ELEMENTS && rn_parse_refuse(e, &m.u.refuse);
        break;
    case RN_MSG_INPUT:
        ok = n == RN_INPUT_ELEMENTS && rn_parse_input(d, e, block_size, &m.u.input);
        break;
    case RN_MSG_CHECKSUM:
        ok = n == RN_CHECKSUM_ELEMENTS && rn_parse_checksum(e, &m.u.checksum);
        break;
    case RN_MSG_LOADING:
        ok = n == RN_LOADING_ELEMENTS && rn_parse_loading(e, &m.u.loading);
        break;
    case RN_MSG_LEAVE:
        ok = n == RN_LEAVE_ELEMENTS && rn_parse_leave(e, &m.u.leave);
        break;
    case RN_MSG_ABSENT:
        ok = n == RN_ABSENT_ELEMENTS && rn_parse_absent(e, &m.u.absent);
        break;
    case RN_MSG_FINISH:
        ok = n == RN_FINISH_ELEMENTS && rn_parse_finish(e, &m.u.finish);
        break;
    case RN_MSG_AUTH:
        ok = n == RN_AUTH_ELEMENTS && rn_parse_auth(e, &m.u.auth);
        break;
    case RN_MSG_READY:
        ok = n == 2 && rn_get_u32(&e[1], &m.u.ready.elapsed_ms);
        break;
    case RN_MSG_INTRO:
        ok = n == RN_INTRO_ELEMENTS && rn_parse_intro(e, &m.u.intro);
        break;
    case RN_MSG_INTRO_ASK:
        ok = n == RN_INTRO_ASK_ELEMENTS && rn_get_u16(&e[1], &m.u.intro_ask.tag) &&
             rn_get_u32(&e[2], &m.u.intro_ask.player_mask);
        break;
    case RN_MSG_RESUME:
        ok = n == RN_RESUME_ELEMENTS && rn_parse_resume(e, &m.u.resume);
        break;
    default:
        if (!rn_spectate_parse(d, e, n, block_size, &m, &ok)) {
            return RN_DECODE_UNKNOWN;
        }
        break;
    }
    m.type = (rn_msg_type)e[0].via.u64;
    if (!ok || !rn_msg_valid(&m)) {
        return RN_DECODE_MALFORMED;
    }
    *out = m;
    return RN_DECODE_OK;
}
