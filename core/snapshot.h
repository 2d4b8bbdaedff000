/* Snapshot writer/reader over msgpack, checksum, text dump. Internal. */
#ifndef RN_SNAPSHOT_H
#define RN_SNAPSHOT_H

#include <msgpack.h>

#include "rollnet/rollnet.h"

/* The writer packs into a fixed buffer it does not own. */
struct rollnet_writer {
    msgpack_packer pk;
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool overflow;
    /* Values the open containers announced and are still owed (2 per map
     * pair). The game writes container headers itself, so a header may lie.
     * Counting costs a compare per value; walking the bytes at every
     * save_end (rn_msgpack_measure) cost over 100 times more in the P2P bench. */
    uint64_t owed;
};

/* Start writing into buf[0..cap). Never allocates. */
void rn_writer_init(rollnet_writer *w, uint8_t *buf, size_t cap);
/* True when every container written so far got all the values its header
 * announced: the bytes are then a sequence of whole msgpack values, each
 * element backed by at least one byte, which is what the bounds walk
 * (rn_msgpack_measure) checks of untrusted data. */
static inline bool rn_writer_complete(const rollnet_writer *w)
{
    return w->owed == 0;
}

#define RN_READER_MAX_DEPTH 32

typedef struct rn_reader_frame {
    const msgpack_object *items;  /* array elements, or NULL for a map */
    const msgpack_object_kv *kv;  /* map pairs, or NULL for an array */
    uint32_t n;                   /* values in the container (2 * pairs for a map) */
    uint32_t i;                   /* next value */
} rn_reader_frame;

/* The reader decodes top-level values one at a time with msgpack_unpack into
 * a zone the caller owns and sizes with rn_reader_zone_size(); the zone is
 * cleared on init, so reading never allocates once the zone is created. */
struct rollnet_reader {
    const uint8_t *data;
    size_t len;
    size_t off;            /* next top-level value in data */
    msgpack_zone *zone;
    msgpack_object top;    /* the current top-level value */
    bool top_pending;      /* `top` has not been consumed yet */
    rn_reader_frame stack[RN_READER_MAX_DEPTH];
    int depth;
    bool error;
    bool trusted; /* whole values from rollnet_writer: skip the bounds walk */
};

/* Zone chunk size that guarantees decoding `capacity` bytes never grows the zone. */
size_t rn_reader_zone_size(size_t capacity);
/* Start reading data[0..len). The zone must come from msgpack_zone_init with
 * rn_reader_zone_size(>= len). */
void rn_reader_init(rollnet_reader *r, msgpack_zone *zone, const uint8_t *data, size_t len);
/* The same for bytes a rollnet_writer produced in library memory that were
 * accepted only with rn_writer_complete() true and no overflow (the session's
 * own snapshots, see rn_sync_save_end): every container is whole, so the
 * bounds walk that guards msgpack-c against forged container sizes is
 * skipped. The writer alone proves nothing: the game writes the headers.
 * Never use it for bytes that came from outside. */
void rn_reader_init_trusted(rollnet_reader *r, msgpack_zone *zone, const uint8_t *data, size_t len);
/* True when every written value has been read (no partially read container). */
bool rn_reader_done(const rollnet_reader *r);

/* Measure (without decoding) the msgpack value at p[off..len) by its headers
 * only. False when it runs past the end, holds the never-used byte 0xc1, or
 * a container announces more elements than bytes remain: msgpack-c reserves
 * zone space for a container's elements as soon as it reads the header, so
 * every decoder checks this first. *end is the offset just past the value. */
bool rn_msgpack_measure(const uint8_t *p, size_t len, size_t off, size_t *end);

/* Write msgpack data as readable text (one top-level value per line) into
 * buf (NUL-terminated, truncated to cap). Returns ROLLNET_ERR_OK,
 * BUFFER_TOO_SMALL when truncated, SNAPSHOT_READ when the data is not msgpack. */
rollnet_error rn_snapshot_dump(msgpack_zone *zone, const uint8_t *data, size_t len, char *buf,
                               size_t cap);

#endif
