/* Helpers of the rejoin tests (test_p2p_rejoin.c, _edges.c, _paths.c,
 * test_p2p_play_on.c)
 * over the P2P fixture: options, frame-by-frame comparison of two nodes'
 * records, a crash and restart, a node that loads. */
#ifndef REJOIN_UTIL_H
#define REJOIN_UTIL_H

#include "p2p_fixture.h"

/* RN_TEST_LOG=1 prints every node's log. */
static inline void print_log(rollnet_log_level level, const char *msg, void *user_data)
{
    fprintf(stderr, "[node %d %d] %s\n", (int)(intptr_t)user_data, (int)level, msg);
}

static inline void base_opts(fx_opts *o, uint64_t seed)
{
    memset(o, 0, sizeof(*o));
    if (getenv("RN_TEST_LOG")) {
        o->log = print_log;
    }
    o->num_players = 2;
    o->seed = seed;
    o->write_records = true;
    o->sim[0].delay_ms = 20;
    o->sim[1].delay_ms = 20;
}

/* The frames both hold whose records differ (the first printed); how many
 * frames both hold into *common (may be NULL). */
static inline int count_differing(const fx_records *a, const fx_records *b, int *common)
{
    int diff = 0, both = 0;
    for (int i = 0, k = 0; i < a->count && k < b->count;) {
        if (a->frame[i] < b->frame[k]) {
            i++;
        } else if (a->frame[i] > b->frame[k]) {
            k++;
        } else {
            if (a->hash[i] != b->hash[k] && diff++ == 0) {
                fprintf(stderr, "frame %d differs (inputs %d,%d/%d,%d, flags %x/%x)\n",
                        a->frame[i], a->first_input_byte[i][0], a->first_input_byte[i][1],
                        b->first_input_byte[k][0], b->first_input_byte[k][1],
                        a->disconnected[i], b->disconnected[k]);
            }
            both++;
            i++;
            k++;
        }
    }
    if (common) {
        *common = both;
    }
    return diff;
}

/* Records of the same frame agree; returns how many frames both hold. */
static inline int agree_by_frame(const fx_records *a, const fx_records *b)
{
    int common = 0;
    if (count_differing(a, b, &common) != 0) {
        fail();
    }
    return common;
}

