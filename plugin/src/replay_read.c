/* The replay reader and the replay session's source. A replay file comes
 * from outside: every field is checked (type, range, size against the
 * header's parameters) and every failure is a sentence naming the field and
 * the frame. The whole file is checked at open, in one bounded pass, so a
 * playback never meets a corrupt frame halfway. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "game_params.h"
#include "mpstream.h"
#include "replay.h"
#include "replay_format.h"
#include "replay_internal.h"
#include "rn_alloc.h"
#include "snapshot.h"
#include "rollnet/rollnet_replay.h"

#define ENTRY_OVERHEAD 64 /* array header, frame, episode, step, flag, bin headers */

struct rollnet_replay {
    rollnet_allocator alloc;
    FILE *f;
    rn_mpstream in;
    bool in_ready;
    rollnet_replay_info info;
    uint8_t game_params[ROLLNET_MAX_GAME_PARAMS];
    uint8_t *state;
    long first_frame_off;
    size_t frame_cap; /* the largest frame the header allows, bytes */
    /* Reading position and what the next frame must say. */
    int32_t next_frame, episode, step;
    bool ended;
    rollnet_logger logger; /* a replay session's, while one plays it */
    char err[256];
};

static rollnet_error fail(rollnet_replay *r, rollnet_error code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static rollnet_error fail(rollnet_replay *r, rollnet_error code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    return code;
}

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
        return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: %s is not an integer", key);
    }
    if (*out < lo || *out > hi) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: %s is %lld, must be %lld..%lld", key,
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
            return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: format is not \"%s\"",
                        RN_REPLAY_FORMAT);
        }
        return ROLLNET_ERR_OK;
    case H_VERSION:
        if (!rn_mp_int(v, n, &x) || x != ROLLNET_REPLAY_VERSION) {
            return fail(r, ROLLNET_ERR_REPLAY_INVALID,
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
            return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: kind is not \"p2p\" or \"synctest\"");
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
            return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: %s is not an unsigned integer", key);
        }
        return ROLLNET_ERR_OK;
    case H_GAME_PARAMS: {
        if (!rn_mp_bin(v, n, &b, &bn)) {
            return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: game_params is not binary");
        }
        const char *why = rn_game_params_parse(b, bn, NULL);
        if (why) {
            return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: game_params (%zu bytes) %s", bn, why);
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

static rollnet_error parse_header(rollnet_replay *r, const uint8_t *p, size_t len, size_t max_state)
{
    uint32_t pairs = 0;
    size_t off = 0;
    if (!rn_mp_container(p, len, true, &pairs, &off)) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "header: the file does not start with a map (not a rollnet replay)");
    }
    uint32_t seen = 0;
    for (uint32_t i = 0; i < pairs; i++) {
        size_t ks, ke, vs, ve;
        if (!rn_mp_element(p, len, &off, &ks, &ke) || !rn_mp_element(p, len, &off, &vs, &ve)) {
            return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: malformed");
        }
        int k = 0;
        while (k < H_COUNT && !rn_mp_str_is(p + ks, ke - ks, header_keys[k])) {
            k++;
        }
        if (k == H_COUNT) {
            const uint8_t *s = NULL;
            size_t sn = 0;
            if (!rn_mp_str(p + ks, ke - ks, &s, &sn) || sn > 40) {
                return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: a key is not a short string");
            }
            return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: unknown field \"%.*s\"", (int)sn,
                        (const char *)s);
        }
        if (seen & (1u << k)) {
            return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: %s appears twice", header_keys[k]);
        }
        seen |= 1u << k;
        rollnet_error e = header_field(r, k, p + vs, ve - vs, max_state);
        if (e != ROLLNET_ERR_OK) {
            return e;
        }
        if (k == H_FORMAT && i != 0) {
            return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: format must be the first field");
        }
    }
    for (int k = 0; k < H_COUNT; k++) {
        if (!(seen & (1u << k))) {
            return fail(r, ROLLNET_ERR_REPLAY_INVALID, "header: %s is missing", header_keys[k]);
        }
    }
    return ROLLNET_ERR_OK;
}

