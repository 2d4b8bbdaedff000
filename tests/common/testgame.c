#include "testgame.h"

#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

#define TG_STATE_FIELDS 7
#define TG_PLAYER_FIELDS 5
/* Largest snapshot: the blob plus its 5-byte header, and at most 9 bytes per
 * integer for everything else. */
#define TG_SNAPSHOT_MAX (TG_MAX_BLOB + 16 + 9 * (8 + ROLLNET_MAX_PLAYERS * 6))

uint64_t tg_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int32_t tg_wrap(int32_t v)
{
    v %= TG_ARENA;
    return v < 0 ? v + TG_ARENA : v;
}

/* Shortest distance on the wrapping arena. */
static int32_t tg_dist(int32_t a, int32_t b)
{
    int32_t d = a > b ? a - b : b - a;
    return d > TG_ARENA / 2 ? TG_ARENA - d : d;
}

static int32_t tg_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static void tg_place_coin(tg_game *g)
{
    uint64_t r = tg_rand(&g->rng);
    g->coin_x = (int32_t)(r % TG_ARENA);
    g->coin_y = (int32_t)((r >> 24) % TG_ARENA);
}

static void tg_reset_players(tg_game *g)
{
    for (int i = 0; i < g->num_players; i++) {
        uint64_t r = tg_rand(&g->rng);
        tg_player *p = &g->players[i];
        p->x = (int32_t)(r % TG_ARENA);
        p->y = (int32_t)((r >> 24) % TG_ARENA);
        p->vx = 0;
        p->vy = 0;
        p->score = 0;
    }
    tg_place_coin(g);
}

bool tg_init(tg_game *g, uint64_t seed, int num_players, int input_size, size_t blob_size,
             int32_t max_steps)
{
    if (!g || num_players < 1 || num_players > ROLLNET_MAX_PLAYERS || input_size < 1 ||
        input_size > ROLLNET_MAX_INPUT_SIZE || blob_size > TG_MAX_BLOB || max_steps < 0) {
        return false;
    }
    memset(g, 0, sizeof *g);
    g->num_players = num_players;
    g->input_size = input_size;
    g->blob_size = blob_size;
    g->max_steps = max_steps;
    g->rng = seed;
    g->failed_frame = -1;
    tg_reset_players(g);
    for (size_t i = 0; i < blob_size; i += 8) {
        uint64_t r = tg_rand(&g->rng);
        size_t n = blob_size - i < 8 ? blob_size - i : 8;
        memcpy(g->blob + i, &r, n);
    }
    return true;
}

bool tg_episode_over(const tg_game *g)
{
    return g->max_steps > 0 && g->frame - g->episode_start >= g->max_steps;
}

int32_t tg_step_index(const tg_game *g)
{
    return g->frame == 0 ? -1 : g->frame - 1 - g->episode_start;
}

void tg_step(tg_game *g, const uint8_t *inputs)
{
    if (tg_episode_over(g)) {
        g->episode++;
        g->episode_start = g->frame;
        tg_reset_players(g);
    }

    for (int i = 0; i < g->num_players; i++) {
        const uint8_t *in = inputs + (size_t)i * (size_t)g->input_size;
        tg_player *p = &g->players[i];
        uint8_t b = in[0];
        int32_t ax = (int32_t)((b >> 1) & 1u) - (int32_t)(b & 1u);
        int32_t ay = (int32_t)((b >> 3) & 1u) - (int32_t)((b >> 2) & 1u);
        int32_t boost = (b >> 4) & 1u ? 2 : 1;

        /* No thrust on an axis means friction on it. */
        p->vx = ax ? tg_clamp(p->vx + ax, -TG_MAX_SPEED, TG_MAX_SPEED)
                   : p->vx - (p->vx > 0) + (p->vx < 0);
        p->vy = ay ? tg_clamp(p->vy + ay, -TG_MAX_SPEED, TG_MAX_SPEED)
                   : p->vy - (p->vy > 0) + (p->vy < 0);
        p->x = tg_wrap(p->x + p->vx * boost);
        p->y = tg_wrap(p->y + p->vy * boost);

        /* Every input byte reaches the state, so a wrong prediction of any
         * byte shows in the checksum. */
        uint64_t h = 0xcbf29ce484222325ull;
        for (int j = 0; j < g->input_size; j++) {
            h = (h ^ in[j]) * 0x100000001b3ull;
        }
        g->rng ^= h * (uint64_t)(2 * i + 1);

        if (tg_dist(p->x, g->coin_x) <= TG_COIN_RADIUS &&
            tg_dist(p->y, g->coin_y) <= TG_COIN_RADIUS) {
            p->score += boost;
            tg_place_coin(g);
        }
    }

    uint64_t r = tg_rand(&g->rng);
    if (g->nondeterministic) {
        g->rng += g->hidden;
    }
    g->hidden++;

    if (g->blob_size > 0) {
        for (int k = 0; k < 4; k++) {
            size_t at = (size_t)((r >> (16 * k)) % g->blob_size);
            g->blob[at] = (uint8_t)(g->blob[at] * 31u + (uint8_t)(r >> (8 * k)) + (uint8_t)g->frame);
        }
        g->blob[(size_t)g->frame % g->blob_size] ^= (uint8_t)(g->rng >> 56);
    }
    g->frame++;
}