static inline void assert_clean(fx *f)
{
    for (int i = 0; i < f->n; i++) {
        assert_int_equal(f->hp[i].event_counts[ROLLNET_EVENT_DESYNC], 0);
        assert_int_equal(f->hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    }
}

/* Crash node `who` at `at`, restart it `down` ticks later, run `after`. */
static inline void crash_restart(fx *f, int who, uint64_t at, uint64_t down, uint64_t after)
{
    fx_run(f, at);
    assert_true(fx_all_running(f));
    fx_crash(f, who);
    fx_run(f, down);
    fx_restart(f, who);
    fx_run(f, after);
}

/* Node `who` loads (it polls, its game does not advance) for `ticks`. */
static inline void run_loading(fx *f, int who, int ticks)
{
    f->paused[who] = true;
    for (int t = 0; t < ticks; t++) {
        rollnet_error err = rollnet_session_poll(f->s[who], harness_clock_now(&f->clock));
        if (err != ROLLNET_ERR_OK) {
            fail_msg("node %d while loading: %s", who, rollnet_error_string(err));
        }
        rollnet_event ev;
        while (rollnet_session_next_event(f->s[who], &ev)) {
            f->hp[who].event_counts[ev.type]++;
            f->hp[who].last_event[ev.type] = ev;
        }
        fx_run(f, 1);
    }
    f->paused[who] = false;
}

/* The survivor (1 - who) begins loading a level after 400 ticks; `who`
 * crashes a second later and is started again a second after that, while
 * the survivor still loads. */
static inline void crash_while_other_loads(fx *f, uint64_t seed, int who)
{
    int other = 1 - who;
    fx_opts o;
    base_opts(&o, seed);
    fx_init(f, &o);
    fx_run(f, 400);
    assert_int_equal(rollnet_session_begin_loading(f->s[other], harness_clock_now(&f->clock)),
                     ROLLNET_ERR_OK);
    run_loading(f, other, 60);
    fx_crash(f, who);
    run_loading(f, other, 60);
    fx_restart(f, who);
}

/* A rejoin while the survivor loads (test_p2p_rejoin_paths.c), and the
 * network between them fails for longer than
 * disconnect_timeout_ms while the state is still owed: both sides lose the
 * connection; the new process reconnects like any peer and the rejoin
 * completes once the survivor is back from loading. */
static inline void rejoin_cut_while_owed(uint64_t seed, int who)
{
    int other = 1 - who;
    static fx f;
    crash_while_other_loads(&f, seed, who);
    run_loading(&f, other, 3 * 60);
    rollnet_memnet_set_cut(f.net, who, true);
    run_loading(&f, other, 7 * 60);
    rollnet_memnet_set_cut(f.net, who, false);
    run_loading(&f, other, 5 * 60);
    assert_int_equal(rollnet_session_end_loading(f.s[other], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    fx_run(&f, 900);
    assert_int_equal(f.hp[other].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[other], f.rec[who]) > 600);
    assert_clean(&f);
    fx_free(&f);
}
static inline void no_desync(fx *f)
{
    for (int i = 0; i < f->n; i++) {
        assert_int_equal(f->hp[i].event_counts[ROLLNET_EVENT_DESYNC], 0);
    }
}

/* The survivor's REJOINED names the frame the rejoiner's records start at;
 * the rejoiner says the same, and its records cover every frame from there
 * that the survivor has confirmed since (all but the newest few). */
static inline int32_t assert_rejoined(fx *f, int survivor, int rejoiner, int min_rows)
{
    assert_int_equal(f->hp[survivor].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_int_equal(f->hp[rejoiner].event_counts[ROLLNET_EVENT_REJOINED], 1);
    int32_t from = f->hp[survivor].last_event[ROLLNET_EVENT_REJOINED].u.rejoin.frame;
    assert_int_equal(f->hp[rejoiner].last_event[ROLLNET_EVENT_REJOINED].u.rejoin.frame, from);
    assert_int_equal(f->hp[rejoiner].last_event[ROLLNET_EVENT_REJOINED].player, -1);
    assert_int_equal(f->hp[survivor].last_event[ROLLNET_EVENT_REJOINED].player, rejoiner);
    const fx_records *r = f->rec[rejoiner];
    assert_true(r->count >= min_rows);
    assert_int_equal(r->frame[0], from);
    int common = agree_by_frame(f->rec[survivor], r);
    assert_true(common >= min_rows);
    /* What the crashed process confirmed before `from` agrees too. Past it
     * are frames it confirmed with inputs of its own that never reached
     * the survivor (at most max_prediction + input delay of them): the
     * survivor confirmed them with the new process's inputs instead. */
    fx_records *before = f->rec_before[rejoiner];
    int keep = 0;
    while (keep < before->count && before->frame[keep] < from) {
        keep++;
    }
    assert_true(before->count - keep <= ROLLNET_MAX_PREDICTION + f->opts.input_delay + 1);
    before->count = keep;
    assert_int_equal(agree_by_frame(f->rec[survivor], before), keep);
    no_desync(f);
    for (int i = 0; i < f->n; i++) {
        assert_int_equal(f->hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    }
    return from;
}

/* Tick both nodes, whatever their errors (a session may stop: that is what
 * the caller waits for), until node `who` has raised `type` or `max` ticks
 * passed. Records are not read. */
static inline void tick_until_event(fx *f, int who, rollnet_event_type type, int max)
{
    for (int t = 0; t < max && f->hp[who].event_counts[type] == 0; t++) {
        uint64_t now = harness_clock_now(&f->clock);
        harness_tick(&f->hp[0], now);
        harness_tick(&f->hp[1], now);
        harness_clock_tick(&f->clock);
    }
}

#endif
