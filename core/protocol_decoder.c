/* The decoder's memory (protocol.h): one msgpack zone chunk and the buffer
 * INPUT's inputs are decompressed into, both taken once from the session's
 * allocator, so decoding never allocates. */
#include <string.h>

#include "protocol.h"
#include "rn_alloc.h"

#define RN_DECODER_INPUTS \
    ((size_t)RN_MAX_INPUT_FRAMES * ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE)

/* msgpack_unpack takes a container's slots from the zone as soon as it reads
 * the container's header. rn_msgpack_measure (core/snapshot.c) admits only data whose every container
 * count fits in the bytes left, so an n-byte message never asks for more than
 * n objects in all, plus one alignment pad per container: the zone below is
 * never outgrown by a message of RN_MAX_MESSAGE bytes. */
#define RN_ZONE_BYTES \
    ((size_t)RN_MAX_MESSAGE * (sizeof(msgpack_object) + MSGPACK_ZONE_ALIGN) + 64)

/* msgpack-c's chunk header (zone.c): a `next` pointer ahead of the data. The
 * decoder hands msgpack one chunk taken from the session's allocator, so the
 * zone never calls malloc; msgpack_zone_clear keeps the oldest chunk, which
 * is that one. */
#define RN_ZONE_CHUNK_HEADER sizeof(void *)

/* ------------------------------------------------------------------------ */
/* Decoder lifetime                                                          */
/* ------------------------------------------------------------------------ */

static rollnet_allocator rn_decoder_allocator(const rn_decoder *d)
{
    rollnet_allocator a;
    rn_allocator_resolve(d->allocator, &a);
    return a;
}

rollnet_error rn_decoder_init(rn_decoder *d, const rollnet_allocator *a)
{
    if (!d) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    memset(d, 0, sizeof *d);
    d->allocator = a;
    rollnet_allocator al = rn_decoder_allocator(d);
    uint8_t *chunk = rn_calloc(&al, 1, RN_ZONE_CHUNK_HEADER + RN_ZONE_BYTES);
    d->inputs = rn_calloc(&al, 1, RN_DECODER_INPUTS);
    if (!chunk || !d->inputs) {
        rn_free(&al, chunk);
        rn_free(&al, d->inputs);
        d->inputs = NULL;
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    /* The zeroed header is the chunk's `next` = NULL; no finalizers. */
    d->zone.chunk_list.head = (msgpack_zone_chunk *)(void *)chunk;
    d->zone.chunk_list.ptr = (char *)chunk + RN_ZONE_CHUNK_HEADER;
    d->zone.chunk_list.free = RN_ZONE_BYTES;
    d->zone.chunk_size = RN_ZONE_BYTES;
    d->zone_ready = true;
    return ROLLNET_ERR_OK;
}

void rn_decoder_free(rn_decoder *d)
{
    if (!d) {
        return;
    }
    rollnet_allocator al = rn_decoder_allocator(d);
    if (d->zone_ready) {
        /* Releases any chunk msgpack added itself (none while rn_msgpack_measure holds)
         * and leaves ours as the only one. */
        msgpack_zone_clear(&d->zone);
        rn_free(&al, d->zone.chunk_list.head);
        d->zone_ready = false;
    }
    rn_free(&al, d->inputs);
    d->inputs = NULL;
}