void tg_save(const tg_game *g, rollnet_writer *w)
{
    rollnet_write_array(w, TG_STATE_FIELDS);
    rollnet_write_int(w, g->frame);
    rollnet_write_int(w, g->episode);
    rollnet_write_int(w, g->episode_start);
    rollnet_write_uint(w, g->rng);
    rollnet_write_array(w, 2);
    rollnet_write_int(w, g->coin_x);
    rollnet_write_int(w, g->coin_y);
    rollnet_write_array(w, (uint32_t)g->num_players);
    for (int i = 0; i < g->num_players; i++) {
        const tg_player *p = &g->players[i];
        rollnet_write_array(w, TG_PLAYER_FIELDS);
        rollnet_write_int(w, p->x);
        rollnet_write_int(w, p->y);
        rollnet_write_int(w, p->vx);
        rollnet_write_int(w, p->vy);
        rollnet_write_int(w, p->score);
    }
    rollnet_write_bin(w, g->blob, g->blob_size);
}

static bool tg_read_range(rollnet_reader *r, int64_t lo, int64_t hi, int32_t *out)
{
    int64_t v;
    if (!rollnet_read_int(r, &v) || v < lo || v > hi) {
        return false;
    }
    *out = (int32_t)v;
    return true;
}

bool tg_load(tg_game *g, rollnet_reader *r)
{
    uint32_t n;
    int32_t frame, episode, episode_start, coin_x, coin_y;
    uint64_t rng;
    tg_player players[ROLLNET_MAX_PLAYERS];
    const void *blob;
    size_t blob_len;

    if (!rollnet_read_array(r, &n) || n != TG_STATE_FIELDS ||
        !tg_read_range(r, 0, INT32_MAX, &frame) || !tg_read_range(r, 0, INT32_MAX, &episode) ||
        !tg_read_range(r, 0, frame, &episode_start) || !rollnet_read_uint(r, &rng) ||
        !rollnet_read_array(r, &n) || n != 2 || !tg_read_range(r, 0, TG_ARENA - 1, &coin_x) ||
        !tg_read_range(r, 0, TG_ARENA - 1, &coin_y) || !rollnet_read_array(r, &n) ||
        n != (uint32_t)g->num_players) {
        return false;
    }
    for (int i = 0; i < g->num_players; i++) {
        tg_player *p = &players[i];
        if (!rollnet_read_array(r, &n) || n != TG_PLAYER_FIELDS ||
            !tg_read_range(r, 0, TG_ARENA - 1, &p->x) ||
            !tg_read_range(r, 0, TG_ARENA - 1, &p->y) ||
            !tg_read_range(r, -TG_MAX_SPEED, TG_MAX_SPEED, &p->vx) ||
            !tg_read_range(r, -TG_MAX_SPEED, TG_MAX_SPEED, &p->vy) ||
            !rollnet_read_int(r, &p->score)) {
            return false;
        }
    }
    if (!rollnet_read_bin(r, &blob, &blob_len) || blob_len != g->blob_size ||
        rollnet_reader_error(r) != ROLLNET_ERR_OK) {
        return false;
    }

    g->frame = frame;
    g->episode = episode;
    g->episode_start = episode_start;
    g->rng = rng;
    g->coin_x = coin_x;
    g->coin_y = coin_y;
    memcpy(g->players, players, sizeof(tg_player) * (size_t)g->num_players);
    if (blob_len > 0) {
        memcpy(g->blob, blob, blob_len);
    }
    return true;
}

