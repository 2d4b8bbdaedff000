/* A state transfer's chunks and their checks (state_transfer.h). */
#include <string.h>
#include <xxhash.h>

#include "rn_alloc.h"
#include "snapshot.h"
#include "state_transfer.h"

static uint64_t state_hash(const uint8_t *data, size_t size)
{
    static const uint8_t empty[1] = {0};
    return XXH64(size > 0 ? data : empty, size, 0);
}

bool rn_state_out_begin(rn_state_out *o, uint16_t tag, const rn_state_info *info,
                        const uint8_t *data, size_t size, rn_msg *head)
{
    if (size > RN_STATE_MAX_BYTES || (size > 0 && !data)) {
        return false;
    }
    o->data = data;
    o->size = (uint32_t)size;
    o->tag = tag;
    memset(head, 0, sizeof *head);
    head->type = RN_MSG_STATE_HEAD;
    rn_state_head *h = &head->u.state_head;
    h->tag = tag;
    h->frame = info->frame;
    h->episode = info->episode;
    h->episode_start = info->episode_start;
    h->size = o->size;
    h->checksum = state_hash(data, size);
    return info->frame >= 0 && info->frame <= RN_MAX_FRAME && info->episode >= 0 &&
           info->episode <= info->frame && info->episode_start >= info->episode &&
           info->episode_start <= info->frame;
}

uint32_t rn_state_out_chunks(const rn_state_out *o)
{
    return (o->size + RN_STATE_CHUNK_BYTES - 1) / RN_STATE_CHUNK_BYTES;
}

void rn_state_out_chunk(const rn_state_out *o, uint32_t index, rn_msg *chunk)
{
    memset(chunk, 0, sizeof *chunk);
    chunk->type = RN_MSG_STATE_CHUNK;
    uint32_t off = index * RN_STATE_CHUNK_BYTES;
    uint32_t left = off < o->size ? o->size - off : 0;
    chunk->u.state_chunk.tag = o->tag;
    chunk->u.state_chunk.offset = off;
    chunk->u.state_chunk.data = o->data + off;
    chunk->u.state_chunk.size = left < RN_STATE_CHUNK_BYTES ? left : RN_STATE_CHUNK_BYTES;
}

rollnet_error rn_state_in_init(rn_state_in *in, const rollnet_allocator *a, size_t cap)
{
    memset(in, 0, sizeof *in);
    rn_allocator_resolve(a, &in->alloc);
    in->cap = cap < RN_STATE_MAX_BYTES ? cap : RN_STATE_MAX_BYTES;
    in->buf = rn_calloc(&in->alloc, 1, in->cap > 0 ? in->cap : 1);
    return in->buf ? ROLLNET_ERR_OK : ROLLNET_ERR_OUT_OF_MEMORY;
}

void rn_state_in_free(rn_state_in *in)
{
    rn_free(&in->alloc, in->buf);
    in->buf = NULL;
}

static rn_state_result refuse(rn_state_in *in, const char **why, const char *text)
{
    in->refused = true;
    *why = text;
    return RN_STATE_REFUSED;
}

/* The whole state arrived: its checksum, and whole msgpack values. */
static rn_state_result finish(rn_state_in *in, const char **why)
{
    if (state_hash(in->buf, in->size) != in->checksum) {
        return refuse(in, why, "its checksum does not match its bytes (corrupt)");
    }
    for (size_t off = 0; off < in->size;) {
        size_t end = 0;
        if (!rn_msgpack_measure(in->buf, in->size, off, &end)) {
            return refuse(in, why, "its bytes are not whole msgpack values");
        }
        off = end;
    }
    in->done = true;
    return RN_STATE_DONE;
}

static rn_state_result take_head(rn_state_in *in, const rn_state_head *h, const char **why)
{
    if (in->have_head) {
        return refuse(in, why, "a second head arrived before the first transfer ended");
    }
    if (h->size > in->cap) {
        return refuse(in, why, "it announces more bytes than snapshot_capacity (oversize)");
    }
    in->have_head = true;
    in->info.frame = h->frame;
    in->info.episode = h->episode;
    in->info.episode_start = h->episode_start;
    in->size = h->size;
    in->checksum = h->checksum;
    in->received = 0;
    return in->size == 0 ? finish(in, why) : RN_STATE_MORE;
}

static rn_state_result take_chunk(rn_state_in *in, const rn_state_chunk *c, const char **why)
{
    if (!in->have_head) {
        return refuse(in, why, "a chunk arrived before the head");
    }
    if (c->offset != in->received) {
        return refuse(in, why, "a chunk is out of order (its offset is not the next byte)");
    }
    if ((uint64_t)c->offset + c->size > in->size) {
        return refuse(in, why, "its chunks carry more bytes than the head announced");
    }
    memcpy(in->buf + c->offset, c->data, c->size);
    in->received += c->size;
    return in->received == in->size ? finish(in, why) : RN_STATE_MORE;
}

rn_state_result rn_state_in_feed(rn_state_in *in, const rn_msg *m, const char **why)
{
    if (in->done || in->refused) {
        return refuse(in, why, "a message arrived after the transfer ended");
    }
    if (m->type == RN_MSG_STATE_HEAD) {
        return take_head(in, &m->u.state_head, why);
    }
    if (m->type == RN_MSG_STATE_CHUNK) {
        return take_chunk(in, &m->u.state_chunk, why);
    }
    return refuse(in, why, "not a state transfer message");
}
