/* Snapshot reader over msgpack-c, the bounds walk every untrusted value
 * passes first, the snapshot checksum and the text dump (the writer is in
 * snapshot_write.c). Nothing here allocates: the reader decodes into a zone
 * its owner sized with rn_reader_zone_size(). */
#include <string.h>

#include <xxhash.h>

#include "snapshot.h"

/* ------------------------------------------------------------------------ */
/* Bounds guard                                                              */
/* ------------------------------------------------------------------------ */

/* msgpack-c 4.0 reserves count * sizeof(msgpack_object) in the zone as soon
 * as it reads an array or map header, before any element (a known missing
 * security guard, noted in unpack_template.h). A forged header of 2^32 elements in a few
 * bytes would make the zone malloc ~100 GB. This walk measures (does not
 * decode) one value and rejects it when the values its containers announce
 * could not fit in the bytes left, or when it runs past the end. Once it
 * passes, every element msgpack reserves is backed by at least one input
 * byte, which is what rn_reader_zone_size() relies on. */

static uint64_t rn_read_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

bool rn_msgpack_measure(const uint8_t *p, size_t len, size_t off, size_t *end)
{
    size_t pos = off;
    uint64_t pending = 1;
    while (pending > 0) {
        if (pos >= len) {
            return false;
        }
        uint8_t b = p[pos++];
        pending--;
        size_t hdr = 0;    /* bytes holding a big-endian length or count */
        uint64_t n = 0;    /* that length or count, or the fixed one */
        size_t extra = 0;  /* payload bytes besides n (ext type byte, scalars) */
        int kind = 0;      /* 0: payload of n + extra bytes, 1: array of n, 2: map of n */
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            /* fixint, nil, bool: the byte is the value */
        } else if (b <= 0x8f) {
            kind = 2;
            n = b & 0x0fu;
        } else if (b <= 0x9f) {
            kind = 1;
            n = b & 0x0fu;
        } else if (b <= 0xbf) {
            n = b & 0x1fu;
        } else {
            switch (b) {
            case 0xc4: case 0xd9: hdr = 1; break;              /* bin8, str8 */
            case 0xc5: case 0xda: hdr = 2; break;              /* bin16, str16 */
            case 0xc6: case 0xdb: hdr = 4; break;              /* bin32, str32 */
            case 0xc7: hdr = 1; extra = 1; break;              /* ext8 */
            case 0xc8: hdr = 2; extra = 1; break;              /* ext16 */
            case 0xc9: hdr = 4; extra = 1; break;              /* ext32 */
            case 0xca: extra = 4; break;                       /* float32 */
            case 0xcb: extra = 8; break;                       /* float64 */
            case 0xcc: case 0xd0: extra = 1; break;            /* uint8, int8 */
            case 0xcd: case 0xd1: extra = 2; break;
            case 0xce: case 0xd2: extra = 4; break;
            case 0xcf: case 0xd3: extra = 8; break;
            case 0xd4: extra = 2; break;                       /* fixext 1..16 */
            case 0xd5: extra = 3; break;
            case 0xd6: extra = 5; break;
            case 0xd7: extra = 9; break;
            case 0xd8: extra = 17; break;
            case 0xdc: hdr = 2; kind = 1; break;               /* array16 */
            case 0xdd: hdr = 4; kind = 1; break;               /* array32 */
            case 0xde: hdr = 2; kind = 2; break;               /* map16 */
            case 0xdf: hdr = 4; kind = 2; break;               /* map32 */
            default: return false;                             /* 0xc1 */
            }
        }
        if (hdr > len - pos) {
            return false;
        }
        if (hdr > 0) {
            n = rn_read_be(p + pos, hdr);
            pos += hdr;
        }
        if (kind == 0) {
            if (n + extra > len - pos) {
                return false;
            }
            pos += (size_t)(n + extra);
        } else {
            pending += kind == 2 ? 2 * n : n;
            if (pending > len - pos) {
                return false;
            }
        }
    }
    *end = pos;
    return true;
}