void tg_write_record(const tg_game *g, rollnet_writer *w, const uint8_t *inputs)
{
    rollnet_write_map(w, 6);
    rollnet_write_str(w, "frame", 5);
    rollnet_write_int(w, g->frame - 1);
    rollnet_write_str(w, "episode", 7);
    rollnet_write_int(w, g->episode);
    rollnet_write_str(w, "step", 4);
    rollnet_write_int(w, tg_step_index(g));
    rollnet_write_str(w, "inputs", 6);
    rollnet_write_bin(w, inputs, (size_t)g->num_players * (size_t)g->input_size);
    rollnet_write_str(w, "pos", 3);
    rollnet_write_array(w, (uint32_t)g->num_players);
    for (int i = 0; i < g->num_players; i++) {
        rollnet_write_array(w, 2);
        rollnet_write_int(w, g->players[i].x);
        rollnet_write_int(w, g->players[i].y);
    }
    rollnet_write_str(w, "score", 5);
    rollnet_write_array(w, (uint32_t)g->num_players);
    for (int i = 0; i < g->num_players; i++) {
        rollnet_write_int(w, g->players[i].score);
    }
}

void tg_write_row(const tg_game *g, rollnet_writer *w)
{
    rollnet_write_array(w, (uint32_t)(3 * g->num_players + 4));
    rollnet_write_int(w, g->episode);
    rollnet_write_int(w, tg_step_index(g));
    for (int i = 0; i < g->num_players; i++) {
        rollnet_write_int(w, g->players[i].x);
        rollnet_write_int(w, g->players[i].y);
        rollnet_write_int(w, g->players[i].score);
    }
    rollnet_write_int(w, g->coin_x);
    rollnet_write_int(w, g->coin_y);
}

int tg_row_columns(int num_players, const char **names)
{
    static const char *const per_player[ROLLNET_MAX_PLAYERS][3] = {
        {"x0", "y0", "score0"}, {"x1", "y1", "score1"}, {"x2", "y2", "score2"},
        {"x3", "y3", "score3"},
#if ROLLNET_MAX_PLAYERS > 4
        {"x4", "y4", "score4"}, {"x5", "y5", "score5"}, {"x6", "y6", "score6"},
        {"x7", "y7", "score7"},
#endif
    };
    int n = 0;
    names[n++] = "game_episode";
    names[n++] = "game_step";
    for (int i = 0; i < num_players; i++) {
        for (int k = 0; k < 3; k++) {
            names[n++] = per_player[i][k];
        }
    }
    names[n++] = "coin_x";
    names[n++] = "coin_y";
    return n;
}

/* Pack the state into a scratch buffer the caller frees; NULL on failure. */
static uint8_t *tg_pack(const tg_game *g, size_t *len)
{
    uint8_t *buf = malloc(TG_SNAPSHOT_MAX);
    if (!buf) {
        return NULL;
    }
    rollnet_writer w;
    rn_writer_init(&w, buf, TG_SNAPSHOT_MAX);
    tg_save(g, &w);
    if (rollnet_writer_error(&w) != ROLLNET_ERR_OK) {
        free(buf);
        return NULL;
    }
    *len = w.len;
    return buf;
}

uint64_t tg_state_hash(const tg_game *g)
{
    size_t len = 0;
    uint8_t *buf = tg_pack(g, &len);
    uint64_t h = buf ? rollnet_checksum(buf, len) : 0;
    free(buf);
    return h;
}

size_t tg_snapshot_size(const tg_game *g)
{
    size_t len = 0;
    free(tg_pack(g, &len));
    return len;
}

/* msgpack bin header for n bytes. */
static size_t tg_bin_header(size_t n)
{
    return n < 256 ? 2 : (n < 65536 ? 3 : 5);
}