/* The initial state: one bin, possibly larger than the stream's buffer. */
static rollnet_error read_state(rollnet_replay *r)
{
    const uint8_t *p = NULL;
    size_t have = rn_mpstream_peek(&r->in, &p, 5);
    size_t hdr = have == 0 ? 0 : p[0] == 0xc4 ? 1 : p[0] == 0xc5 ? 2 : p[0] == 0xc6 ? 4 : 0;
    if (hdr == 0 || have < 1 + hdr) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    have == 0 ? "initial state: missing (the file ends after the header)"
                              : "initial state: not binary");
    }
    uint64_t size = 0;
    for (size_t i = 0; i < hdr; i++) {
        size = (size << 8) | p[1 + i];
    }
    if (size > r->info.snapshot_capacity) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "initial state: %llu bytes, larger than snapshot_capacity (%zu)",
                    (unsigned long long)size, r->info.snapshot_capacity);
    }
    uint8_t skip[5];
    if (!rn_mpstream_read_raw(&r->in, skip, 1 + hdr)) {
        return fail(r, ROLLNET_ERR_IO, "initial state: read failed");
    }
    /* Allocate only what the file can back. */
    long left = rn_mpstream_remaining(&r->in);
    if (left >= 0 && (uint64_t)left < size) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "initial state: cut short (%llu bytes announced, %ld left in the file)",
                    (unsigned long long)size, left);
    }
    r->state = rn_calloc(&r->alloc, 1, size > 0 ? (size_t)size : 1);
    if (!r->state) {
        return fail(r, ROLLNET_ERR_OUT_OF_MEMORY, "initial state: %llu bytes: out of memory",
                    (unsigned long long)size);
    }
    if (!rn_mpstream_read_raw(&r->in, r->state, (size_t)size)) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "initial state: cut short (the file ends inside its %llu bytes)",
                    (unsigned long long)size);
    }
    for (size_t off = 0; off < size;) {
        size_t end = 0;
        if (!rn_msgpack_measure(r->state, (size_t)size, off, &end)) {
            return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                        "initial state: not whole msgpack values (at byte %zu)", off);
        }
        off = end;
    }
    r->info.initial_state = r->state;
    r->info.initial_state_size = (size_t)size;
    return ROLLNET_ERR_OK;
}

/* ---- Frames ------------------------------------------------------------- */

static rollnet_error read_end_marker(rollnet_replay *r, const uint8_t *p, size_t len)
{
    uint32_t pairs = 0;
    size_t off = 0, ks, ke, vs, ve;
    int64_t n = -1;
    if (!rn_mp_container(p, len, true, &pairs, &off) || pairs != 1 ||
        !rn_mp_element(p, len, &off, &ks, &ke) || !rn_mp_element(p, len, &off, &vs, &ve) ||
        !rn_mp_str_is(p + ks, ke - ks, RN_REPLAY_KEY_FRAMES) || !rn_mp_int(p + vs, ve - vs, &n)) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "end marker after frame %d: not a map {\"frames\": count}", r->next_frame - 1);
    }
    if (n != r->next_frame) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "end marker: says %lld frames, the file holds %d", (long long)n, r->next_frame);
    }
    const uint8_t *rest = NULL;
    size_t rest_size = 0;
    rn_mp_result more = rn_mpstream_next(&r->in, &rest, &rest_size);
    if (more == RN_MP_IO) {
        return fail(r, ROLLNET_ERR_IO, "after the end marker: read failed");
    }
    if (more != RN_MP_END) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID, "bytes after the end marker (frame count %d)",
                    r->next_frame);
    }
    r->ended = true;
    return ROLLNET_ERR_OK;
}

/* One field of a frame's array: the next element, or a failure naming it. */
static bool field(rollnet_replay *r, const uint8_t *p, size_t len, size_t *off, const char *name,
                  size_t *s, size_t *e)
{
    if (!rn_mp_element(p, len, off, s, e)) {
        fail(r, ROLLNET_ERR_REPLAY_INVALID, "frame %d: %s: malformed", r->next_frame, name);
        return false;
    }
    return true;
}

