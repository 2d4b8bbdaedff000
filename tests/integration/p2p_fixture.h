/* Two to four P2P sessions in one process over the memnet, each node's
 * outgoing traffic through its own network simulator, driven by the
 * harness's virtual clock. Node i hosts player i; a node connects to the
 * nodes above it and accepts those below. Every confirmed record is hashed
 * as it is read, so the peers' ledgers can be compared frame by frame.
 *
 * Header-only so each integration test stays one file. Not thread-safe. */
#ifndef P2P_FIXTURE_H
#define P2P_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "harness.h"
#include "rollnet/rollnet.h"
#include "rollnet/rollnet_export.h"
#include "testgame.h"

#define FX_MAX 4
#define FX_MAX_RECORDS 20000

typedef struct fx_opts {
    int num_players;          /* 2..4 */
    int input_delay;
    int node_delay[FX_MAX];   /* added to input_delay on node i: each peer chooses its own */
    int input_size;           /* default 1 */
    size_t blob_size;
    size_t snapshot_capacity; /* 0 = default */
    int extra_nodes;          /* memnet nodes beyond the players', for a test's own sessions */
    rollnet_absent_play absent_play;
    int max_spectators;       /* desc.max_spectators of every node */
    int32_t max_steps;        /* episode length; 0 = endless */
    int checksum_interval;    /* 0 = default */
    uint32_t notify_timeout_ms, disconnect_timeout_ms, loading_grace_ms, episode_timeout_ms;
    uint32_t busy_timeout_ms;
    uint32_t handshake_timeout_ms, join_timeout_ms;
    uint32_t reconnect_timeout_ms; /* 0 = default; ROLLNET_RECONNECT_OFF: no reconnection */
    uint32_t rejoin_timeout_ms;    /* 0 = default; ROLLNET_REJOIN_OFF: no rejoin */
    bool rejoin[FX_MAX];           /* peer i is a crashed peer's process started again */
    /* Called with each node's transport (the netsim) before its session is
     * created; may replace it with a decorator that owns it. NULL: none. */
    void (*wrap)(int node, rollnet_transport *t);
    uint64_t seed;
    rollnet_netsim_desc sim[FX_MAX]; /* each node's outgoing link */
    bool write_records;
    uint64_t game_id[FX_MAX]; /* per node, to force a parameter mismatch */
    const void *game_params[FX_MAX]; /* per node: desc.game_params (NULL: none) */
    size_t game_params_size[FX_MAX];
    /* Every node's log, with user_data = (void *)(intptr_t)node. NULL: none. */
    void (*log)(rollnet_log_level level, const char *message, void *user_data);
    const char *key[FX_MAX];  /* per node: the session key's text, NULL none (the nonce is
                                 then random, as it should be with a key) */
    const char *export_dir;   /* when set: each node exports its ledger to export_dir/node<i>.csv */
    int export_episodes;      /* ...the rows of episodes 0..export_episodes-1 */
    int ledger_capacity;      /* 0 = default */
    /* Node 0 is the host and every other node knows only its address: the
     * host introduces the joiners to each other (p2p_intro.c). */
    bool via_host;
    uint32_t knows[FX_MAX];   /* with via_host: players node i has the address of too */
} fx_opts;

typedef struct fx_records {
    int count;
    int32_t frame[FX_MAX_RECORDS];
    int32_t episode[FX_MAX_RECORDS];
    int32_t step[FX_MAX_RECORDS];
    uint64_t hash[FX_MAX_RECORDS];
    uint8_t first_input_byte[FX_MAX_RECORDS][FX_MAX]; /* per player */
    uint32_t disconnected[FX_MAX_RECORDS];
} fx_records;

typedef struct fx {
    int n;
    rollnet_memnet *net;
    rollnet_transport sim[FX_MAX]; /* owned by the sessions; kept to change conditions */
    rollnet_session *s[FX_MAX];
    tg_game g[FX_MAX];
    harness_peer hp[FX_MAX];
    harness_clock clock;
    fx_records *rec[FX_MAX];
    char addr[FX_MAX][FX_MAX][16];
    bool paused[FX_MAX]; /* a paused node is not ticked (a stalled process) */
    bool catch_up;       /* a node that runs behind its peers runs extra frames per tick */
    uint64_t catch_up_frames[FX_MAX];
    bool gone[FX_MAX];
    rollnet_error create_err[FX_MAX];
    rollnet_exporter *exp[FX_MAX];
    char csv_path[FX_MAX][512];
    int export_episodes;
    bool no_read[FX_MAX]; /* the game of node i does not read records */
    fx_opts opts;                 /* as given to fx_init */
    int restarts[FX_MAX];         /* fx_restart: times node i was started again */
    fx_records *rec_before[FX_MAX]; /* fx_crash: its records before the last crash */
} fx;

