/* Spectators over the memnet, driven by the virtual clock: node 0 hosts
 * player 0 and accepts player 1 (node 1); nodes 2.. are spectators of
 * node 0 (ROLLNET_SESSION_SPECTATOR), created at the start or later. Every
 * confirmed record is hashed as it is read, so a spectator's ledger can be
 * compared with the players' frame by frame. */
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
#include "testgame.h"

#define W_MAX 6
#define W_RECORDS 8000

typedef struct w_node {
    rollnet_session *s;
    tg_game g;
    harness_peer hp;
    rollnet_session_desc d;
    bool active, paused, failed;
    bool poll_only; /* polls (its network is alive) but its game never advances */
    rollnet_error err;
    int count;
    int32_t frame[W_RECORDS];
    uint64_t hash[W_RECORDS];
    uint64_t finished, disconnected, refused;
    rollnet_disconnect_reason reason;
    rollnet_param refused_param;
} w_node;

typedef struct w_opts {
    int spectators;
    int32_t max_steps;
    int max_spectators;
    const char *key[W_MAX];
    uint64_t game_id[W_MAX];
    size_t snapshot_capacity[W_MAX];
    rollnet_netsim_desc sim[W_MAX];
} w_opts;

typedef struct world {
    int n;
    rollnet_memnet *net;
    harness_clock clock;
    w_node node[W_MAX];
    w_opts o;
} world;

static world W; /* large: kept out of the stack */

static void on_event(const rollnet_event *ev, void *user_data)
{
    w_node *nd = user_data;
    if (ev->type == ROLLNET_EVENT_FINISHED) {
        nd->finished++;
    } else if (ev->type == ROLLNET_EVENT_DISCONNECTED) {
        nd->disconnected++;
        nd->reason = ev->u.disconnected.reason;
    } else if (ev->type == ROLLNET_EVENT_REFUSED) {
        nd->refused++;
        nd->refused_param = ev->u.refused.param;
    }
}

/* SPECTATE_LOG=1 in the environment: every node's log on stderr. */
static void w_log(rollnet_log_level level, const char *message, void *user_data)
{
    if (getenv("SPECTATE_LOG") || level >= ROLLNET_LOG_ERROR) {
        fprintf(stderr, "node %d: %s\n", (int)(intptr_t)user_data, message);
    }
}

static void node_create(world *w, int i)
{
    w_node *nd = &w->node[i];
    rollnet_session_desc *d = &nd->d;
    memset(d, 0, sizeof *d);
    d->num_players = 2;
    d->seed = 7;
    d->logger.log = w_log;
    d->logger.user_data = (void *)(intptr_t)i;
    d->game_id = w->o.game_id[i];
    d->max_spectators = w->o.max_spectators;
    d->snapshot_capacity = w->o.snapshot_capacity[i];
    d->nonce = w->o.key[i] ? 0 : 0x2000u + (uint64_t)i;
    if (w->o.key[i]) {
        d->session_key = w->o.key[i];
        d->session_key_size = strlen(w->o.key[i]);
    }
    rollnet_netsim_desc sd = w->o.sim[i];
    sd.seed = sd.seed ? sd.seed : 100u + (uint64_t)i;
    assert_int_equal(rollnet_netsim_create(rollnet_memnet_transport(w->net, i), &sd, NULL,
                                           &d->transport),
                     ROLLNET_ERR_OK);
    if (i < 2) {
        d->players[i].kind = ROLLNET_PLAYER_LOCAL;
        d->players[1 - i].kind = ROLLNET_PLAYER_REMOTE;
        d->players[1 - i].address = i == 1 ? "mem:0" : NULL;
    } else {
        d->kind = ROLLNET_SESSION_SPECTATOR;
        d->spectate_address = "mem:0";
        d->players[0].kind = d->players[1].kind = ROLLNET_PLAYER_REMOTE; /* nobody to play */
    }
    assert_true(tg_init(&nd->g, 7, 2, 1, 64, w->o.max_steps));
    nd->g.write_records = true;
    assert_int_equal(rollnet_session_create(d, &nd->s), ROLLNET_ERR_OK);
    harness_peer_init(&nd->hp, nd->s, &nd->g, d, 11);
    nd->hp.event_fn = on_event;
    nd->hp.event_user_data = nd;
    nd->active = true;
}

static void world_init(world *w, const w_opts *o, int late_from)
{
    memset(w, 0, sizeof *w);
    w->o = *o;
    w->n = 2 + o->spectators;
    w->net = rollnet_memnet_create(w->n, NULL);
    assert_non_null(w->net);
    harness_clock_init(&w->clock, 1000, 60);
    for (int i = 0; i < w->n; i++) {
        if (i < late_from) {
            node_create(w, i);
        }
    }
}