static rollnet_error frame_int(rollnet_replay *r, const char *name, const uint8_t *v, size_t n,
                               int64_t want)
{
    int64_t x = 0;
    if (!rn_mp_int(v, n, &x)) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID, "frame %d: %s is not an integer", r->next_frame,
                    name);
    }
    if (x != want) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID, "frame %d: %s is %lld, expected %lld",
                    r->next_frame, name, (long long)x, (long long)want);
    }
    return ROLLNET_ERR_OK;
}

static rollnet_error parse_frame(rollnet_replay *r, const uint8_t *p, size_t len,
                                 rollnet_record *out)
{
    uint32_t n = 0;
    size_t off = 0, s[6], e[6];
    if (!rn_mp_container(p, len, false, &n, &off) || n != 6) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "frame %d: not an array of 6 values [frame, episode, step, episode_end, "
                    "inputs, data]",
                    r->next_frame);
    }
    static const char *const names[6] = {"frame", "episode", "step", "episode_end", "inputs",
                                         "data"};
    for (int i = 0; i < 6; i++) {
        if (!field(r, p, len, &off, names[i], &s[i], &e[i])) {
            return ROLLNET_ERR_REPLAY_INVALID;
        }
    }
    rollnet_error err = frame_int(r, "frame", p + s[0], e[0] - s[0], r->next_frame);
    if (err == ROLLNET_ERR_OK) {
        err = frame_int(r, "episode", p + s[1], e[1] - s[1], r->episode);
    }
    if (err == ROLLNET_ERR_OK) {
        err = frame_int(r, "step", p + s[2], e[2] - s[2], r->step);
    }
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    bool end = false;
    if (!rn_mp_bool(p + s[3], e[3] - s[3], &end)) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID, "frame %d: episode_end is not a boolean",
                    r->next_frame);
    }
    const uint8_t *in = NULL;
    size_t in_size = 0;
    size_t want = (size_t)r->info.num_players * (size_t)r->info.input_size;
    if (!rn_mp_bin(p + s[4], e[4] - s[4], &in, &in_size)) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID, "frame %d: inputs is not binary", r->next_frame);
    }
    if (in_size != want) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "frame %d: inputs: %zu bytes, expected %zu (num_players %d * input_size %d)",
                    r->next_frame, in_size, want, r->info.num_players, r->info.input_size);
    }
    size_t dsize = p[s[5]] == 0xc0 ? 0 : e[5] - s[5];
    if (dsize > r->info.record_capacity) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "frame %d: data: %zu bytes, larger than record_capacity (%zu)", r->next_frame,
                    dsize, r->info.record_capacity);
    }
    memset(out, 0, sizeof(*out));
    out->frame = r->next_frame;
    out->episode = r->episode;
    out->step = r->step;
    out->episode_end = end;
    out->inputs = in;
    out->data = dsize > 0 ? p + s[5] : NULL;
    out->size = dsize;
    r->next_frame++;
    if (end) {
        r->episode++;
        r->step = 0;
    } else {
        r->step++;
    }
    return ROLLNET_ERR_OK;
}