static inline void fx_record_hash(fx *f, int i)
{
    rollnet_record r;
    fx_records *rec = f->rec[i];
    if (f->no_read[i]) {
        return;
    }
    while (rollnet_session_next_record(f->s[i], &r)) {
        XXH64_state_t *st = XXH64_createState();
        XXH64_reset(st, 0);
        XXH64_update(st, &r.frame, sizeof(r.frame));
        XXH64_update(st, &r.episode, sizeof(r.episode));
        XXH64_update(st, &r.step, sizeof(r.step));
        XXH64_update(st, &r.disconnected, sizeof(r.disconnected));
        XXH64_update(st, r.inputs, (size_t)(f->g[i].num_players * f->g[i].input_size));
        if (r.size) {
            XXH64_update(st, r.data, r.size);
        }
        uint64_t h = XXH64_digest(st);
        XXH64_freeState(st);
        assert_true(rec->count < FX_MAX_RECORDS);
        /* In frame order, each exactly once. */
        if (rec->count > 0) {
            assert_int_equal(r.frame, rec->frame[rec->count - 1] + 1);
        }
        rec->frame[rec->count] = r.frame;
        rec->episode[rec->count] = r.episode;
        rec->step[rec->count] = r.step;
        rec->hash[rec->count] = h;
        rec->disconnected[rec->count] = r.disconnected;
        for (int p = 0; p < f->g[i].num_players && p < FX_MAX; p++) {
            rec->first_input_byte[rec->count][p] = r.inputs[p * f->g[i].input_size];
        }
        rec->count++;
        if (f->exp[i] && r.episode < f->export_episodes) {
            assert_int_equal(rollnet_exporter_write(f->exp[i], &r), ROLLNET_ERR_OK);
        }
    }
}

/* Node i's session (its process): created at fx_init, and again by
 * fx_restart after fx_crash. */
static inline void fx_node_create(fx *f, const fx_opts *o, int i)
{
    f->rec[i] = calloc(1, sizeof(fx_records));
    assert_non_null(f->rec[i]);
    rollnet_netsim_desc sd = o->sim[i];
    if (sd.seed == 0) {
        sd.seed = o->seed * 31 + (uint64_t)i + 1;
    }
    assert_int_equal(
        rollnet_netsim_create(rollnet_memnet_transport(f->net, i), &sd, NULL, &f->sim[i]),
        ROLLNET_ERR_OK);
    assert_non_null(f->sim[i].vtable);

    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.num_players = f->n;
    d.input_size = o->input_size ? o->input_size : 1;
    d.input_delay = o->input_delay + o->node_delay[i];
    d.checksum_interval = o->checksum_interval;
    d.notify_timeout_ms = o->notify_timeout_ms;
    d.disconnect_timeout_ms = o->disconnect_timeout_ms;
    d.loading_grace_ms = o->loading_grace_ms;
    d.busy_timeout_ms = o->busy_timeout_ms;
    d.episode_timeout_ms = o->episode_timeout_ms;
    d.handshake_timeout_ms = o->handshake_timeout_ms;
    d.join_timeout_ms = o->join_timeout_ms;
    d.reconnect_timeout_ms = o->reconnect_timeout_ms;
    d.rejoin_timeout_ms = o->rejoin_timeout_ms;
    d.snapshot_capacity = o->snapshot_capacity;
    d.absent_play = o->absent_play;
    d.max_spectators = o->max_spectators;
    d.rejoin = o->rejoin[i] || f->restarts[i] > 0;
    d.game_id = o->game_id[i];
    d.ledger_capacity = o->ledger_capacity;
    d.game_params = o->game_params[i];
    d.game_params_size = o->game_params_size[i];
    d.logger.log = o->log;
    d.logger.user_data = (void *)(intptr_t)i;
    d.seed = o->seed;
    /* A process started again has a nonce of its own, as a random one would be. */
    d.nonce = o->key[i] ? 0 : 0x1000u + (uint64_t)i + 0x100u * (uint64_t)f->restarts[i];
    if (o->key[i]) {
        d.session_key = o->key[i];
        d.session_key_size = strlen(o->key[i]);
    }
    d.transport = f->sim[i];
    if (o->wrap) {
        o->wrap(i, &d.transport); /* f->sim[i] stays the netsim, inside the decorator */
    }
    for (int j = 0; j < f->n; j++) {
        if (j == i) {
            d.players[j].kind = ROLLNET_PLAYER_LOCAL;
        } else {
            d.players[j].kind = ROLLNET_PLAYER_REMOTE;
            if (o->via_host ? (i > 0 && (j == 0 || (o->knows[i] & (1u << j)))) : j > i) {
                snprintf(f->addr[i][j], sizeof(f->addr[i][j]), "mem:%d", j);
                d.players[j].address = f->addr[i][j];
            }
        }
    }
    assert_true(tg_init(&f->g[i], o->seed, f->n, d.input_size, o->blob_size, o->max_steps));
    f->g[i].write_records = o->write_records;
    if (o->export_dir) {
        static const char *cols[3 * ROLLNET_MAX_PLAYERS + 4];
        f->g[i].record_rows = true;
        f->export_episodes = o->export_episodes;
        snprintf(f->csv_path[i], sizeof(f->csv_path[i]), "%s/node%d.csv", o->export_dir, i);
        rollnet_export_desc ed;
        memset(&ed, 0, sizeof(ed));
        ed.csv_path = f->csv_path[i];
        ed.num_columns = tg_row_columns(f->n, cols);
        ed.columns = cols;
        ed.num_players = f->n;
        ed.input_size = o->input_size ? o->input_size : 1;
        assert_int_equal(rollnet_exporter_open(&ed, NULL, &f->exp[i]), ROLLNET_ERR_OK);
    }
    f->create_err[i] = rollnet_session_create(&d, &f->s[i]);
    assert_int_equal(f->create_err[i], ROLLNET_ERR_OK);
    harness_peer_init(&f->hp[i], f->s[i], &f->g[i], &d,
                      o->seed * 7 + 3 + 1000 * (uint64_t)f->restarts[i]);
}

