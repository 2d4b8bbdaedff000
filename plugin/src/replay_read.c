/* The replay reader's frames and public calls, and the replay session's
 * source (the header and the initial state are read in replay_header.c). A
 * replay file comes from outside: every field is checked (type, range, size
 * against the header's parameters) and every failure is a sentence naming
 * the field and the frame. The whole file is checked at open, in one bounded
 * pass, so a playback never meets a corrupt frame halfway. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mpstream.h"
#include "replay.h"
#include "replay_format.h"
#include "replay_internal.h"
#include "replay_reader.h"
#include "rn_alloc.h"
#include "snapshot.h"
#include "rollnet/rollnet_replay.h"

#define ENTRY_OVERHEAD 64 /* array header, frame, episode, step, flag, bin headers */

rollnet_error rn_replay_fail(rollnet_replay *r, rollnet_error code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    return code;
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
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "end marker after frame %d: not a map {\"frames\": count}", r->next_frame - 1);
    }
    if (n != r->next_frame) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "end marker: says %lld frames, the file holds %d", (long long)n, r->next_frame);
    }
    const uint8_t *rest = NULL;
    size_t rest_size = 0;
    rn_mp_result more = rn_mpstream_next(&r->in, &rest, &rest_size);
    if (more == RN_MP_IO) {
        return rn_replay_fail(r, ROLLNET_ERR_IO, "after the end marker: read failed");
    }
    if (more != RN_MP_END) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "bytes after the end marker (frame count %d)",
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
        rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "frame %d: %s: malformed", r->next_frame, name);
        return false;
    }
    return true;
}

static rollnet_error frame_int(rollnet_replay *r, const char *name, const uint8_t *v, size_t n,
                               int64_t want)
{
    int64_t x = 0;
    if (!rn_mp_int(v, n, &x)) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "frame %d: %s is not an integer", r->next_frame,
                    name);
    }
    if (x != want) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "frame %d: %s is %lld, expected %lld",
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
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
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
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "frame %d: episode_end is not a boolean",
                    r->next_frame);
    }
    const uint8_t *in = NULL;
    size_t in_size = 0;
    size_t want = (size_t)r->info.num_players * (size_t)r->info.input_size;
    if (!rn_mp_bin(p + s[4], e[4] - s[4], &in, &in_size)) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "frame %d: inputs is not binary", r->next_frame);
    }
    if (in_size != want) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "frame %d: inputs: %zu bytes, expected %zu (num_players %d * input_size %d)",
                    r->next_frame, in_size, want, r->info.num_players, r->info.input_size);
    }
    size_t dsize = p[s[5]] == 0xc0 ? 0 : e[5] - s[5];
    if (dsize > r->info.record_capacity) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
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

/* The bytes the file ends with, which are no whole value: the beginning of
 * one frame (an array of 6) or of the end marker (a map of 1) that a frame's
 * bytes could complete. Anything else (a length that claims more than a
 * frame holds, say) is a malformed file, not a recorder that stopped. */
static bool cut_frame(rollnet_replay *r)
{
    const uint8_t *p = NULL;
    size_t n = rn_mpstream_peek(&r->in, &p, r->frame_cap + 1);
    return n >= 1 && n <= r->frame_cap && (p[0] == 0x96 || p[0] == 0x81) &&
           rn_mp_prefix_fits(p, n, r->frame_cap);
}

/* The next frame into *out, or *end at the end marker. */
rollnet_error rn_replay_read_frame(rollnet_replay *r, rollnet_record *out, bool *end)
{
    *end = false;
    if (r->ended) {
        *end = true;
        return ROLLNET_ERR_OK;
    }
    if (r->next_frame == INT32_MAX) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "more frames than a session can run");
    }
    const uint8_t *p = NULL;
    size_t len = 0;
    rn_mp_result got = rn_mpstream_next(&r->in, &p, &len);
    while (got == RN_MP_OVERSIZE && r->in.cap < r->frame_cap) {
        size_t cap = 2 * r->in.cap < r->frame_cap ? 2 * r->in.cap : r->frame_cap;
        if (rn_mpstream_resize(&r->in, cap) != ROLLNET_ERR_OK) {
            return rn_replay_fail(r, ROLLNET_ERR_OUT_OF_MEMORY, "frame %d: out of memory", r->next_frame);
        }
        got = rn_mpstream_next(&r->in, &p, &len);
    }
    switch (got) {
    case RN_MP_VALUE:
        break;
    case RN_MP_END:
    case RN_MP_CUT:
        /* No end marker: the recorder stopped (a crash, a killed process)
         * after the whole frames before this one, and maybe within this
         * one. Those frames are the replay; the info says it is cut. A
         * value that cannot be one frame cut short is malformed. */
        if (got == RN_MP_CUT && !cut_frame(r)) {
            return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                                  "frame %d: cut short or malformed", r->next_frame);
        }
        r->info.complete = false;
        r->ended = true;
        *end = true;
        return ROLLNET_ERR_OK;
    case RN_MP_OVERSIZE:
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "frame %d: larger than the %zu bytes a frame may take (record_capacity %zu)",
                    r->next_frame, r->frame_cap, r->info.record_capacity);
    case RN_MP_IO:
        return rn_replay_fail(r, ROLLNET_ERR_IO, "frame %d: read failed", r->next_frame);
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
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "the file is empty");
    case RN_MP_IO:
        return rn_replay_fail(r, ROLLNET_ERR_IO, "header: read failed");
    default:
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID,
                    "header: not a whole msgpack value within %d bytes (cut short, or not a "
                    "rollnet replay)",
                    RN_REPLAY_HEADER_MAX);
    }
    rollnet_error err = rn_replay_parse_header(r, p, len, max_state);
    if (err == ROLLNET_ERR_OK) {
        err = rn_replay_read_state(r);
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
    r->info.complete = true; /* until the frames end without the end marker */
    rollnet_record rec;
    bool end = false;
    while (err == ROLLNET_ERR_OK && !end) {
        err = rn_replay_read_frame(r, &rec, &end);
    }
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    if (r->next_frame == 0) {
        return rn_replay_fail(r, ROLLNET_ERR_REPLAY_INVALID, "the replay holds no frames");
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
        err = rn_replay_fail(r, ROLLNET_ERR_IO, "cannot open the file");
    } else if ((err = rn_mpstream_init(&r->in, r->f, &alloc, RN_REPLAY_HEADER_MAX)) !=
               ROLLNET_ERR_OK) {
        rn_replay_fail(r, err, "out of memory");
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
        return rn_replay_fail(r, ROLLNET_ERR_IO, "cannot seek back to frame 0");
    }
    return ROLLNET_ERR_OK;
}

bool rollnet_replay_next_record(rollnet_replay *r, rollnet_record *out)
{
    if (!r || !out) {
        return false;
    }
    bool end = false;
    return rn_replay_read_frame(r, out, &end) == ROLLNET_ERR_OK && !end;
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
    rollnet_error err = rn_replay_read_frame(r, &rec, end);
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
