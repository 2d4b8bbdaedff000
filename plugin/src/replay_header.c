/* The replay file's header and initial state: every field checked, each
 * failure a sentence naming the field (see replay_read.c for the frames). */
#include <stdio.h>
#include <string.h>

#include "game_params.h"
#include "replay_format.h"
#include "replay_reader.h"
#include "rn_alloc.h"
#include "snapshot.h"

/* ---- Header ------------------------------------------------------------- */

enum {
    H_FORMAT, H_VERSION, H_KIND, H_NUM_PLAYERS, H_INPUT_SIZE, H_FPS, H_GAME_ID, H_SEED,
    H_GAME_PARAMS, H_SNAPSHOT_CAPACITY, H_RECORD_CAPACITY, H_COUNT
};

static const char *const header_keys[H_COUNT] = {
    RN_REPLAY_KEY_FORMAT,      RN_REPLAY_KEY_VERSION,           RN_REPLAY_KEY_KIND,
    RN_REPLAY_KEY_NUM_PLAYERS, RN_REPLAY_KEY_INPUT_SIZE,        RN_REPLAY_KEY_FPS,
    RN_REPLAY_KEY_GAME_ID,     RN_REPLAY_KEY_SEED,              RN_REPLAY_KEY_GAME_PARAMS,
    RN_REPLAY_KEY_SNAPSHOT_CAPACITY, RN_REPLAY_KEY_RECORD_CAPACITY,
};

/* An integer field of the header in lo..hi. */
static rollnet_error header_int(rollnet_replay *r, const char *key, const uint8_t *v, size_t n,
                                int64_t lo, int64_t hi, int64_t *out)
{
    if (!rn_mp_int(v, n, out)) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: %s is not an integer", key);
    }
    if (*out < lo || *out > hi) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: %s is %lld, must be %lld..%lld", key,
                    (long long)*out, (long long)lo, (long long)hi);
    }
    return ROLLNET_ERR_OK;
}

static rollnet_error header_field(rollnet_replay *r, int k, const uint8_t *v, size_t n,
                                  size_t max_state)
{
    rollnet_replay_info *in = &r->info;
    const char *key = header_keys[k];
    int64_t x = 0;
    rollnet_error e = ROLLNET_ERR_OK;
    const uint8_t *b = NULL;
    size_t bn = 0;
    switch (k) {
    case H_FORMAT:
        if (!rn_mp_str_is(v, n, RN_REPLAY_FORMAT)) {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: format is not \"%s\"",
                        RN_REPLAY_FORMAT);
        }
        return ROLLNET_ERR_OK;
    case H_VERSION:
        if (!rn_mp_int(v, n, &x) || x != ROLLNET_REPLAY_VERSION) {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                        "header: version %lld is not one this build reads (%d)", (long long)x,
                        ROLLNET_REPLAY_VERSION);
        }
        in->version = (int)x;
        return ROLLNET_ERR_OK;
    case H_KIND:
        if (rn_mp_str_is(v, n, RN_REPLAY_KIND_P2P)) {
            in->kind = ROLLNET_SESSION_P2P;
        } else if (rn_mp_str_is(v, n, RN_REPLAY_KIND_SYNCTEST)) {
            in->kind = ROLLNET_SESSION_SYNCTEST;
        } else {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: kind is not \"p2p\" or \"synctest\"");
        }
        return ROLLNET_ERR_OK;
    case H_NUM_PLAYERS:
        e = header_int(r, key, v, n, 1, ROLLNET_MAX_PLAYERS, &x);
        in->num_players = (int)x;
        return e;
    case H_INPUT_SIZE:
        e = header_int(r, key, v, n, 1, ROLLNET_MAX_INPUT_SIZE, &x);
        in->input_size = (int)x;
        return e;
    case H_FPS:
        e = header_int(r, key, v, n, 1, 1000, &x);
        in->fps = (int)x;
        return e;
    case H_GAME_ID:
    case H_SEED:
        if (!rn_mp_uint(v, n, k == H_SEED ? &in->seed : &in->game_id)) {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: %s is not an unsigned integer", key);
        }
        return ROLLNET_ERR_OK;
    case H_GAME_PARAMS: {
        if (!rn_mp_bin(v, n, &b, &bn)) {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: game_params is not binary");
        }
        const char *why = rn_game_params_parse(b, bn, NULL);
        if (why) {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: game_params (%zu bytes) %s", bn, why);
        }
        memcpy(r->game_params, b, bn);
        in->game_params_size = bn;
        return ROLLNET_ERR_OK;
    }
    case H_SNAPSHOT_CAPACITY:
        e = header_int(r, key, v, n, 16, (int64_t)max_state, &x);
        in->snapshot_capacity = (size_t)x;
        return e;
    default:
        e = header_int(r, key, v, n, 1, RN_REPLAY_MAX_RECORD, &x);
        in->record_capacity = (size_t)x;
        return e;
    }
}

