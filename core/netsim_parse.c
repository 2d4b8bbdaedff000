/* rollnet_netsim_parse: the simulator's conditions from a spec string such
 * as "delay=50,jitter=20,loss=5" (the sample's and the tests' --netsim), kept
 * apart from the simulator itself (core/netsim.c). */
#include <string.h>

#include "rollnet/rollnet.h"

static bool parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        uint64_t digit = (uint64_t)(s[i] - '0');
        if (v > (max - digit) / 10) {
            return false;
        }
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

/* A percentage in [0, 100] written as digits with an optional fraction
 * ("0.5"), as permille rounded to the nearest (half up). Parsed by hand:
 * strtod would follow the locale's decimal point. */
static bool parse_percent(const char *s, size_t len, uint32_t *permille)
{
    size_t i = 0;
    uint32_t whole = 0;
    size_t whole_digits = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, whole_digits++) {
        if (whole <= 100) {
            whole = whole * 10 + (uint32_t)(s[i] - '0');
        }
    }
    if (whole_digits == 0) {
        return false;
    }
    uint32_t tenths = 0, hundredths = 0;
    bool fraction_nonzero = false;
    if (i < len) {
        if (s[i] != '.') {
            return false;
        }
        i++;
        if (i == len) {
            return false;
        }
        for (size_t k = 0; i < len; i++, k++) {
            if (s[i] < '0' || s[i] > '9') {
                return false;
            }
            uint32_t digit = (uint32_t)(s[i] - '0');
            if (k == 0) {
                tenths = digit;
            } else if (k == 1) {
                hundredths = digit;
            }
            if (digit != 0) {
                fraction_nonzero = true;
            }
        }
    }
    if (whole > 100 || (whole == 100 && fraction_nonzero)) {
        return false;
    }
    *permille = whole * 10 + tenths + (hundredths >= 5 ? 1u : 0u);
    return true;
}

static bool key_is(const char *key, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(key, name, len) == 0;
}

rollnet_error rollnet_netsim_parse(const char *spec, rollnet_netsim_desc *out)
{
    if (!spec || !out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    rollnet_netsim_desc d = {0};
    const char *p = spec;
    while (*p != '\0') {
        const char *end = p;
        while (*end != '\0' && *end != ',') {
            end++;
        }
        const char *eq = p;
        while (eq < end && *eq != '=') {
            eq++;
        }
        if (eq == end) {
            return ROLLNET_ERR_INVALID_ARGUMENT; /* no '=' (or an empty item) */
        }
        size_t key_len = (size_t)(eq - p);
        const char *val = eq + 1;
        size_t val_len = (size_t)(end - val);
        uint64_t v = 0;
        bool ok;
        if (key_is(p, key_len, "delay")) {
            ok = parse_uint(val, val_len, UINT32_MAX, &v);
            d.delay_ms = (uint32_t)v;
        } else if (key_is(p, key_len, "jitter")) {
            ok = parse_uint(val, val_len, UINT32_MAX, &v);
            d.jitter_ms = (uint32_t)v;
        } else if (key_is(p, key_len, "reorder_ms")) {
            ok = parse_uint(val, val_len, UINT32_MAX, &v);
            d.reorder_ms = (uint32_t)v;
        } else if (key_is(p, key_len, "seed")) {
            ok = parse_uint(val, val_len, UINT64_MAX, &v);
            d.seed = v;
        } else if (key_is(p, key_len, "loss")) {
            ok = parse_percent(val, val_len, &d.loss_permille);
        } else if (key_is(p, key_len, "dup")) {
            ok = parse_percent(val, val_len, &d.dup_permille);
        } else if (key_is(p, key_len, "reorder")) {
            ok = parse_percent(val, val_len, &d.reorder_permille);
        } else {
            ok = false;
        }
        if (!ok) {
            return ROLLNET_ERR_INVALID_ARGUMENT;
        }
        if (*end == ',') {
            end++;
            if (*end == '\0') {
                return ROLLNET_ERR_INVALID_ARGUMENT; /* trailing comma */
            }
        }
        p = end;
    }
    *out = d;
    return ROLLNET_ERR_OK;
}