/* Decode the value at *off into *out; false for anything but one whole value. */
static bool rn_unpack_one(const uint8_t *data, size_t len, size_t *off, msgpack_zone *zone,
                          msgpack_object *out, bool trusted)
{
    uint8_t b = data[*off];
    bool container = !trusted && ((b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf));
    size_t end;
    if (container && !rn_msgpack_measure(data, len, *off, &end)) {
        return false;
    }
    size_t next = *off;
    msgpack_unpack_return ret = msgpack_unpack((const char *)data, len, &next, zone, out);
    if (ret != MSGPACK_UNPACK_SUCCESS && ret != MSGPACK_UNPACK_EXTRA_BYTES) {
        return false;
    }
    *off = next;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                    */
/* ------------------------------------------------------------------------ */

/* Every element of every container costs at least one input byte and one
 * msgpack_object of zone (a map pair is two objects, two bytes), and the
 * bounds guard makes that true of any input, not only of valid data. The
 * zone is therefore never asked for more than one object per input byte,
 * plus alignment: none between allocations when an object's size is a
 * multiple of the zone's alignment (every allocation is then a multiple of
 * it), up to ALIGN-1 per container otherwise. */
#define RN_ZONE_SLACK_PER_BYTE \
    ((sizeof(msgpack_object) % MSGPACK_ZONE_ALIGN) ? (MSGPACK_ZONE_ALIGN - 1) : 0)

size_t rn_reader_zone_size(size_t capacity)
{
    size_t per_byte = sizeof(msgpack_object) + RN_ZONE_SLACK_PER_BYTE;
    if (capacity > (SIZE_MAX - MSGPACK_ZONE_ALIGN) / per_byte) {
        return SIZE_MAX;
    }
    return capacity * per_byte + MSGPACK_ZONE_ALIGN;
}

void rn_reader_init(rollnet_reader *r, msgpack_zone *zone, const uint8_t *data, size_t len)
{
    msgpack_zone_clear(zone);
    r->data = data;
    r->len = data ? len : 0;
    r->off = 0;
    r->zone = zone;
    r->top_pending = false;
    r->depth = 0;
    r->error = false;
    r->trusted = false;
}

void rn_reader_init_trusted(rollnet_reader *r, msgpack_zone *zone, const uint8_t *data, size_t len)
{
    rn_reader_init(r, zone, data, len);
    r->trusted = true;
}

bool rn_reader_done(const rollnet_reader *r)
{
    return !r->error && r->depth == 0 && !r->top_pending && r->off >= r->len;
}

static bool rn_fail(rollnet_reader *r)
{
    r->error = true;
    return false;
}

/* The next value in write order without consuming it, or NULL (error set)
 * when the data is exhausted or not msgpack. Finished containers were
 * popped by rn_consume, so the top frame always has an element left. */
static const msgpack_object *rn_peek(rollnet_reader *r)
{
    if (!r || r->error) {
        return NULL;
    }
    if (r->depth > 0) {
        const rn_reader_frame *f = &r->stack[r->depth - 1];
        if (f->items) {
            return &f->items[f->i];
        }
        const msgpack_object_kv *kv = &f->kv[f->i >> 1];
        return (f->i & 1u) ? &kv->val : &kv->key;
    }
    if (!r->top_pending) {
        if (r->off >= r->len || !rn_unpack_one(r->data, r->len, &r->off, r->zone, &r->top, r->trusted)) {
            r->error = true;
            return NULL;
        }
        r->top_pending = true;
    }
    return &r->top;
}

static void rn_consume(rollnet_reader *r)
{
    if (r->depth == 0) {
        r->top_pending = false;
        return;
    }
    r->stack[r->depth - 1].i++;
    while (r->depth > 0 && r->stack[r->depth - 1].i == r->stack[r->depth - 1].n) {
        r->depth--;
    }
}

/* Enter a container whose header was just consumed; its elements come next. */
static bool rn_enter(rollnet_reader *r, const msgpack_object *items, const msgpack_object_kv *kv,
                     uint32_t n)
{
    if (n == 0) {
        return true;
    }
    if (r->depth >= RN_READER_MAX_DEPTH) {
        return rn_fail(r);
    }
    rn_reader_frame *f = &r->stack[r->depth++];
    f->items = items;
    f->kv = kv;
    f->n = n;
    f->i = 0;
    return true;
}

bool rollnet_read_nil(rollnet_reader *r)
{
    const msgpack_object *o = rn_peek(r);
    if (!o) {
        return false;
    }
    if (o->type != MSGPACK_OBJECT_NIL) {
        return rn_fail(r);
    }
    rn_consume(r);
    return true;
}

bool rollnet_read_bool(rollnet_reader *r, bool *out)
{
    const msgpack_object *o = rn_peek(r);
    if (!o) {
        return false;
    }
    if (o->type != MSGPACK_OBJECT_BOOLEAN || !out) {
        return rn_fail(r);
    }
    bool v = o->via.boolean;
    rn_consume(r);
    *out = v;
    return true;
}

bool rollnet_read_int(rollnet_reader *r, int64_t *out)
{
    const msgpack_object *o = rn_peek(r);
    if (!o) {
        return false;
    }
    int64_t v;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= (uint64_t)INT64_MAX) {
        v = (int64_t)o->via.u64;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        v = o->via.i64;
    } else {
        return rn_fail(r);
    }
    if (!out) {
        return rn_fail(r);
    }
    rn_consume(r);
    *out = v;
    return true;
}

bool rollnet_read_uint(rollnet_reader *r, uint64_t *out)
{
    const msgpack_object *o = rn_peek(r);
    if (!o) {
        return false;
    }
    /* msgpack-c decodes every non-negative integer as POSITIVE_INTEGER. */
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || !out) {
        return rn_fail(r);
    }
    uint64_t v = o->via.u64;
    rn_consume(r);
    *out = v;
    return true;
}

