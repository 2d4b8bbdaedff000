/* Helpers of the rejoin and play-on tests with three or more players
 * (test_p2p_rejoin_mesh.c, test_p2p_play_on_mesh.c): options, what every
 * node's log said about a lost peer (its ABSENT note, p2p_absent.c), the
 * comparison of every pair of ledgers. In the fixture node i dials every
 * node j > i. */
#ifndef MESH_UTIL_H
#define MESH_UTIL_H

#include "rejoin_util.h"

/* What a node's log said, kept per node (the logger's user_data). */
typedef struct mesh_log_seen {
    int notes;                     /* "told the other survivors its frames here" */
    int32_t note_last[FX_MAX];     /* per lost player: the frame its last note named, -2 none */
    int32_t neutral_from[FX_MAX];  /* "playing on with its input neutral from frame": -1 none */
    int readdressed;               /* "is now at" (a host's INTRO re-addressed a lost peer) */
    int split;                     /* "the mesh split" */
} mesh_log_seen;

static mesh_log_seen mesh_seen[FX_MAX];

static inline void mesh_log(rollnet_log_level level, const char *msg, void *user_data)
{
    int node = (int)(intptr_t)user_data;
    if (getenv("RN_TEST_LOG")) {
        print_log(level, msg, user_data);
    }
    if (node < 0 || node >= FX_MAX) {
        return;
    }
    mesh_log_seen *m = &mesh_seen[node];
    int player = -1, frame = -1;
    const char *at = strstr(msg, "confirmed to ");
    if (strstr(msg, "told the other survivors its frames here") && at &&
        sscanf(msg, "player %d", &player) == 1 && sscanf(at, "confirmed to %d", &frame) == 1 &&
        player >= 0 && player < FX_MAX) {
        m->notes++;
        m->note_last[player] = frame;
    }
    at = strstr(msg, "neutral from frame ");
    if (at && sscanf(msg, "player %d", &player) == 1 &&
        sscanf(at, "neutral from frame %d", &frame) == 1 && player >= 0 && player < FX_MAX) {
        m->neutral_from[player] = frame;
    }
    if (strstr(msg, "is now at ")) {
        m->readdressed++;
    }
    if (strstr(msg, "the mesh split")) {
        m->split++;
    }
}

static inline void mesh_seen_reset(void)
{
    memset(mesh_seen, 0, sizeof mesh_seen);
    for (int i = 0; i < FX_MAX; i++) {
        for (int p = 0; p < FX_MAX; p++) {
            mesh_seen[i].note_last[p] = -2;
            mesh_seen[i].neutral_from[p] = -1;
        }
    }
}

static inline void mesh_opts(fx_opts *o, uint64_t seed, int n)
{
    base_opts(o, seed);
    o->num_players = n;
    o->log = mesh_log;
    mesh_seen_reset();
    for (int i = 0; i < n; i++) {
        o->sim[i].delay_ms = 20 + 10 * i;
    }
}

/* Every pair of running nodes agrees on every frame both hold, and holds at
 * least `min_common` of them. */
static inline void all_agree(fx *f, int min_common)
{
    for (int i = 0; i < f->n; i++) {
        for (int j = i + 1; j < f->n; j++) {
            int common = agree_by_frame(f->rec[i], f->rec[j]);
            if (common < min_common) {
                fail_msg("nodes %d and %d share %d frames, wanted %d", i, j, common, min_common);
            }
        }
    }
}

/* Every survivor raised REJOINED for `who`, all naming one frame, which is
 * returned (see assert_rejoined). */
static inline int32_t all_rejoined(fx *f, int who, int min_rows)
{
    int32_t from = -1;
    for (int i = 0; i < f->n; i++) {
        if (i != who) {
            int32_t at = assert_rejoined(f, i, who, min_rows);
            if (from >= 0 && at != from) {
                fail_msg("node %d's REJOINED names frame %d, another's %d", i, at, from);
            }
            from = at;
        }
    }
    return from;
}

/* Node i's records flagged for player `lost`: every flag is that player's
 * bit alone, each flagged frame has its input neutral (0), and the flagged
 * frames are one run, which is returned as [*first, *end). */
static inline int mesh_flagged(const fx_records *r, int lost, int32_t *first, int32_t *end)
{
    int flagged = 0;
    *first = -1;
    *end = -1;
    for (int k = 0; k < r->count; k++) {
        if (r->disconnected[k] == 0) {
            continue;
        }
        assert_int_equal(r->disconnected[k], 1u << lost);
        assert_int_equal(r->first_input_byte[k][lost], 0);
        if (*first < 0) {
            *first = r->frame[k];
        } else {
            assert_int_equal(r->frame[k], *end); /* one run */
        }
        *end = r->frame[k] + 1;
        flagged++;
    }
    return flagged;
}

/* Node `who`'s inputs stop reaching node `starved` (the unreliable channel
 * from `who` to it is cut) `frames` frames before `who` crashes: the
 * survivors then hold different numbers of its inputs. */
static inline void starve_then_crash(fx *f, int who, int starved, uint64_t frames)
{
    assert_true(fx_all_running(f));
    rollnet_memnet_set_link_cut(f->net, who, starved, 1u << ROLLNET_CHANNEL_UNRELIABLE);
    fx_run(f, frames);
    fx_crash(f, who);
    rollnet_memnet_set_link_cut(f->net, who, starved, 0); /* the new process's links are whole */
}

/* Tick every node for `ticks` frames like fx_run, but a node whose session
 * stops (an error other than a skip) is recorded in stopped[] and ticked no
 * more (the network still delivers what it sent). */
static inline void run_tolerating_stops(fx *f, uint64_t ticks, rollnet_error *stopped)
{
    for (uint64_t t = 0; t < ticks; t++) {
        uint64_t now = harness_clock_now(&f->clock);
        for (int i = 0; i < f->n; i++) {
            if (f->gone[i] || f->paused[i] || stopped[i] != ROLLNET_ERR_OK) {
                if (f->s[i]) {
                    rollnet_netsim_flush(&f->sim[i], now);
                }
                continue;
            }
            rollnet_error err = harness_tick(&f->hp[i], now);
            fx_record_hash(f, i);
            if (err != ROLLNET_ERR_OK && !harness_is_skip(err)) {
                stopped[i] = err;
            }
        }
        harness_clock_tick(&f->clock);
    }
}

/* Forget a node's records before `frame` (those of a survivor that was
 * itself started again hold nothing before its own rejoin). */
static inline void forget_before(fx_records *r, int32_t frame)
{
    int k = 0;
    while (k < r->count && r->frame[k] < frame) {
        k++;
    }
    int n = r->count - k;
    memmove(r->frame, r->frame + k, (size_t)n * sizeof r->frame[0]);
    memmove(r->episode, r->episode + k, (size_t)n * sizeof r->episode[0]);
    memmove(r->step, r->step + k, (size_t)n * sizeof r->step[0]);
    memmove(r->hash, r->hash + k, (size_t)n * sizeof r->hash[0]);
    memmove(r->first_input_byte, r->first_input_byte + k, (size_t)n * sizeof r->first_input_byte[0]);
    memmove(r->disconnected, r->disconnected + k, (size_t)n * sizeof r->disconnected[0]);
    r->count = n;
}

#endif
