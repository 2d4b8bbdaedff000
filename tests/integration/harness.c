#include "harness.h"

#include <string.h>

void harness_clock_init(harness_clock *c, uint64_t start_ms, int fps)
{
    memset(c, 0, sizeof *c);
    c->fps = fps > 0 ? fps : 60;
    c->us = start_ms * 1000u;
}

uint64_t harness_clock_now(const harness_clock *c)
{
    return c->us / 1000u;
}

uint64_t harness_clock_tick(harness_clock *c)
{
    c->ticks++;
    /* Whole frames from the start keep 60 fps exact over any number of ticks:
     * frame k ends at k * 1e6 / fps microseconds. */
    uint64_t prev = (c->ticks - 1) * 1000000u / (uint64_t)c->fps;
    uint64_t next = c->ticks * 1000000u / (uint64_t)c->fps;
    c->us += next - prev;
    return harness_clock_now(c);
}

void harness_clock_advance_ms(harness_clock *c, uint64_t ms)
{
    c->us += ms * 1000u;
}

uint64_t harness_bot_seed(uint64_t bot_seed, int player)
{
    /* Distinct streams per player, the same on every peer for a handle. */
    return bot_seed * 1000003u + (uint64_t)player;
}

void harness_peer_init(harness_peer *p, rollnet_session *s, tg_game *g,
                       const rollnet_session_desc *desc, uint64_t bot_seed)
{
    memset(p, 0, sizeof *p);
    p->session = s;
    p->game = g;
    p->num_players = desc->num_players > 0 ? desc->num_players : 2;
    p->input_size = desc->input_size > 0 ? desc->input_size : 1;
    for (int i = 0; i < p->num_players && i < ROLLNET_MAX_PLAYERS; i++) {
        p->local[i] = desc->kind == ROLLNET_SESSION_SYNCTEST ||
                      desc->players[i].kind == ROLLNET_PLAYER_LOCAL;
        tg_bot_init(&p->bots[i], harness_bot_seed(bot_seed, i), p->input_size);
    }
    p->last_error = ROLLNET_ERR_OK;
}

bool harness_is_skip(rollnet_error err)
{
    return err == ROLLNET_ERR_PREDICTION_LIMIT || err == ROLLNET_ERR_EPISODE_BARRIER ||
           err == ROLLNET_ERR_LEDGER_FULL || err == ROLLNET_ERR_NOT_RUNNING ||
           err == ROLLNET_ERR_FINISHED || err == ROLLNET_ERR_LEFT;
}

bool harness_list_runs_new_frame(const rollnet_request *requests, int count)
{
    for (int i = 0; i < count; i++) {
        if (requests[i].type == ROLLNET_REQUEST_ADVANCE &&
            !(requests[i].flags & ROLLNET_REQUEST_REPLAY)) {
            return true;
        }
    }
    return false;
}

rollnet_error harness_execute(harness_peer *p, const rollnet_request *requests, int count)
{
    return tg_execute(p->game, p->session, requests, count);
}

static void harness_drain_events(harness_peer *p)
{
    rollnet_event ev;
    while (rollnet_session_next_event(p->session, &ev)) {
        if ((int)ev.type >= 0 && (int)ev.type < HARNESS_EVENT_TYPES) {
            p->event_counts[ev.type]++;
            p->last_event[ev.type] = ev;
        }
        if (p->event_fn) {
            p->event_fn(&ev, p->event_user_data);
        }
    }
}

static rollnet_error harness_result(harness_peer *p, rollnet_error err)
{
    harness_drain_events(p);
    if (harness_is_skip(err)) {
        p->frames_skipped++;
        p->skip_counts[err]++;
    }
    if (err != ROLLNET_ERR_OK) {
        p->last_error = err;
    }
    return err;
}

rollnet_error harness_tick(harness_peer *p, uint64_t now_ms)
{
    p->ticks++;
    rollnet_error err = rollnet_session_poll(p->session, now_ms);
    if (err != ROLLNET_ERR_OK) {
        return harness_result(p, err);
    }
    /* As a game does: what poll raised is handled before the frame. */
    harness_drain_events(p);

    for (int i = 0; i < p->num_players; i++) {
        if (!p->local[i]) {
            continue;
        }
        if (!p->has_pending[i]) {
            if (p->input_fn) {
                p->input_fn(i, p->next_input_frame, p->pending[i], p->input_size,
                            p->input_user_data);
            } else {
                memcpy(p->pending[i], tg_bot_next(&p->bots[i]), (size_t)p->input_size);
            }
            p->has_pending[i] = true;
        }
        err = rollnet_session_add_local_input(p->session, i, p->pending[i],
                                              (size_t)p->input_size);
        if (err != ROLLNET_ERR_OK) {
            return harness_result(p, err);
        }
    }

    const rollnet_request *reqs = NULL;
    int n = 0;
    err = rollnet_session_advance(p->session, &reqs, &n);
    if (err != ROLLNET_ERR_OK) {
        return harness_result(p, err);
    }
    if (!harness_list_runs_new_frame(reqs, n)) {
        /* A stalled session ran only a pending rollback; the inputs wait
         * for the frame that goes ahead. */
        p->rollback_only_lists++;
        return harness_result(p, harness_execute(p, reqs, n));
    }
    /* The inputs are in the session now: the next frame draws fresh ones. */
    memset(p->has_pending, 0, sizeof p->has_pending);
    p->next_input_frame++;
    p->frames_advanced++;
    return harness_result(p, harness_execute(p, reqs, n));
}

rollnet_error harness_run(harness_peer *peers, int count, harness_clock *clock, uint64_t ticks,
                          int *failed)
{
    for (uint64_t t = 0; t < ticks; t++) {
        uint64_t now = harness_clock_now(clock);
        for (int i = 0; i < count; i++) {
            rollnet_error err = harness_tick(&peers[i], now);
            if (err != ROLLNET_ERR_OK && !harness_is_skip(err)) {
                if (failed) {
                    *failed = i;
                }
                return err;
            }
        }
        harness_clock_tick(clock);
    }
    return ROLLNET_ERR_OK;
}

bool harness_run_until_running(harness_peer *peers, int count, harness_clock *clock,
                               uint64_t max_ticks)
{
    for (uint64_t t = 0; t <= max_ticks; t++) {
        bool all = true;
        for (int i = 0; i < count; i++) {
            rollnet_session_stats st;
            if (rollnet_session_stats_get(peers[i].session, &st) != ROLLNET_ERR_OK ||
                !st.running) {
                all = false;
            }
        }
        if (all) {
            return true;
        }
        if (t == max_ticks) {
            break;
        }
        uint64_t now = harness_clock_now(clock);
        for (int i = 0; i < count; i++) {
            rollnet_error err = rollnet_session_poll(peers[i].session, now);
            harness_drain_events(&peers[i]);
            if (err != ROLLNET_ERR_OK) {
                peers[i].last_error = err;
            }
        }
        harness_clock_tick(clock);
    }
    return false;
}