/* Only floats read as doubles: an integer is not converted, so a field whose
 * type changed between save and load is caught instead of silently coerced. */
bool rollnet_read_double(rollnet_reader *r, double *out)
{
    const msgpack_object *o = rn_peek(r);
    if (!o) {
        return false;
    }
    if ((o->type != MSGPACK_OBJECT_FLOAT64 && o->type != MSGPACK_OBJECT_FLOAT32) || !out) {
        return rn_fail(r);
    }
    double v = o->via.f64;
    rn_consume(r);
    *out = v;
    return true;
}

bool rollnet_read_str(rollnet_reader *r, const char **out, size_t *len)
{
    const msgpack_object *o = rn_peek(r);
    if (!o) {
        return false;
    }
    if (o->type != MSGPACK_OBJECT_STR || !out || !len) {
        return rn_fail(r);
    }
    const char *p = o->via.str.ptr;
    size_t n = o->via.str.size;
    rn_consume(r);
    *out = p;
    *len = n;
    return true;
}

bool rollnet_read_bin(rollnet_reader *r, const void **out, size_t *len)
{
    const msgpack_object *o = rn_peek(r);
    if (!o) {
        return false;
    }
    if (o->type != MSGPACK_OBJECT_BIN || !out || !len) {
        return rn_fail(r);
    }
    const void *p = o->via.bin.ptr;
    size_t n = o->via.bin.size;
    rn_consume(r);
    *out = p;
    *len = n;
    return true;
}

bool rollnet_read_bin_exact(rollnet_reader *r, void *dst, size_t len)
{
    const msgpack_object *o = rn_peek(r);
    if (!o) {
        return false;
    }
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != len || (len > 0 && !dst)) {
        return rn_fail(r);
    }
    if (len > 0) {
        memcpy(dst, o->via.bin.ptr, len);
    }
    rn_consume(r);
    return true;
}

bool rollnet_read_array(rollnet_reader *r, uint32_t *n)
{
    const msgpack_object *o = rn_peek(r);
    if (!o) {
        return false;
    }
    if (o->type != MSGPACK_OBJECT_ARRAY || !n) {
        return rn_fail(r);
    }
    const msgpack_object_array a = o->via.array;
    rn_consume(r);
    if (!rn_enter(r, a.ptr, NULL, a.size)) {
        return false;
    }
    *n = a.size;
    return true;
}

bool rollnet_read_map(rollnet_reader *r, uint32_t *n)
{
    const msgpack_object *o = rn_peek(r);
    if (!o) {
        return false;
    }
    /* A frame counts keys and values, so a map of 2^31 pairs or more cannot
     * be walked; the bounds guard already rejects it for any real buffer. */
    if (o->type != MSGPACK_OBJECT_MAP || !n || o->via.map.size > UINT32_MAX / 2) {
        return rn_fail(r);
    }
    const msgpack_object_map m = o->via.map;
    rn_consume(r);
    if (!rn_enter(r, NULL, m.ptr, 2 * m.size)) {
        return false;
    }
    *n = m.size;
    return true;
}

rollnet_error rollnet_reader_error(const rollnet_reader *r)
{
    if (!r) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    return r->error ? ROLLNET_ERR_SNAPSHOT_READ : ROLLNET_ERR_OK;
}

/* ------------------------------------------------------------------------ */
/* Checksum and dump                                                         */
/* ------------------------------------------------------------------------ */

uint64_t rollnet_checksum(const void *data, size_t size)
{
    static const uint8_t empty[1] = {0};
    return XXH64(size > 0 && data ? data : empty, data ? size : 0, 0);
}

rollnet_error rn_snapshot_dump(msgpack_zone *zone, const uint8_t *data, size_t len, char *buf,
                               size_t cap)
{
    if (!buf || cap == 0) {
        return ROLLNET_ERR_BUFFER_TOO_SMALL;
    }
    buf[0] = '\0';
    if (!zone || (!data && len > 0)) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    msgpack_zone_clear(zone);
    size_t off = 0;
    size_t pos = 0; /* buf[pos] is always the terminating NUL */
    while (off < len) {
        msgpack_object o;
        if (!rn_unpack_one(data, len, &off, zone, &o, false)) {
            return ROLLNET_ERR_SNAPSHOT_READ;
        }
        /* msgpack-c 4.0 returns 0 when the text does not fit with its NUL,
         * leaving what fitted, not always terminated. No value prints empty. */
        int n = msgpack_object_print_buffer(buf + pos, cap - pos, o);
        if (n <= 0 || (size_t)n >= cap - pos) {
            buf[cap - 1] = '\0';
            return ROLLNET_ERR_BUFFER_TOO_SMALL;
        }
        pos += (size_t)n;
        if (cap - pos < 2) {
            buf[pos] = '\0';
            return ROLLNET_ERR_BUFFER_TOO_SMALL;
        }
        buf[pos++] = '\n';
        buf[pos] = '\0';
    }
    return ROLLNET_ERR_OK;
}