static void drain(w_node *nd)
{
    rollnet_record r;
    while (rollnet_session_next_record(nd->s, &r)) {
        XXH64_state_t *st = XXH64_createState();
        XXH64_reset(st, 0);
        XXH64_update(st, &r.frame, sizeof r.frame);
        XXH64_update(st, &r.episode, sizeof r.episode);
        XXH64_update(st, &r.step, sizeof r.step);
        XXH64_update(st, r.inputs, 2);
        if (r.size) {
            XXH64_update(st, r.data, r.size);
        }
        assert_true(nd->count < W_RECORDS);
        if (nd->count > 0) {
            assert_int_equal(r.frame, nd->frame[nd->count - 1] + 1);
        }
        nd->frame[nd->count] = r.frame;
        nd->hash[nd->count] = XXH64_digest(st);
        XXH64_freeState(st);
        nd->count++;
    }
}

static void world_ticks(world *w, int ticks)
{
    for (int t = 0; t < ticks; t++) {
        uint64_t now = harness_clock_now(&w->clock);
        for (int i = 0; i < w->n; i++) {
            w_node *nd = &w->node[i];
            if (!nd->active || nd->paused || nd->failed) {
                continue;
            }
            if (nd->poll_only) {
                rollnet_session_poll(nd->s, now);
                rollnet_event ev;
                while (rollnet_session_next_event(nd->s, &ev)) {
                    on_event(&ev, nd);
                }
                continue;
            }
            rollnet_error err = harness_tick(&nd->hp, now);
            if (err != ROLLNET_ERR_OK && !harness_is_skip(err)) {
                nd->failed = true;
                nd->err = err;
                if (getenv("SPECTATE_LOG")) {
                    fprintf(stderr, "node %d stops: %s\n", i, rollnet_error_string(err));
                }
            }
            drain(nd);
        }
        harness_clock_tick(&w->clock);
    }
}

/* Both players finish; run until every live node has FINISHED (or failed). */
static void world_finish(world *w, int max_ticks)
{
    assert_int_equal(rollnet_session_finish(w->node[0].s), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_finish(w->node[1].s), ROLLNET_ERR_OK);
    for (int t = 0; t < max_ticks; t++) {
        bool all = true;
        for (int i = 0; i < w->n; i++) {
            const w_node *nd = &w->node[i];
            all = all && (!nd->active || nd->paused || nd->failed || nd->finished > 0);
        }
        if (all) {
            return;
        }
        world_ticks(w, 1);
    }
    fail_msg("the session did not finish within %d ticks", max_ticks);
}

static void world_free(world *w)
{
    for (int i = 0; i < w->n; i++) {
        if (w->node[i].active) {
            rollnet_session_destroy(w->node[i].s);
        }
    }
    rollnet_memnet_destroy(w->net);
}

/* Every record of `b` is the record of the same frame in `a`; returns how
 * many there were. */
static int same_records(const w_node *a, const w_node *b)
{
    int shared = 0;
    for (int k = 0; k < b->count; k++) {
        int32_t off = b->frame[k] - a->frame[0];
        assert_true(off >= 0 && off < a->count);
        assert_int_equal(a->frame[off], b->frame[k]);
        if (a->hash[off] != b->hash[k]) {
            fail_msg("frame %d: the records differ", b->frame[k]);
        }
        shared++;
    }
    return shared;
}

static rollnet_session_stats stats_of(const w_node *nd)
{
    rollnet_session_stats st;
    assert_int_equal(rollnet_session_stats_get(nd->s, &st), ROLLNET_ERR_OK);
    return st;
}

static void a_spectator_from_the_start_records_what_the_players_record(void **state)
{
    (void)state;
    w_opts o = {.spectators = 1, .max_steps = 90};
    world_init(&W, &o, W_MAX);
    world_ticks(&W, 400);
    world_finish(&W, 2000);
    w_node *host = &W.node[0], *joiner = &W.node[1], *spect = &W.node[2];
    assert_false(spect->failed);
    assert_int_equal(spect->finished, 1);
    assert_int_equal(host->count, joiner->count);
    assert_int_equal(same_records(host, joiner), host->count);
    /* It saw every frame, from frame 0, through several episodes. */
    assert_int_equal(spect->frame[0], 0);
    assert_int_equal(spect->count, host->count);
    assert_int_equal(same_records(host, spect), host->count);
    assert_true(host->count > 3 * 90);
    rollnet_session_stats st = stats_of(host);
    assert_int_equal(st.spectators_joined, 1);
    assert_int_equal(st.spectators_dropped, 0);
    /* It never predicted, so it never rolled back. */
    assert_int_equal(stats_of(spect).rollbacks, 0);
    world_free(&W);
}

