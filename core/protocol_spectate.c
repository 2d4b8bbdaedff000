/* The wire messages of spectators and of the state transfer:
 *
 *   STATE_HEAD  [12, tag, frame, episode, episode_start, size, checksum]
 *               a transfer of the game's snapshot of `frame` begins
 *               (state_transfer.h); episode and episode_start at most frame,
 *               episode_start at least episode (every episode is a frame
 *               long at least); size: 0..RN_STATE_MAX_BYTES; checksum: XXH64
 *               of the size bytes.
 *   STATE_CHUNK [13, tag, offset, data]
 *               data: bin of 1..RN_STATE_CHUNK_BYTES, the bytes at offset.
 *               Whether they continue the transfer is the receiver's check.
 *   WATCH       [14, tag, start_frame, end_frame, inputs]
 *               to a spectator: inputs, a bin compressed by
 *               rn_inputs_compress, of 0..RN_MAX_INPUT_FRAMES blocks of every
 *               player's input (handle order) from start_frame (>= 0);
 *               end_frame: -1, or the first frame the session does not run
 *               (at least start_frame + count).
 *   WATCH_ACK   [15, tag, next_frame]
 *               from a spectator: it holds every input before next_frame.
 */
#include <string.h>

#include "protocol_fields.h"

#define RN_STATE_HEAD_ELEMENTS 7
#define RN_STATE_CHUNK_ELEMENTS 4
#define RN_WATCH_ELEMENTS 5
#define RN_WATCH_ACK_ELEMENTS 3

bool rn_spectate_msg_valid(const rn_msg *m)
{
    switch (m->type) {
    case RN_MSG_STATE_HEAD: {
        const rn_state_head *h = &m->u.state_head;
        return h->frame >= 0 && rn_frame_ok(h->frame) && h->episode >= 0 &&
               h->episode <= h->frame && h->episode_start >= h->episode &&
               h->episode_start <= h->frame && h->size <= RN_STATE_MAX_BYTES;
    }
    case RN_MSG_STATE_CHUNK: {
        const rn_state_chunk *c = &m->u.state_chunk;
        return c->data != NULL && c->size >= 1 && c->size <= RN_STATE_CHUNK_BYTES &&
               (uint64_t)c->offset + c->size <= RN_STATE_MAX_BYTES;
    }
    case RN_MSG_WATCH: {
        const rn_watch *w = &m->u.watch;
        int64_t after = (int64_t)w->start_frame + w->count;
        return w->start_frame >= 0 && w->count >= 0 && w->count <= RN_MAX_INPUT_FRAMES &&
               after <= (int64_t)RN_MAX_FRAME + 1 && (w->count == 0 || w->inputs != NULL) &&
               (w->end_frame == -1 || (w->end_frame >= after && rn_frame_ok(w->end_frame)));
    }
    case RN_MSG_WATCH_ACK:
        return m->u.watch_ack.next_frame >= 0 &&
               m->u.watch_ack.next_frame <= (int32_t)RN_MAX_FRAME + 1;
    default:
        return false;
    }
}