/* The next frame into *out, or *end at the end marker. */
static rollnet_error read_frame(rollnet_replay *r, rollnet_record *out, bool *end)
{
    *end = false;
    if (r->ended) {
        *end = true;
        return ROLLNET_ERR_OK;
    }
    if (r->next_frame == INT32_MAX) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID, "more frames than a session can run");
    }
    const uint8_t *p = NULL;
    size_t len = 0;
    rn_mp_result got = rn_mpstream_next(&r->in, &p, &len);
    while (got == RN_MP_OVERSIZE && r->in.cap < r->frame_cap) {
        size_t cap = 2 * r->in.cap < r->frame_cap ? 2 * r->in.cap : r->frame_cap;
        if (rn_mpstream_resize(&r->in, cap) != ROLLNET_ERR_OK) {
            return fail(r, ROLLNET_ERR_OUT_OF_MEMORY, "frame %d: out of memory", r->next_frame);
        }
        got = rn_mpstream_next(&r->in, &p, &len);
    }
    switch (got) {
    case RN_MP_VALUE:
        break;
    case RN_MP_END:
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "the file ends before frame %d without its end marker (cut short)",
                    r->next_frame);
    case RN_MP_CUT:
        return fail(r, ROLLNET_ERR_REPLAY_INVALID, "frame %d: cut short or malformed",
                    r->next_frame);
    case RN_MP_OVERSIZE:
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "frame %d: larger than the %zu bytes a frame may take (record_capacity %zu)",
                    r->next_frame, r->frame_cap, r->info.record_capacity);
    case RN_MP_IO:
        return fail(r, ROLLNET_ERR_IO, "frame %d: read failed", r->next_frame);
    }
    uint32_t n = 0;
    size_t hdr = 0;
    if (rn_mp_container(p, len, true, &n, &hdr)) {
        rollnet_error err = read_end_marker(r, p, len);
        *end = err == ROLLNET_ERR_OK;
        return err;
    }
    return parse_frame(r, p, len, out);
}

/* ---- Public ------------------------------------------------------------- */

static rollnet_error open_checked(rollnet_replay *r, size_t max_state)
{
    const uint8_t *p = NULL;
    size_t len = 0;
    switch (rn_mpstream_next(&r->in, &p, &len)) {
    case RN_MP_VALUE:
        break;
    case RN_MP_END:
        return fail(r, ROLLNET_ERR_REPLAY_INVALID, "the file is empty");
    case RN_MP_IO:
        return fail(r, ROLLNET_ERR_IO, "header: read failed");
    default:
        return fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "header: not a whole msgpack value within %d bytes (cut short, or not a "
                    "rollnet replay)",
                    RN_REPLAY_HEADER_MAX);
    }
    rollnet_error err = parse_header(r, p, len, max_state);
    if (err == ROLLNET_ERR_OK) {
        err = read_state(r);
    }
    /* The buffer grows towards a whole frame (frame_cap) only as larger
     * frames arrive, so its size follows the bytes the file holds, not
     * what its header claims. */
    r->frame_cap = ENTRY_OVERHEAD + (size_t)r->info.num_players * (size_t)r->info.input_size +
                   r->info.record_capacity;
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    r->first_frame_off = rn_mpstream_tell(&r->in);
    rollnet_record rec;
    bool end = false;
    while (err == ROLLNET_ERR_OK && !end) {
        err = read_frame(r, &rec, &end);
    }
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    if (r->next_frame == 0) {
        return fail(r, ROLLNET_ERR_REPLAY_INVALID, "the replay holds no frames");
    }
    r->info.num_frames = r->next_frame;
    return rollnet_replay_rewind(r);
}