static inline void fx_init(fx *f, const fx_opts *o)
{
    memset(f, 0, sizeof(*f));
    f->n = o->num_players;
    f->net = rollnet_memnet_create(f->n + o->extra_nodes, NULL);
    assert_non_null(f->net);
    harness_clock_init(&f->clock, 1000, 60);
    f->opts = *o;
    for (int i = 0; i < f->n; i++) {
        fx_node_create(f, o, i);
    }
}

/* Node i's process crashes: its session is destroyed without a word (the
 * transport closes its connections, as the OS does for a dead process) and
 * its records so far are kept in rec_before. */
static inline void fx_crash(fx *f, int i)
{
    rollnet_exporter_close(f->exp[i]);
    f->exp[i] = NULL;
    rollnet_session_destroy(f->s[i]);
    f->s[i] = NULL;
    f->gone[i] = true;
    free(f->rec_before[i]);
    f->rec_before[i] = f->rec[i];
    f->rec[i] = NULL;
}

/* ... and is started again with desc.rejoin set (a new nonce, a new game
 * and a new player's inputs; its records start afresh in rec). */
static inline void fx_restart(fx *f, int i)
{
    f->restarts[i]++;
    f->gone[i] = false;
    f->opts.sim[i].seed = f->opts.seed * 31 + (uint64_t)i + 1 + 977u * (uint64_t)f->restarts[i];
    fx_node_create(f, &f->opts, i);
}

/* Close the exporters and compare every node's files with node 0's, byte for
 * byte (CSV and msgpack stream). Returns the CSV size. */
static inline long fx_close_and_compare_exports(fx *f)
{
    long size0 = -1;
    for (int i = 0; i < f->n; i++) {
        assert_int_equal(rollnet_exporter_close(f->exp[i]), ROLLNET_ERR_OK);
        f->exp[i] = NULL;
    }
    for (int kind = 0; kind < 2; kind++) {
        char *first = NULL;
        long first_len = 0;
        for (int i = 0; i < f->n; i++) {
            char path[600];
            snprintf(path, sizeof(path), "%s%s", f->csv_path[i], kind ? ".msgpack" : "");
            FILE *fp = fopen(path, "rb");
            assert_non_null(fp);
            fseek(fp, 0, SEEK_END);
            long len = ftell(fp);
            fseek(fp, 0, SEEK_SET);
            char *buf = malloc((size_t)len + 1);
            assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
            fclose(fp);
            if (i == 0) {
                first = buf;
                first_len = len;
                if (kind == 0) {
                    size0 = len;
                }
            } else {
                if (len != first_len || memcmp(buf, first, (size_t)len) != 0) {
                    fprintf(stderr, "%s differs from node 0's (%ld vs %ld bytes)\n", path, len,
                            first_len);
                    fail();
                }
                free(buf);
            }
        }
        free(first);
    }
    return size0;
}

