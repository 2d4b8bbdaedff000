/* A stream of msgpack values read from a file through a bounded buffer, and
 * the small decoders the replay reader and rollnet-diff use on its values.
 * Every value is measured by its headers (rn_msgpack_measure) before anything
 * decodes it, so a lying container header costs nothing; a value larger than
 * the buffer is refused, so memory stays bounded whatever the file holds.
 * Internal to the plugin and its tools. */
#ifndef RN_MPSTREAM_H
#define RN_MPSTREAM_H

#include <stdio.h>

#include "rollnet/rollnet.h"

typedef struct rn_mpstream {
    FILE *f;
    rollnet_allocator alloc;
    uint8_t *buf;
    size_t cap, pos, len;
    long base; /* file offset of buf[0] */
    bool eof;
} rn_mpstream;

typedef enum rn_mp_result {
    RN_MP_VALUE = 0,  /* *data, *size: one whole value */
    RN_MP_END,        /* no bytes left */
    RN_MP_CUT,        /* the bytes left are not a whole value: cut short, or malformed */
    RN_MP_OVERSIZE,   /* the value is larger than the buffer */
    RN_MP_IO          /* the file could not be read */
} rn_mp_result;

/* Read `f` (owned by the caller) with a buffer of `cap` bytes. */
rollnet_error rn_mpstream_init(rn_mpstream *m, FILE *f, const rollnet_allocator *a, size_t cap);
void rn_mpstream_free(rn_mpstream *m);
/* Give the buffer `cap` bytes (keeping what it holds). */
rollnet_error rn_mpstream_resize(rn_mpstream *m, size_t cap);
/* The next value; its bytes stay valid until the next call. */
rn_mp_result rn_mpstream_next(rn_mpstream *m, const uint8_t **data, size_t *size);
/* The next `n` raw bytes into dst (a bin payload larger than the buffer). */
bool rn_mpstream_read_raw(rn_mpstream *m, uint8_t *dst, size_t n);
/* Up to `n` bytes ahead without consuming them; returns how many are there. */
size_t rn_mpstream_peek(rn_mpstream *m, const uint8_t **data, size_t n);
/* Bytes left after the next value's start, -1 when the file cannot tell. */
long rn_mpstream_remaining(rn_mpstream *m);
/* The file offset of the next value, and going back to one. */
long rn_mpstream_tell(const rn_mpstream *m);
bool rn_mpstream_seek(rn_mpstream *m, long offset);

/* p[0..n) is the beginning of one msgpack value cut short, which could be
 * completed within `cap` bytes in all: no unused byte, and no length or
 * count that claims more than the bound holds. False for a whole value. */
bool rn_mp_prefix_fits(const uint8_t *p, size_t n, size_t cap);

/* Decoders of one whole value p[0..len) (a measured element): true when it
 * is of that type, fits and takes exactly len bytes. */
bool rn_mp_uint(const uint8_t *p, size_t len, uint64_t *out);
bool rn_mp_int(const uint8_t *p, size_t len, int64_t *out);
bool rn_mp_bool(const uint8_t *p, size_t len, bool *out);
bool rn_mp_bin(const uint8_t *p, size_t len, const uint8_t **data, size_t *n);
bool rn_mp_str(const uint8_t *p, size_t len, const uint8_t **data, size_t *n);
/* A container header at p: its element count (pairs for a map) and header
 * size. False when p does not start with one of that kind. */
bool rn_mp_container(const uint8_t *p, size_t len, bool map, uint32_t *n, size_t *hdr);
/* The next element of a container: [*off, *end) within p[0..len). */
bool rn_mp_element(const uint8_t *p, size_t len, size_t *off, size_t *start, size_t *end);
/* True when the value is the string `s`. */
bool rn_mp_str_is(const uint8_t *p, size_t len, const char *s);

#endif
