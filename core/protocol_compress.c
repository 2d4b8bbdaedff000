/* The compression INPUT and LEAVE use for their inputs (protocol.h): each
 * block XORed with the one before it (the first with zeros), then zero bytes
 * run-length encoded. */
#include <string.h>

#include "protocol.h"

static uint8_t rn_xor_at(const uint8_t *in, size_t i, size_t bs)
{
    return (uint8_t)(i >= bs ? in[i] ^ in[i - bs] : in[i]);
}

static bool rn_put(uint8_t *out, size_t cap, size_t *len, uint8_t v)
{
    if (out) {
        if (*len >= cap) {
            return false;
        }
        out[*len] = v;
    }
    (*len)++;
    return true;
}

bool rn_inputs_compress(const uint8_t *inputs, int count, int block_size, uint8_t *out,
                        size_t cap, size_t *out_len)
{
    if (count < 0 || block_size < 1 || (count > 0 && !inputs) || !out_len) {
        return false;
    }
    size_t bs = (size_t)block_size;
    size_t total = (size_t)count * bs;
    size_t len = 0;
    size_t i = 0;
    while (i < total) {
        uint8_t v = rn_xor_at(inputs, i, bs);
        if (v != 0) {
            if (!rn_put(out, cap, &len, v)) {
                return false;
            }
            i++;
            continue;
        }
        size_t run = 1;
        while (run < 255 && i + run < total && rn_xor_at(inputs, i + run, bs) == 0) {
            run++;
        }
        if (!rn_put(out, cap, &len, 0) || !rn_put(out, cap, &len, (uint8_t)run)) {
            return false;
        }
        i += run;
    }
    *out_len = len;
    return true;
}

int rn_inputs_decompress(const uint8_t *data, size_t len, int block_size, uint8_t *out,
                         int max_frames)
{
    if (block_size < 1 || max_frames < 0 || (len > 0 && (!data || !out))) {
        return -1;
    }
    size_t bs = (size_t)block_size;
    size_t cap = (size_t)max_frames * bs;
    size_t n = 0;
    size_t i = 0;
    while (i < len) {
        uint8_t b = data[i++];
        if (b != 0) {
            if (n >= cap) {
                return -1;
            }
            out[n++] = b;
            continue;
        }
        if (i >= len) {
            return -1;
        }
        size_t run = data[i++];
        if (run == 0 || run > cap - n) {
            return -1;
        }
        memset(out + n, 0, run);
        n += run;
    }
    if (n % bs != 0) {
        return -1;
    }
    for (size_t j = bs; j < n; j++) {
        out[j] ^= out[j - bs];
    }
    return (int)(n / bs);
}