static inline void fx_free(fx *f)
{
    for (int i = 0; i < f->n; i++) {
        rollnet_exporter_close(f->exp[i]);
        rollnet_session_destroy(f->s[i]);
        free(f->rec[i]);
        free(f->rec_before[i]);
    }
    rollnet_memnet_destroy(f->net);
}

/* Tick every running node once per frame for `ticks` frames. Fails the test
 * on any error other than a skip. */
static inline void fx_run(fx *f, uint64_t ticks)
{
    for (uint64_t t = 0; t < ticks; t++) {
        uint64_t now = harness_clock_now(&f->clock);
        for (int i = 0; i < f->n; i++) {
            if (f->paused[i] || f->gone[i]) {
                /* The process is stopped; the network still delivers what it sent. */
                if (f->s[i]) {
                    rollnet_netsim_flush(&f->sim[i], now);
                }
                continue;
            }
            rollnet_error err = harness_tick(&f->hp[i], now);
            if (err != ROLLNET_ERR_OK && !harness_is_skip(err)) {
                fprintf(stderr, "node %d: %s\n", i, rollnet_error_string(err));
                fail();
            }
            /* Fast-forward after a stall: up to 4 extra frames per tick while
             * some peer runs more than 2 frames ahead. */
            for (int extra = 0; f->catch_up && extra < 4; extra++) {
                int32_t behind = 0;
                for (int p = 0; p < f->n; p++) {
                    rollnet_peer_stats ps;
                    if (p != i && rollnet_session_peer_stats(f->s[i], p, &ps) == ROLLNET_ERR_OK &&
                        -ps.local_frames_ahead > behind) {
                        behind = -ps.local_frames_ahead;
                    }
                }
                if (behind <= 2) {
                    break;
                }
                err = harness_tick(&f->hp[i], now);
                if (err != ROLLNET_ERR_OK) {
                    if (!harness_is_skip(err)) {
                        fprintf(stderr, "node %d: %s\n", i, rollnet_error_string(err));
                        fail();
                    }
                    break;
                }
                f->catch_up_frames[i]++;
            }
            fx_record_hash(f, i);
        }
        harness_clock_tick(&f->clock);
    }
}

/* Run until every node has confirmed `episodes` whole episodes (rows of
 * later episodes do not count), at most max_ticks frames. */
static inline void fx_run_until_episodes(fx *f, int episodes, uint64_t max_ticks)
{
    for (uint64_t t = 0; t < max_ticks; t++) {
        bool done = true;
        for (int i = 0; i < f->n; i++) {
            const fx_records *r = f->rec[i];
            if (r->count == 0 || r->episode[r->count - 1] < episodes) {
                done = false;
            }
        }
        if (done) {
            return;
        }
        fx_run(f, 1);
    }
    for (int i = 0; i < f->n; i++) {
        fprintf(stderr, "node %d: %d rows, frame %d\n", i, f->rec[i]->count,
                (int)f->hp[i].frames_advanced);
    }
    fail_msg("episodes not confirmed within %llu ticks", (unsigned long long)max_ticks);
}

static inline bool fx_all_running(fx *f)
{
    for (int i = 0; i < f->n; i++) {
        rollnet_session_stats st;
        rollnet_session_stats_get(f->s[i], &st);
        if (!st.running) {
            return false;
        }
    }
    return true;
}

/* Every episode that every node completed has the same number of rows on
 * every node, steps 0..n-1 in order. Returns the number of such episodes. */
static inline int fx_assert_episodes_agree(fx *f, int32_t rows_per_episode)
{
    int common = f->rec[0]->count;
    for (int i = 1; i < f->n; i++) {
        if (f->rec[i]->count < common) {
            common = f->rec[i]->count;
        }
    }
    int episodes = common / rows_per_episode;
    for (int i = 0; i < f->n; i++) {
        const fx_records *r = f->rec[i];
        for (int k = 0; k < episodes * rows_per_episode; k++) {
            assert_int_equal(r->episode[k], k / rows_per_episode);
            assert_int_equal(r->step[k], k % rows_per_episode);
        }
    }
    return episodes;
}

/* Every node's ledger holds the same rows for the frames they all have, and
 * at least `min_rows` of them. Returns the common row count. */