int rn_spectate_pack(msgpack_packer *pk, const rn_msg *m, int block_size)
{
    int r = 0;
    switch (m->type) {
    case RN_MSG_STATE_HEAD: {
        const rn_state_head *h = &m->u.state_head;
        r |= msgpack_pack_array(pk, RN_STATE_HEAD_ELEMENTS);
        r |= msgpack_pack_uint8(pk, RN_MSG_STATE_HEAD);
        r |= msgpack_pack_uint16(pk, h->tag);
        r |= msgpack_pack_int32(pk, h->frame);
        r |= msgpack_pack_int32(pk, h->episode);
        r |= msgpack_pack_int32(pk, h->episode_start);
        r |= msgpack_pack_uint32(pk, h->size);
        r |= msgpack_pack_uint64(pk, h->checksum);
        return r;
    }
    case RN_MSG_STATE_CHUNK:
        r |= msgpack_pack_array(pk, RN_STATE_CHUNK_ELEMENTS);
        r |= msgpack_pack_uint8(pk, RN_MSG_STATE_CHUNK);
        r |= msgpack_pack_uint16(pk, m->u.state_chunk.tag);
        r |= msgpack_pack_uint32(pk, m->u.state_chunk.offset);
        r |= msgpack_pack_bin_with_body(pk, m->u.state_chunk.data, m->u.state_chunk.size);
        return r;
    case RN_MSG_WATCH: {
        const rn_watch *w = &m->u.watch;
        uint8_t packed[RN_MAX_MESSAGE];
        size_t len = 0;
        if (w->count > 0 && !rn_inputs_compress(w->inputs, w->count, block_size, packed,
                                                sizeof packed, &len)) {
            return -1;
        }
        r |= msgpack_pack_array(pk, RN_WATCH_ELEMENTS);
        r |= msgpack_pack_uint8(pk, RN_MSG_WATCH);
        r |= msgpack_pack_uint16(pk, w->tag);
        r |= msgpack_pack_int32(pk, w->start_frame);
        r |= msgpack_pack_int32(pk, w->end_frame);
        r |= msgpack_pack_bin_with_body(pk, packed, len);
        return r;
    }
    case RN_MSG_WATCH_ACK:
        r |= msgpack_pack_array(pk, RN_WATCH_ACK_ELEMENTS);
        r |= msgpack_pack_uint8(pk, RN_MSG_WATCH_ACK);
        r |= msgpack_pack_uint16(pk, m->u.watch_ack.tag);
        r |= msgpack_pack_int32(pk, m->u.watch_ack.next_frame);
        return r;
    default:
        return -1;
    }
}

static bool parse_head(const msgpack_object *e, rn_state_head *h)
{
    return rn_get_u16(&e[1], &h->tag) && rn_get_i32(&e[2], &h->frame) &&
           rn_get_i32(&e[3], &h->episode) && rn_get_i32(&e[4], &h->episode_start) &&
           rn_get_u32(&e[5], &h->size) && rn_get_uint(&e[6], UINT64_MAX, &h->checksum);
}

static bool parse_chunk(const msgpack_object *e, rn_state_chunk *c)
{
    size_t size = 0;
    if (!rn_get_u16(&e[1], &c->tag) || !rn_get_u32(&e[2], &c->offset) ||
        !rn_get_bin(&e[3], RN_STATE_CHUNK_BYTES, &c->data, &size)) {
        return false;
    }
    c->size = (uint32_t)size;
    return true;
}

static bool parse_watch(rn_decoder *d, const msgpack_object *e, int block_size, rn_watch *w)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    if (!rn_get_u16(&e[1], &w->tag) || !rn_get_i32(&e[2], &w->start_frame) ||
        !rn_get_i32(&e[3], &w->end_frame) || !rn_get_bin(&e[4], RN_MAX_MESSAGE, &data, &len) ||
        block_size < 1 || block_size > ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE) {
        return false;
    }
    int count = len == 0 ? 0
                         : rn_inputs_decompress(data, len, block_size, d->inputs,
                                                RN_MAX_INPUT_FRAMES);
    if (count < 0) {
        return false;
    }
    w->count = count;
    w->inputs = d->inputs;
    return true;
}

bool rn_spectate_parse(rn_decoder *d, const msgpack_object *e, uint32_t n, int block_size,
                       rn_msg *out, bool *ok)
{
    switch (e[0].via.u64) {
    case RN_MSG_STATE_HEAD:
        *ok = n == RN_STATE_HEAD_ELEMENTS && parse_head(e, &out->u.state_head);
        return true;
    case RN_MSG_STATE_CHUNK:
        *ok = n == RN_STATE_CHUNK_ELEMENTS && parse_chunk(e, &out->u.state_chunk);
        return true;
    case RN_MSG_WATCH:
        *ok = n == RN_WATCH_ELEMENTS && parse_watch(d, e, block_size, &out->u.watch);
        return true;
    case RN_MSG_WATCH_ACK:
        *ok = n == RN_WATCH_ACK_ELEMENTS && rn_get_u16(&e[1], &out->u.watch_ack.tag) &&
              rn_get_i32(&e[2], &out->u.watch_ack.next_frame);
        return true;
    default:
        return false;
    }
}