rollnet_error rn_replay_open_stream(FILE *f, const rollnet_replay_desc *desc, rollnet_replay **out,
                                   char *why, size_t why_cap)
{
    if (why && why_cap > 0) {
        why[0] = '\0';
    }
    if (!out || !desc) {
        if (f) {
            fclose(f);
        }
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    rollnet_allocator alloc;
    rn_allocator_resolve(&desc->allocator, &alloc);
    rollnet_replay *r = rn_calloc(&alloc, 1, sizeof(*r));
    if (!r) {
        if (f) {
            fclose(f);
        }
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    r->alloc = alloc;
    r->info.game_params = r->game_params;
    size_t max_state = desc->max_state_size ? desc->max_state_size : ROLLNET_REPLAY_DEFAULT_MAX_STATE;
    rollnet_error err;
    r->f = f;
    if (!r->f) {
        err = fail(r, ROLLNET_ERR_IO, "cannot open the file");
    } else if ((err = rn_mpstream_init(&r->in, r->f, &alloc, RN_REPLAY_HEADER_MAX)) !=
               ROLLNET_ERR_OK) {
        fail(r, err, "out of memory");
    } else {
        r->in_ready = true;
        err = open_checked(r, max_state);
    }
    if (err != ROLLNET_ERR_OK) {
        if (why && why_cap > 0) {
            snprintf(why, why_cap, "%s", r->err);
        }
        rollnet_replay_close(r);
        return err;
    }
    *out = r;
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_replay_open(const rollnet_replay_desc *desc, rollnet_replay **out, char *why,
                                  size_t why_cap)
{
    if (why && why_cap > 0) {
        why[0] = '\0';
    }
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!desc || !desc->path) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    return rn_replay_open_stream(fopen(desc->path, "rb"), desc, out, why, why_cap);
}

void rollnet_replay_close(rollnet_replay *r)
{
    if (!r) {
        return;
    }
    if (r->in_ready) {
        rn_mpstream_free(&r->in);
    }
    if (r->f) {
        fclose(r->f);
    }
    rollnet_allocator alloc = r->alloc;
    if (r->state) {
        rn_free(&alloc, r->state);
    }
    rn_free(&alloc, r);
}

rollnet_error rollnet_replay_get_info(const rollnet_replay *r, rollnet_replay_info *out)
{
    if (!r || !out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *out = r->info;
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_replay_rewind(rollnet_replay *r)
{
    if (!r) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    r->next_frame = r->episode = r->step = 0;
    r->ended = false;
    r->err[0] = '\0';
    if (!rn_mpstream_seek(&r->in, r->first_frame_off)) {
        return fail(r, ROLLNET_ERR_IO, "cannot seek back to frame 0");
    }
    return ROLLNET_ERR_OK;
}

bool rollnet_replay_next_record(rollnet_replay *r, rollnet_record *out)
{
    if (!r || !out) {
        return false;
    }
    bool end = false;
    return read_frame(r, out, &end) == ROLLNET_ERR_OK && !end;
}

const char *rollnet_replay_error(const rollnet_replay *r)
{
    return r ? r->err : "";
}

/* ---- The replay session's source ---------------------------------------- */

static rollnet_error source_read(void *self, rn_replay_frame *out, bool *end)
{
    rollnet_replay *r = self;
    rollnet_record rec;
    rollnet_error err = read_frame(r, &rec, end);
    if (err != ROLLNET_ERR_OK) {
        if (r->logger.log) {
            char msg[300];
            snprintf(msg, sizeof(msg), "replay file: %s", r->err);
            r->logger.log(ROLLNET_LOG_ERROR, msg, r->logger.user_data);
        }
        return err;
    }
    if (!*end) {
        out->inputs = rec.inputs;
        out->record = rec.data;
        out->record_size = rec.size;
        out->episode_end = rec.episode_end;
    }
    return ROLLNET_ERR_OK;
}

rollnet_error rn_replay_session_open(rollnet_replay *replay,
                                     const rollnet_replay_session_desc *desc,
                                     rollnet_session **out)
{
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!replay) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    rollnet_replay_session_desc zero;
    memset(&zero, 0, sizeof(zero));
    const rollnet_replay_session_desc *rd = desc ? desc : &zero;
    rollnet_error err = rollnet_replay_rewind(replay);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    const rollnet_replay_info *in = &replay->info;
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_REPLAY;
    d.num_players = in->num_players;
    d.input_size = in->input_size;
    d.fps = in->fps;
    d.game_id = in->game_id;
    d.seed = in->seed;
    d.game_params = in->game_params;
    d.game_params_size = in->game_params_size;
    d.snapshot_capacity = in->snapshot_capacity;
    d.record_capacity = in->record_capacity;
    d.checksum_interval = ROLLNET_CHECKSUMS_OFF;
    d.ledger_capacity = rd->ledger_capacity;
    d.episode_timeout_ms = rd->episode_timeout_ms;
    d.allocator = rd->allocator;
    d.logger = rd->logger;
    d.user_data = rd->user_data;
    for (int p = 0; p < d.num_players; p++) {
        d.players[p].kind = ROLLNET_PLAYER_REMOTE;
    }
    replay->logger = rd->logger;
    rn_replay_source src = {
        .read = source_read,
        .self = replay,
        .initial_state = replay->state,
        .initial_state_size = in->initial_state_size,
    };
    return rn_session_create_replay(&d, &src, out);
}