static inline int fx_assert_ledgers_agree(fx *f, int min_rows)
{
    int common = f->rec[0]->count;
    for (int i = 1; i < f->n; i++) {
        if (f->rec[i]->count < common) {
            common = f->rec[i]->count;
        }
    }
    if (common < min_rows) {
        fprintf(stderr, "only %d common confirmed rows, wanted %d\n", common, min_rows);
    }
    assert_true(common >= min_rows);
    for (int i = 1; i < f->n; i++) {
        for (int k = 0; k < common; k++) {
            if (f->rec[i]->hash[k] != f->rec[0]->hash[k]) {
                fprintf(stderr, "row %d (frame %d) differs between node 0 and node %d\n", k,
                        f->rec[0]->frame[k], i);
                fail();
            }
        }
    }
    return common;
}

/* The snapshots of a frame both nodes still hold agree. */
static inline void fx_assert_states_agree(fx *f)
{
    int32_t frame = INT32_MAX;
    for (int i = 0; i < f->n; i++) {
        rollnet_session_stats st;
        rollnet_session_stats_get(f->s[i], &st);
        if (st.confirmed_frame < frame) {
            frame = st.confirmed_frame;
        }
    }
    /* The state before frame `frame + 1` is final on every node; find the
     * newest such frame that every node still holds in its snapshot ring. */
    for (int32_t fr = frame + 1; fr >= 0 && fr > frame - 16; fr--) {
        uint64_t sums[FX_MAX];
        bool all = true;
        for (int i = 0; i < f->n && all; i++) {
            all = rollnet_session_snapshot_checksum(f->s[i], fr, &sums[i]) == ROLLNET_ERR_OK;
        }
        if (!all) {
            continue;
        }
        for (int i = 1; i < f->n; i++) {
            assert_true(sums[i] == sums[0]);
        }
        return;
    }
    fail_msg("no confirmed frame is held by every node");
}

static inline rollnet_session_stats fx_stats(fx *f, int i)
{
    rollnet_session_stats st;
    rollnet_session_stats_get(f->s[i], &st);
    return st;
}

/* Links at their worst in these tests: 15% loss, 40 +-15 ms, duplicates and
 * reordering. */
static inline rollnet_netsim_desc fx_lossy(void)
{
    rollnet_netsim_desc d;
    memset(&d, 0, sizeof d);
    d.delay_ms = 40;
    d.jitter_ms = 15;
    d.loss_permille = 150;
    d.dup_permille = 20;
    d.reorder_permille = 50;
    return d;
}

/* The end node i's FINISHED named, or -1 before it raised one. */
static inline int32_t fx_finished_end(const fx *f, int i)
{
    const harness_peer *hp = &f->hp[i];
    return hp->event_counts[ROLLNET_EVENT_FINISHED]
               ? hp->last_event[ROLLNET_EVENT_FINISHED].u.finish.end_frame
               : -1;
}

/* Node `leaver` called rollnet_session_leave: it got LEFT; every other node
 * got one DISCONNECTED for its player, reason LEFT, at the same frame (which
 * it returns); the survivors' ledgers agree on at least `min_common` rows
 * and the leaver's is a prefix of theirs. */
static inline int32_t fx_assert_left(fx *f, int leaver, int min_common)
{
    assert_int_equal(f->hp[leaver].event_counts[ROLLNET_EVENT_LEFT], 1);
    int first = leaver == 0 ? 1 : 0;
    int32_t from = f->hp[first].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.frame;
    for (int i = 0; i < f->n; i++) {
        if (i == leaver) {
            continue;
        }
        assert_int_equal(f->hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
        rollnet_event ev = f->hp[i].last_event[ROLLNET_EVENT_DISCONNECTED];
        assert_int_equal(ev.player, leaver);
        assert_int_equal(ev.u.disconnected.reason, ROLLNET_DISCONNECT_LEFT);
        assert_int_equal(ev.u.disconnected.frame, from);
        int common = f->rec[first]->count < f->rec[i]->count ? f->rec[first]->count
                                                             : f->rec[i]->count;
        assert_true(common >= min_common);
        for (int k = 0; k < common; k++) {
            assert_true(f->rec[i]->hash[k] == f->rec[first]->hash[k]);
        }
    }
    assert_true(f->rec[leaver]->count <= f->rec[first]->count);
    for (int k = 0; k < f->rec[leaver]->count; k++) {
        assert_true(f->rec[leaver]->hash[k] == f->rec[first]->hash[k]);
    }
    return from;
}

#endif
