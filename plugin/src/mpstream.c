/* A bounded stream of msgpack values from a file, and small exact decoders
 * (see mpstream.h). */
#include <string.h>

#include "mpstream.h"
#include "rn_alloc.h"
#include "snapshot.h"

rollnet_error rn_mpstream_init(rn_mpstream *m, FILE *f, const rollnet_allocator *a, size_t cap)
{
    memset(m, 0, sizeof(*m));
    m->f = f;
    rn_allocator_resolve(a, &m->alloc);
    m->base = ftell(f);
    if (m->base < 0) {
        m->base = 0;
    }
    return rn_mpstream_resize(m, cap);
}

void rn_mpstream_free(rn_mpstream *m)
{
    if (m->buf) {
        rn_free(&m->alloc, m->buf);
    }
    m->buf = NULL;
}

rollnet_error rn_mpstream_resize(rn_mpstream *m, size_t cap)
{
    size_t held = m->len - m->pos;
    if (cap < held || cap == 0) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    uint8_t *nb = rn_calloc(&m->alloc, 1, cap);
    if (!nb) {
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    if (held > 0) {
        memcpy(nb, m->buf + m->pos, held);
    }
    if (m->buf) {
        rn_free(&m->alloc, m->buf);
    }
    m->base += (long)m->pos;
    m->buf = nb;
    m->cap = cap;
    m->pos = 0;
    m->len = held;
    return ROLLNET_ERR_OK;
}

/* Move what is unread to the front and fill the rest from the file. */
static bool fill(rn_mpstream *m)
{
    if (m->pos > 0) {
        memmove(m->buf, m->buf + m->pos, m->len - m->pos);
        m->base += (long)m->pos;
        m->len -= m->pos;
        m->pos = 0;
    }
    while (!m->eof && m->len < m->cap) {
        size_t got = fread(m->buf + m->len, 1, m->cap - m->len, m->f);
        m->len += got;
        if (got == 0) {
            if (ferror(m->f)) {
                return false;
            }
            m->eof = true;
        }
    }
    return true;
}

rn_mp_result rn_mpstream_next(rn_mpstream *m, const uint8_t **data, size_t *size)
{
    size_t end = 0;
    if (m->pos >= m->len || !rn_msgpack_measure(m->buf, m->len, m->pos, &end)) {
        if (!fill(m)) {
            return RN_MP_IO;
        }
        if (m->len == 0) {
            return RN_MP_END;
        }
        if (!rn_msgpack_measure(m->buf, m->len, 0, &end)) {
            return m->eof ? RN_MP_CUT : RN_MP_OVERSIZE;
        }
    }
    *data = m->buf + m->pos;
    *size = end - m->pos;
    m->pos = end;
    return RN_MP_VALUE;
}

size_t rn_mpstream_peek(rn_mpstream *m, const uint8_t **data, size_t n)
{
    if (m->len - m->pos < n && !fill(m)) {
        return 0;
    }
    *data = m->buf + m->pos;
    size_t have = m->len - m->pos;
    return have < n ? have : n;
}

bool rn_mpstream_read_raw(rn_mpstream *m, uint8_t *dst, size_t n)
{
    size_t held = m->len - m->pos;
    size_t take = held < n ? held : n;
    memcpy(dst, m->buf + m->pos, take);
    m->pos += take;
    if (take == n) {
        return true;
    }
    /* The buffer is empty: read the rest straight from the file. */
    size_t rest = n - take;
    m->base += (long)m->len;
    m->pos = m->len = 0;
    size_t got = fread(dst + take, 1, rest, m->f);
    m->base += (long)got;
    if (got < rest) {
        m->eof = true;
        return false;
    }
    return true;
}

long rn_mpstream_remaining(rn_mpstream *m)
{
    long here = ftell(m->f); /* the file's position: past what the buffer holds */
    if (here < 0 || fseek(m->f, 0, SEEK_END) != 0) {
        return -1;
    }
    long end = ftell(m->f);
    if (fseek(m->f, here, SEEK_SET) != 0 || end < 0) {
        return -1;
    }
    return end - here + (long)(m->len - m->pos);
}

long rn_mpstream_tell(const rn_mpstream *m)
{
    return m->base + (long)m->pos;
}

bool rn_mpstream_seek(rn_mpstream *m, long offset)
{
    if (fseek(m->f, offset, SEEK_SET) != 0) {
        return false;
    }
    clearerr(m->f);
    m->base = offset;
    m->pos = m->len = 0;
    m->eof = false;
    return true;
}

/* ---- Decoders ----------------------------------------------------------- */

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

bool rn_mp_int(const uint8_t *p, size_t len, int64_t *out)
{
    if (len == 0) {
        return false;
    }
    uint8_t b = p[0];
    if (b <= 0x7f || b >= 0xe0) {
        *out = (int8_t)b;
        return len == 1;
    }
    size_t n = b == 0xcc || b == 0xd0 ? 1 : b == 0xcd || b == 0xd1 ? 2 : b == 0xce || b == 0xd2 ? 4
               : b == 0xcf || b == 0xd3                                ? 8
                                                                       : 0;
    if (n == 0 || len != 1 + n) {
        return false;
    }
    uint64_t v = be(p + 1, n);
    if (b >= 0xd0) { /* signed: sign-extend */
        int shift = (int)(64 - 8 * n);
        *out = shift > 0 ? (int64_t)(v << shift) >> shift : (int64_t)v;
        return true;
    }
    if (v > (uint64_t)INT64_MAX) {
        return false;
    }
    *out = (int64_t)v;
    return true;
}

bool rn_mp_uint(const uint8_t *p, size_t len, uint64_t *out)
{
    if (len == 9 && p[0] == 0xcf) {
        *out = be(p + 1, 8);
        return true;
    }
    int64_t v = 0;
    if (!rn_mp_int(p, len, &v) || v < 0) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

bool rn_mp_bool(const uint8_t *p, size_t len, bool *out)
{
    if (len != 1 || (p[0] != 0xc2 && p[0] != 0xc3)) {
        return false;
    }
    *out = p[0] == 0xc3;
    return true;
}

static bool sized(const uint8_t *p, size_t len, size_t hdr, const uint8_t **data, size_t *n)
{
    if (len < 1 + hdr) {
        return false;
    }
    uint64_t sz = be(p + 1, hdr);
    if (sz != len - 1 - hdr) {
        return false;
    }
    *data = p + 1 + hdr;
    *n = (size_t)sz;
    return true;
}

bool rn_mp_bin(const uint8_t *p, size_t len, const uint8_t **data, size_t *n)
{
    if (len == 0) {
        return false;
    }
    switch (p[0]) {
    case 0xc4: return sized(p, len, 1, data, n);
    case 0xc5: return sized(p, len, 2, data, n);
    case 0xc6: return sized(p, len, 4, data, n);
    default: return false;
    }
}

bool rn_mp_str(const uint8_t *p, size_t len, const uint8_t **data, size_t *n)
{
    if (len == 0) {
        return false;
    }
    if (p[0] >= 0xa0 && p[0] <= 0xbf) {
        if ((size_t)(p[0] & 0x1f) != len - 1) {
            return false;
        }
        *data = p + 1;
        *n = len - 1;
        return true;
    }
    switch (p[0]) {
    case 0xd9: return sized(p, len, 1, data, n);
    case 0xda: return sized(p, len, 2, data, n);
    case 0xdb: return sized(p, len, 4, data, n);
    default: return false;
    }
}

bool rn_mp_str_is(const uint8_t *p, size_t len, const char *s)
{
    const uint8_t *d;
    size_t n;
    size_t sl = strlen(s);
    return rn_mp_str(p, len, &d, &n) && n == sl && memcmp(d, s, n) == 0;
}

bool rn_mp_container(const uint8_t *p, size_t len, bool map, uint32_t *n, size_t *hdr)
{
    if (len == 0) {
        return false;
    }
    uint8_t b = p[0];
    uint8_t fix = map ? 0x80 : 0x90;
    uint8_t b16 = map ? 0xde : 0xdc;
    if (b >= fix && b <= fix + 0x0f) {
        *n = b & 0x0fu;
        *hdr = 1;
        return true;
    }
    size_t w = b == b16 ? 2 : b == b16 + 1 ? 4 : 0;
    if (w == 0 || len < 1 + w) {
        return false;
    }
    *n = (uint32_t)be(p + 1, w);
    *hdr = 1 + w;
    return true;
}

bool rn_mp_element(const uint8_t *p, size_t len, size_t *off, size_t *start, size_t *end)
{
    size_t e = 0;
    if (!rn_msgpack_measure(p, len, *off, &e)) {
        return false;
    }
    *start = *off;
    *end = e;
    *off = e;
    return true;
}

/* Bytes a value header at p[0] adds: `skip` bytes of payload after a header
 * of `hdr` bytes (the lead byte included), `vals` values that follow; false
 * for the byte msgpack never uses. `len` is read from p[1..hdr) by the
 * caller when `sized`. */
static bool mp_header(uint8_t b, size_t *hdr, uint64_t *skip, uint64_t *vals, int *sized)
{
    *hdr = 1;
    *skip = 0;
    *vals = 0;
    *sized = 0; /* 1: bytes of payload follow, 2: array elements, 3: map pairs */
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        return true;
    }
    if ((b & 0xf0) == 0x80) {
        *vals = 2u * (b & 0x0fu);
    } else if ((b & 0xf0) == 0x90) {
        *vals = b & 0x0fu;
    } else if ((b & 0xe0) == 0xa0) {
        *skip = b & 0x1fu;
    } else if (b >= 0xca && b <= 0xd3) {
        static const uint8_t fixed[] = {4, 8, 1, 2, 4, 8, 1, 2, 4, 8};
        *skip = fixed[b - 0xca];
    } else if (b >= 0xd4 && b <= 0xd8) {
        *skip = 1u + (1u << (b - 0xd4)); /* fixext: a type byte and 1..16 bytes */
    } else {
        switch (b) {
        case 0xc4: case 0xd9: *hdr = 2; *sized = 1; break;
        case 0xc5: case 0xda: *hdr = 3; *sized = 1; break;
        case 0xc6: case 0xdb: *hdr = 5; *sized = 1; break;
        case 0xc7: *hdr = 2; *skip = 1; *sized = 1; break; /* ext: its type byte, then len */
        case 0xc8: *hdr = 3; *skip = 1; *sized = 1; break;
        case 0xc9: *hdr = 5; *skip = 1; *sized = 1; break;
        case 0xdc: *hdr = 3; *sized = 2; break;
        case 0xdd: *hdr = 5; *sized = 2; break;
        case 0xde: *hdr = 3; *sized = 3; break;
        case 0xdf: *hdr = 5; *sized = 3; break;
        default: return false; /* 0xc1 */
        }
    }
    return true;
}

bool rn_mp_prefix_fits(const uint8_t *p, size_t n, size_t cap)
{
    size_t pos = 0;
    uint64_t pending = 1; /* values still to come */
    uint64_t need = 0;    /* the fewest bytes the whole value can take */
    while (pending > 0) {
        if (pos >= n) {
            return need + pending <= cap; /* cut here: each value left takes a byte */
        }
        size_t hdr;
        uint64_t skip, vals;
        int sized;
        if (!mp_header(p[pos], &hdr, &skip, &vals, &sized)) {
            return false;
        }
        pending--;
        if (pos + hdr > n) {
            return need + hdr + pending <= cap;
        }
        if (sized) {
            uint64_t len = 0;
            for (size_t k = 1; k < hdr; k++) {
                len = (len << 8) | p[pos + k];
            }
            if (sized == 1) {
                skip += len;
            } else {
                vals = sized == 2 ? len : 2 * len;
            }
        }
        need += hdr + skip;
        if (need + vals + pending > cap) {
            return false; /* more than the bound could hold: it lies */
        }
        pos += hdr;
        if (skip > n - pos) {
            return true; /* cut inside a payload that fits */
        }
        pos += (size_t)skip;
        pending += vals;
    }
    return false; /* a whole value: not a cut */
}