static void a_late_spectator_loads_a_state_and_records_what_the_players_record(void **state)
{
    (void)state;
    w_opts o = {.spectators = 2, .max_steps = 90};
    o.sim[0].delay_ms = 30; /* the players roll back: the host's snapshots are not all confirmed */
    o.sim[1].delay_ms = 30;
    o.sim[0].jitter_ms = 10;
    world_init(&W, &o, 3); /* spectator 2 from the start, spectator 3 late */
    world_ticks(&W, 700);
    node_create(&W, 3);
    world_ticks(&W, 400);
    world_finish(&W, 2000);
    w_node *host = &W.node[0], *early = &W.node[2], *late = &W.node[3];
    assert_false(late->failed);
    assert_int_equal(late->finished, 1);
    assert_int_equal(early->finished, 1);
    assert_true(stats_of(host).rollbacks > 0);
    assert_int_equal(same_records(host, &W.node[1]), host->count);
    assert_int_equal(same_records(host, early), host->count);
    /* The late one began well after frame 0, in a later episode, and saw
     * every frame from there to the end. */
    assert_true(late->frame[0] > 600);
    assert_int_equal(late->frame[late->count - 1], host->frame[host->count - 1]);
    assert_int_equal(same_records(host, late), late->count);
    assert_int_equal(stats_of(late).rollbacks, 0);
    assert_int_equal(stats_of(host).spectators_joined, 2);
    world_free(&W);
}

/* The players' figures that a spectator must not change. */
typedef struct players_run {
    int count;
    uint64_t last_hash;
    uint64_t stalls[2], rollbacks[2], skipped[2];
    int32_t frame[2];
} players_run;

static players_run run_players(int spectators, bool stall_it, bool slow_it, uint64_t *dropped)
{
    w_opts o = {.spectators = spectators, .max_steps = 90};
    o.sim[0].delay_ms = 20;
    o.sim[1].delay_ms = 20;
    world_init(&W, &o, W_MAX);
    world_ticks(&W, 120);
    if (stall_it) {
        W.node[2].paused = true; /* its process stops: it never polls again */
    }
    if (slow_it) {
        W.node[2].poll_only = true; /* alive, but its game runs no frame any more */
    }
    world_ticks(&W, 1200);
    players_run r;
    memset(&r, 0, sizeof r);
    r.count = W.node[0].count;
    r.last_hash = W.node[0].hash[W.node[0].count - 1];
    for (int i = 0; i < 2; i++) {
        rollnet_session_stats st = stats_of(&W.node[i]);
        r.stalls[i] = st.stalls;
        r.rollbacks[i] = st.rollbacks;
        r.skipped[i] = W.node[i].hp.frames_skipped;
        r.frame[i] = st.frame;
        assert_false(W.node[i].failed);
    }
    /* Not finished: one may hold a record more than the other for now. */
    const w_node *more = W.node[0].count >= W.node[1].count ? &W.node[0] : &W.node[1];
    const w_node *less = more == &W.node[0] ? &W.node[1] : &W.node[0];
    assert_true(same_records(more, less) > 1000);
    *dropped = stats_of(&W.node[0]).spectators_dropped;
    world_free(&W);
    return r;
}

static void a_stalled_spectator_is_dropped_and_the_players_never_notice(void **state)
{
    (void)state;
    uint64_t dropped_alone = 0, dropped = 0;
    players_run alone = run_players(0, false, false, &dropped_alone);
    assert_int_equal(dropped_alone, 0);
    for (int variant = 0; variant < 2; variant++) {
        /* 0: its process stops (silent); 1: it polls but falls behind. */
        players_run watched = run_players(1, variant == 0, variant == 1, &dropped);
        assert_int_equal(dropped, 1);
        assert_int_equal(watched.count, alone.count);
        assert_true(watched.last_hash == alone.last_hash);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(watched.stalls[i], alone.stalls[i]);
            assert_int_equal(watched.rollbacks[i], alone.rollbacks[i]);
            assert_int_equal(watched.skipped[i], alone.skipped[i]);
            assert_int_equal(watched.frame[i], alone.frame[i]);
        }
    }
}