size_t tg_blob_size_for_snapshot(int num_players, size_t target)
{
    tg_game *g = malloc(sizeof *g);
    if (!g || !tg_init(g, 1, num_players, 1, 0, 0)) {
        free(g);
        return 0;
    }
    size_t base = tg_snapshot_size(g) - tg_bin_header(0);
    free(g);
    for (size_t hdr = 2; hdr <= 3; hdr++) {
        if (target < base + hdr) {
            return 0;
        }
        size_t n = target - base - hdr;
        if (tg_bin_header(n) == hdr) {
            return n > TG_MAX_BLOB ? TG_MAX_BLOB : n;
        }
    }
    return TG_MAX_BLOB;
}

static rollnet_error tg_fail(tg_game *g, const rollnet_request *req, rollnet_error err)
{
    g->failed_frame = req->frame;
    g->failed_type = req->type;
    return err;
}

rollnet_error tg_execute(tg_game *g, rollnet_session *s, const rollnet_request *requests,
                         int count)
{
    for (int i = 0; i < count; i++) {
        const rollnet_request *req = &requests[i];
        rollnet_error err = ROLLNET_ERR_OK;
        switch (req->type) {
        case ROLLNET_REQUEST_SAVE: {
            rollnet_writer *w = rollnet_session_save_begin(s, req);
            if (!w) {
                return tg_fail(g, req, ROLLNET_ERR_WRONG_REQUEST);
            }
            if (req->frame != g->frame) {
                g->frame_mismatches++;
            }
            tg_save(g, w);
            err = rollnet_session_save_end(s, req);
            g->saves++;
            break;
        }
        case ROLLNET_REQUEST_LOAD: {
            rollnet_reader *r = rollnet_session_load_begin(s, req);
            if (!r) {
                return tg_fail(g, req, ROLLNET_ERR_WRONG_REQUEST);
            }
            bool ok = tg_load(g, r);
            err = rollnet_session_load_end(s, req);
            if (err == ROLLNET_ERR_OK && !ok) {
                err = ROLLNET_ERR_SNAPSHOT_READ;
            }
            if (ok && req->frame != g->frame) {
                g->frame_mismatches++;
            }
            g->loads++;
            if (req->flags & ROLLNET_REQUEST_REPLAY) {
                g->replayed_loads++;
            }
            break;
        }
        case ROLLNET_REQUEST_ADVANCE: {
            if (req->frame != g->frame) {
                g->frame_mismatches++;
            }
            tg_step(g, req->inputs);
            if (g->write_records) {
                rollnet_writer *w = rollnet_session_record_begin(s, req);
                if (!w) {
                    return tg_fail(g, req, ROLLNET_ERR_WRONG_REQUEST);
                }
                if (g->record_rows) {
                    tg_write_row(g, w);
                } else {
                    tg_write_record(g, w, req->inputs);
                }
                g->records++;
            }
            err = rollnet_session_advance_end(s, req,
                                              tg_episode_over(g) ? ROLLNET_STEP_EPISODE_END : 0u);
            g->advances++;
            if (req->flags & ROLLNET_REQUEST_REPLAY) {
                g->replayed_advances++;
            }
            break;
        }
        default:
            return tg_fail(g, req, ROLLNET_ERR_WRONG_REQUEST);
        }
        if (err != ROLLNET_ERR_OK) {
            return tg_fail(g, req, err);
        }
    }
    return ROLLNET_ERR_OK;
}

void tg_bot_init(tg_bot *b, uint64_t seed, int input_size)
{
    memset(b, 0, sizeof *b);
    b->rng = seed;
    b->input_size = input_size < 1 ? 1
                                   : (input_size > ROLLNET_MAX_INPUT_SIZE ? ROLLNET_MAX_INPUT_SIZE
                                                                          : input_size);
}

const uint8_t *tg_bot_next(tg_bot *b)
{
    if (b->hold == 0) {
        for (int i = 0; i < b->input_size; i += 8) {
            uint64_t r = tg_rand(&b->rng);
            int n = b->input_size - i < 8 ? b->input_size - i : 8;
            memcpy(b->input + i, &r, (size_t)n);
        }
        /* Lemire's multiply-shift: uniform over 1..19 up to a 2^-32 bias. */
        b->hold = 1 + (int)(((tg_rand(&b->rng) >> 32) * 19u) >> 32);
    }
    b->hold--;
    return b->input;
}