rollnet_error rn_replay_parse_header(rollnet_replay *r, const uint8_t *p, size_t len, size_t max_state)
{
    uint32_t pairs = 0;
    size_t off = 0;
    if (!rn_mp_container(p, len, true, &pairs, &off)) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "header: the file does not start with a map (not a rollnet replay)");
    }
    uint32_t seen = 0;
    for (uint32_t i = 0; i < pairs; i++) {
        size_t ks, ke, vs, ve;
        if (!rn_mp_element(p, len, &off, &ks, &ke) || !rn_mp_element(p, len, &off, &vs, &ve)) {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: malformed");
        }
        int k = 0;
        while (k < H_COUNT && !rn_mp_str_is(p + ks, ke - ks, header_keys[k])) {
            k++;
        }
        if (k == H_COUNT) {
            const uint8_t *s = NULL;
            size_t sn = 0;
            if (!rn_mp_str(p + ks, ke - ks, &s, &sn) || sn > 40) {
                return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: a key is not a short string");
            }
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: unknown field \"%.*s\"", (int)sn,
                        (const char *)s);
        }
        if (seen & (1u << k)) {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: %s appears twice", header_keys[k]);
        }
        seen |= 1u << k;
        rollnet_error e = header_field(r, k, p + vs, ve - vs, max_state);
        if (e != ROLLNET_ERR_OK) {
            return e;
        }
        if (k == H_FORMAT && i != 0) {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: format must be the first field");
        }
    }
    for (int k = 0; k < H_COUNT; k++) {
        if (!(seen & (1u << k))) {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: %s is missing", header_keys[k]);
        }
    }
    return ROLLNET_ERR_OK;
}

/* The initial state: one bin, possibly larger than the stream's buffer. */
rollnet_error rn_replay_read_state(rollnet_replay *r)
{
    const uint8_t *p = NULL;
    size_t have = rn_mpstream_peek(&r->in, &p, 5);
    size_t hdr = have == 0 ? 0 : p[0] == 0xc4 ? 1 : p[0] == 0xc5 ? 2 : p[0] == 0xc6 ? 4 : 0;
    if (hdr == 0 || have < 1 + hdr) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    have == 0 ? "initial state: missing (the file ends after the header)"
                              : "initial state: not binary");
    }
    uint64_t size = 0;
    for (size_t i = 0; i < hdr; i++) {
        size = (size << 8) | p[1 + i];
    }
    if (size > r->info.snapshot_capacity) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "initial state: %llu bytes, larger than snapshot_capacity (%zu)",
                    (unsigned long long)size, r->info.snapshot_capacity);
    }
    uint8_t skip[5];
    if (!rn_mpstream_read_raw(&r->in, skip, 1 + hdr)) {
        return rn_replay_fail(r, ROLLNET_ERR_IO, "initial state: read failed");
    }
    /* Allocate only what the file can back. */
    long left = rn_mpstream_remaining(&r->in);
    if (left >= 0 && (uint64_t)left < size) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "initial state: cut short (%llu bytes announced, %ld left in the file)",
                    (unsigned long long)size, left);
    }
    r->state = rn_calloc(&r->alloc, 1, size > 0 ? (size_t)size : 1);
    if (!r->state) {
        return rn_replay_fail(r, ROLLNET_ERR_OUT_OF_MEMORY, "initial state: %llu bytes: out of memory",
                    (unsigned long long)size);
    }
    if (!rn_mpstream_read_raw(&r->in, r->state, (size_t)size)) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "initial state: cut short (the file ends inside its %llu bytes)",
                    (unsigned long long)size);
    }
    for (size_t off = 0; off < size;) {
        size_t end = 0;
        if (!rn_msgpack_measure(r->state, (size_t)size, off, &end)) {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                        "initial state: not whole msgpack values (at byte %zu)", off);
        }
        off = end;
    }
    r->info.initial_state = r->state;
    r->info.initial_state_size = (size_t)size;
    return ROLLNET_ERR_OK;
}
