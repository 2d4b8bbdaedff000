/* Game parameters: parse, check and compare the game's map of rules. */
#include <string.h>

#include "game_params.h"
#include "snapshot.h"

static uint32_t read_be(const uint8_t *p, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* The header of the map at data[0]: its pair count and where its first key
 * starts. False when data[0] is not a map header. */
static bool map_header(const uint8_t *data, size_t size, uint32_t *n, size_t *pos)
{
    uint8_t b = data[0];
    size_t hdr = 0;
    if (b >= 0x80 && b <= 0x8f) {
        *n = b & 0x0fu;
    } else if (b == 0xde || b == 0xdf) {
        hdr = b == 0xde ? 2 : 4;
        if (size < 1 + hdr) {
            return false;
        }
        *n = read_be(data + 1, hdr);
    } else {
        return false;
    }
    *pos = 1 + hdr;
    return true;
}

/* The string at data[pos]: its header length and byte count. False when the
 * value there is not a string. The bounds were checked by the caller. */
static bool str_header(const uint8_t *data, size_t pos, size_t *hdr, uint32_t *len)
{
    uint8_t b = data[pos];
    if (b >= 0xa0 && b <= 0xbf) {
        *hdr = 1;
        *len = b & 0x1fu;
        return true;
    }
    size_t n = b == 0xd9 ? 1 : b == 0xda ? 2 : b == 0xdb ? 4 : 0;
    if (n == 0) {
        return false;
    }
    *hdr = 1 + n;
    *len = read_be(data + pos + 1, n);
    return true;
}

static int key_cmp(const uint8_t *data_a, const rn_gp_entry *a, const uint8_t *data_b,
                   const rn_gp_entry *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(data_a + a->key, data_b + b->key, n);
    if (c != 0) {
        return c;
    }
    return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

const char *rn_game_params_parse(const uint8_t *data, size_t size, rn_gp_map *out)
{
    rn_gp_map local; /* `out` NULL: checked only */
    rn_gp_map *m = out ? out : &local;
    m->data = data;
    m->size = size;
    m->count = 0;
    if (size == 0) {
        return NULL;
    }
    if (!data) {
        return "is NULL while game_params_size is not 0";
    }
    if (size > ROLLNET_MAX_GAME_PARAMS) {
        return "is larger than ROLLNET_MAX_GAME_PARAMS (512 bytes)";
    }
    size_t end = 0;
    if (!rn_msgpack_measure(data, size, 0, &end)) {
        return "is not whole msgpack: truncated, or a header announces more than follows";
    }
    if (end != size) {
        return "holds bytes after its first value: it must be exactly one msgpack map";
    }
    uint32_t n = 0;
    size_t pos = 0;
    if (!map_header(data, size, &n, &pos)) {
        return "is not a msgpack map";
    }
    if (n > RN_GP_MAX_ENTRIES) {
        return "has more keys than fit in ROLLNET_MAX_GAME_PARAMS bytes";
    }
    /* The bounds walk above vouches for every header below: no value runs
     * past `size`. */
    for (uint32_t i = 0; i < n; i++) {
        size_t hdr = 0;
        uint32_t len = 0;
        if (!str_header(data, pos, &hdr, &len)) {
            return "has a key that is not a string";
        }
        if (!rn_game_param_key_ok((const char *)data + pos + hdr, len)) {
            return "has a key that is empty, longer than 31 bytes, or holds a NUL byte";
        }
        size_t value = pos + hdr + len;
        size_t value_end = 0;
        if (!rn_msgpack_measure(data, size, value, &value_end)) {
            return "is not whole msgpack"; /* unreachable after the walk above */
        }
        rn_gp_entry e = {(uint16_t)(pos + hdr), (uint16_t)len, (uint16_t)value,
                         (uint16_t)(value_end - value)};
        /* Insertion sort: at most RN_GP_MAX_ENTRIES, once per handshake. */
        int j = m->count;
        while (j > 0 && key_cmp(data, &m->e[j - 1], data, &e) > 0) {
            m->e[j] = m->e[j - 1];
            j--;
        }
        if (j > 0 && key_cmp(data, &m->e[j - 1], data, &e) == 0) {
            return "has a key twice";
        }
        m->e[j] = e;
        m->count++;
        pos = value_end;
    }
    return NULL;
}

bool rn_game_params_equal(const rn_gp_map *a, const rn_gp_map *b, char *key, bool *in_a,
                          bool *in_b)
{
    int i = 0, j = 0;
    while (i < a->count || j < b->count) {
        int c = i >= a->count ? 1 : j >= b->count ? -1 : key_cmp(a->data, &a->e[i], b->data, &b->e[j]);
        const rn_gp_entry *ea = c <= 0 ? &a->e[i] : NULL;
        const rn_gp_entry *eb = c >= 0 ? &b->e[j] : NULL;
        if (c == 0 && ea->value_len == eb->value_len &&
            memcmp(a->data + ea->value, b->data + eb->value, ea->value_len) == 0) {
            i++;
            j++;
            continue;
        }
        const rn_gp_entry *named = ea ? ea : eb;
        const uint8_t *data = ea ? a->data : b->data;
        memcpy(key, data + named->key, named->key_len);
        key[named->key_len] = '\0';
        *in_a = ea != NULL;
        *in_b = eb != NULL;
        return false;
    }
    return true;
}

bool rn_game_params_refusal_ok(uint32_t param, int64_t local, int64_t remote, const char *key)
{
    const char *nul = memchr(key, '\0', ROLLNET_GAME_PARAM_KEY_SIZE);
    if (!nul) {
        return false;
    }
    size_t len = (size_t)(nul - key);
    if (param != ROLLNET_PARAM_GAME_PARAMS) {
        return len == 0;
    }
    bool flags = (local == 0 || local == 1) && (remote == 0 || remote == 1) &&
                 (local | remote) == 1;
    return flags && rn_game_param_key_ok(key, len);
}