static void a_spectator_that_leaves_changes_nothing_for_the_players(void **state)
{
    (void)state;
    w_opts o = {.spectators = 1, .max_steps = 90};
    world_init(&W, &o, W_MAX);
    world_ticks(&W, 300);
    rollnet_session_destroy(W.node[2].s); /* it closes its connection */
    W.node[2].active = false;
    world_ticks(&W, 300);
    rollnet_session_stats st = stats_of(&W.node[0]);
    assert_int_equal(st.spectators, 0);
    assert_int_equal(st.spectators_joined, 1);
    assert_int_equal(st.spectators_dropped, 0);
    assert_int_equal(W.node[0].disconnected, 0);
    assert_int_equal(W.node[1].disconnected, 0);
    world_finish(&W, 2000);
    assert_int_equal(W.node[0].finished, 1);
    assert_int_equal(W.node[1].finished, 1);
    world_free(&W);
}

static void spectators_past_the_limit_are_refused(void **state)
{
    (void)state;
    w_opts o = {.spectators = 3, .max_steps = 90, .max_spectators = 2};
    world_init(&W, &o, W_MAX);
    world_ticks(&W, 200);
    int refused = 0, watching = 0;
    for (int i = 2; i < 5; i++) {
        if (W.node[i].refused) {
            refused++;
            assert_int_equal(W.node[i].refused_param, ROLLNET_PARAM_SESSION_FULL);
            assert_int_equal(W.node[i].err, ROLLNET_ERR_REFUSED);
        } else {
            watching++;
            assert_false(W.node[i].failed);
        }
    }
    assert_int_equal(refused, 1);
    assert_int_equal(watching, 2);
    rollnet_session_stats st = stats_of(&W.node[0]);
    assert_int_equal(st.spectators, 2);
    assert_int_equal(st.spectators_refused, 1);
    world_free(&W);
}

static void a_spectator_with_other_parameters_or_no_key_is_refused(void **state)
{
    (void)state;
    w_opts o = {.spectators = 1, .max_steps = 90};
    o.game_id[2] = 99;
    world_init(&W, &o, W_MAX);
    world_ticks(&W, 200);
    assert_true(W.node[2].failed);
    assert_int_equal(W.node[2].err, ROLLNET_ERR_REFUSED);
    assert_int_equal(W.node[2].refused_param, ROLLNET_PARAM_GAME_ID);
    assert_int_equal(stats_of(&W.node[0]).spectators_joined, 0);
    assert_true(stats_of(&W.node[0]).handshakes_refused >= 1);
    world_free(&W);

    w_opts k = {.spectators = 2, .max_steps = 90};
    k.key[0] = k.key[1] = k.key[3] = "invite-1234";
    k.key[2] = NULL; /* no key */
    world_init(&W, &k, W_MAX);
    world_ticks(&W, 300);
    assert_true(W.node[2].failed);
    assert_int_equal(W.node[2].refused_param, ROLLNET_PARAM_SESSION_KEY);
    assert_false(W.node[3].failed); /* with the key it watches */
    assert_true(W.node[3].count > 100);
    assert_int_equal(same_records(&W.node[0], &W.node[3]), W.node[3].count);
    world_free(&W);
}

static void a_state_larger_than_the_spectators_capacity_is_refused(void **state)
{
    (void)state;
    w_opts o = {.spectators = 1, .max_steps = 90};
    o.snapshot_capacity[2] = 64; /* the test game's snapshot is larger */
    world_init(&W, &o, 2);
    world_ticks(&W, 400);
    node_create(&W, 2);
    world_ticks(&W, 200);
    assert_true(W.node[2].failed);
    assert_int_equal(W.node[2].err, ROLLNET_ERR_STATE_INVALID);
    assert_int_equal(W.node[2].disconnected, 1);
    assert_int_equal(W.node[2].reason, ROLLNET_DISCONNECT_STATE_INVALID);
    assert_int_equal(W.node[2].count, 0);
    assert_false(W.node[0].failed);
    world_free(&W);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_spectator_from_the_start_records_what_the_players_record),
        cmocka_unit_test(a_late_spectator_loads_a_state_and_records_what_the_players_record),
        cmocka_unit_test(a_stalled_spectator_is_dropped_and_the_players_never_notice),
        cmocka_unit_test(a_spectator_that_leaves_changes_nothing_for_the_players),
        cmocka_unit_test(spectators_past_the_limit_are_refused),
        cmocka_unit_test(a_spectator_with_other_parameters_or_no_key_is_refused),
        cmocka_unit_test(a_state_larger_than_the_spectators_capacity_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
