/* The snapshot writer over msgpack-c: it packs into a buffer its owner
 * sized and never allocates (snapshot.c has the reader, the bounds walk, the
 * checksum and the dump). */
#include <string.h>

#include "snapshot.h"

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */
/* ------------------------------------------------------------------------ */

/* msgpack's write callback. Overflow is sticky: once a value did not fit,
 * nothing after it is stored, so the buffer never holds a value with a hole. */
static int rn_writer_put(void *data, const char *bytes, size_t n)
{
    rollnet_writer *w = data;
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return -1;
    }
    if (n > 0) {
        memcpy(w->buf + w->len, bytes, n);
        w->len += n;
    }
    return 0;
}

void rn_writer_init(rollnet_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
    w->overflow = false;
    w->owed = 0;
    msgpack_packer_init(&w->pk, w, rn_writer_put);
}

/* One value written: it fills a slot of the innermost open container, if
 * any. A single count suffices because values fill containers strictly in
 * order: the stream ends inside a container exactly when some are owed. */
static inline void rn_writer_value(rollnet_writer *w)
{
    if (w->owed > 0) {
        w->owed--;
    }
}

void rollnet_write_nil(rollnet_writer *w)
{
    if (w && !w->overflow) {
        rn_writer_value(w);
        msgpack_pack_nil(&w->pk);
    }
}

void rollnet_write_bool(rollnet_writer *w, bool v)
{
    if (w && !w->overflow) {
        rn_writer_value(w);
        if (v) {
            msgpack_pack_true(&w->pk);
        } else {
            msgpack_pack_false(&w->pk);
        }
    }
}

/* msgpack_pack_int64 picks the smallest encoding for the value, so equal
 * states give equal bytes whatever C type the game keeps them in. */
void rollnet_write_int(rollnet_writer *w, int64_t v)
{
    if (w && !w->overflow) {
        rn_writer_value(w);
        msgpack_pack_int64(&w->pk, v);
    }
}

void rollnet_write_uint(rollnet_writer *w, uint64_t v)
{
    if (w && !w->overflow) {
        rn_writer_value(w);
        msgpack_pack_uint64(&w->pk, v);
    }
}

void rollnet_write_double(rollnet_writer *w, double v)
{
    if (w && !w->overflow) {
        rn_writer_value(w);
        msgpack_pack_double(&w->pk, v);
    }
}

/* msgpack lengths are 32-bit; a longer value cannot be represented and is
 * reported as an overflow rather than written with a truncated length. */
void rollnet_write_str(rollnet_writer *w, const char *s, size_t len)
{
    if (!w || w->overflow) {
        return;
    }
    if (len > UINT32_MAX || (len > 0 && !s)) {
        w->overflow = true;
        return;
    }
    rn_writer_value(w);
    msgpack_pack_str(&w->pk, len);
    msgpack_pack_str_body(&w->pk, s, len);
}

void rollnet_write_bin(rollnet_writer *w, const void *data, size_t len)
{
    if (!w || w->overflow) {
        return;
    }
    if (len > UINT32_MAX || (len > 0 && !data)) {
        w->overflow = true;
        return;
    }
    rn_writer_value(w);
    msgpack_pack_bin(&w->pk, len);
    msgpack_pack_bin_body(&w->pk, data, len);
}

void rollnet_write_array(rollnet_writer *w, uint32_t n)
{
    if (w && !w->overflow) {
        rn_writer_value(w);
        w->owed += n;
        msgpack_pack_array(&w->pk, n);
    }
}

/* `owed` cannot wrap: each header adds at most 2^33 and takes 5 bytes, so
 * wrapping would take a snapshot of over 10 GB of map headers. */
void rollnet_write_map(rollnet_writer *w, uint32_t n)
{
    if (w && !w->overflow) {
        rn_writer_value(w);
        w->owed += 2 * (uint64_t)n;
        msgpack_pack_map(&w->pk, n);
    }
}

size_t rollnet_writer_storage_size(void)
{
    return sizeof(rollnet_writer);
}

rollnet_writer *rollnet_writer_open(void *storage, uint8_t *buf, size_t cap)
{
    if (!storage || !buf) {
        return NULL;
    }
    rollnet_writer *w = storage;
    rn_writer_init(w, buf, cap);
    return w;
}

size_t rollnet_writer_length(const rollnet_writer *w)
{
    return w ? w->len : 0;
}

rollnet_error rollnet_writer_error(const rollnet_writer *w)
{
    if (!w) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    return w->overflow ? ROLLNET_ERR_SNAPSHOT_OVERFLOW : ROLLNET_ERR_OK;
}
