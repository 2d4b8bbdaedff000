/* Helpers shared by the unit tests of the session's modules (events, peer,
 * link, confirm, episode): a logger that keeps what it is told, event queue
 * checks, handshake parameters, and a tiny "game" that drives a real rn_sync (and optionally a real
 * rn_ledger) through its request lists, as the session does. Header-only;
 * include after <cmocka.h>. */
#ifndef CORE_FIXTURE_H
#define CORE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "confirm.h"
#include "events.h"
#include "ledger.h"
#include "rn_alloc.h"
#include "sync.h"

/* ---- A logger that keeps every line ------------------------------------ */

#define CAPTURE_LINES 16

typedef struct log_capture {
    int count;
    rollnet_log_level level[CAPTURE_LINES];
    char text[CAPTURE_LINES][512];
    void *user_data_seen; /* the user_data of the last call */
} log_capture;

static inline void capture_log(rollnet_log_level level, const char *message, void *user_data)
{
    log_capture *c = user_data;
    if (c->count < CAPTURE_LINES) {
        c->level[c->count] = level;
        snprintf(c->text[c->count], sizeof(c->text[0]), "%s", message);
    }
    c->count++;
    c->user_data_seen = user_data;
}

/* An event queue whose logger writes into `c` (NULL: no logger). */
static inline void events_with_capture(rn_events *q, log_capture *c)
{
    if (!c) {
        rn_events_init(q, NULL);
        return;
    }
    memset(c, 0, sizeof(*c));
    rollnet_logger logger = {capture_log, c};
    rn_events_init(q, &logger);
}

/* ---- Event queue checks -------------------------------------------------- */

/* Pop the next event and check its type and player. */
static inline rollnet_event expect_event(rn_events *q, rollnet_event_type type, int player)
{
    rollnet_event ev;
    assert_true(rn_events_next(q, &ev));
    assert_int_equal(ev.type, type);
    assert_int_equal(ev.player, player);
    return ev;
}

static inline void expect_no_event(rn_events *q)
{
    rollnet_event ev;
    assert_false(rn_events_next(q, &ev));
}

/* ---- Session parameters for a handshake ----------------------------------- */

/* Three players, two-byte inputs, one frame of delay; every parameter the
 * HELLO carries differs from its default, so a check that skips one shows. */
static inline rollnet_session_desc hello_desc(void)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.num_players = 3;
    d.input_size = 2;
    d.input_delay = 1;
    d.fps = 60;
    d.max_prediction = 7;
    d.game_id = 0x1122334455667788ull;
    d.seed = 0x99aabbccddeeff00ull;
    d.checksum_interval = 16;
    return d;
}

/* ---- A game driving a real rn_sync -------------------------------------- *
 * Two players, one byte of input each: player 0 is local (its input goes in
 * with the frame), player 1 is remote (confirmed by drv_confirm_remote, else
 * predicted). The game state is a hash of every input it ran with. With a
 * ledger, each ADVANCE records [frame] and ends its episode where bit `frame`
 * of episode_ends is set; a replay's LOAD discards the records it rewrites,
 * as the session does. */

#define DRV_PLAYERS 2
#define DRV_LOCAL 0
#define DRV_REMOTE 1

typedef struct drv {
    rn_sync sync;
    rn_ledger ledger;
    bool use_ledger;
    uint64_t episode_ends; /* bit f: frame f ends its episode (frames < 64) */
    int64_t frame;         /* the game's own frame counter */
    int64_t state;
} drv;

static inline void drv_init(drv *d, int max_prediction, bool use_ledger)
{
    memset(d, 0, sizeof(*d));
    rollnet_allocator a;
    rn_allocator_resolve(NULL, &a);
    rn_sync_config cfg = {
        .num_players = DRV_PLAYERS,
        .input_size = 1,
        .max_prediction = max_prediction,
        .snapshot_capacity = 256,
        .prediction = ROLLNET_PREDICT_REPEAT_LAST,
    };
    assert_int_equal(rn_sync_init(&d->sync, &a, &cfg), ROLLNET_ERR_OK);
    d->use_ledger = use_ledger;
    if (use_ledger) {
        assert_int_equal(rn_ledger_init(&d->ledger, NULL, DRV_PLAYERS, 1, 64, 32, 64),
                         ROLLNET_ERR_OK);
    }
}

static inline void drv_free(drv *d)
{
    rn_sync_free(&d->sync);
    if (d->use_ledger) {
        rn_ledger_free(&d->ledger);
    }
}

/* Carry out requests [from, to) of the current list. */
static inline void drv_run(drv *d, int from, int to)
{
    rn_sync *s = &d->sync;
    for (int i = from; i < to; i++) {
        const rollnet_request *r = &s->reqs[i];
        switch (r->type) {
        case ROLLNET_REQUEST_SAVE: {
            rollnet_writer *w = rn_sync_save_begin(s, r);
            assert_non_null(w);
            rollnet_write_int(w, d->frame);
            rollnet_write_int(w, d->state);
            assert_int_equal(rn_sync_save_end(s, r), ROLLNET_ERR_OK);
            break;
        }
        case ROLLNET_REQUEST_LOAD: {
            rollnet_reader *rd = rn_sync_load_begin(s, r);
            assert_non_null(rd);
            assert_true(rollnet_read_int(rd, &d->frame));
            assert_true(rollnet_read_int(rd, &d->state));
            assert_int_equal(rn_sync_load_end(s, r), ROLLNET_ERR_OK);
            if (d->use_ledger && (r->flags & ROLLNET_REQUEST_REPLAY)) {
                rn_ledger_discard_from(&d->ledger, r->frame);
            }
            break;
        }
        case ROLLNET_REQUEST_ADVANCE:
            assert_int_equal(d->frame, r->frame);
            d->state = (int64_t)(((uint64_t)d->state * 31u + r->inputs[0] * 7u + r->inputs[1]) &
                                 0xffffffffffffu);
            d->frame++;
            if (d->use_ledger) {
                rollnet_writer *w = rn_ledger_record_begin(&d->ledger, r->frame);
                assert_non_null(w);
                rollnet_write_int(w, r->frame);
                bool end = r->frame < 64 && (d->episode_ends >> r->frame) & 1u;
                assert_int_equal(rn_ledger_step_end(&d->ledger, r->frame, r->inputs,
                                                    end ? ROLLNET_STEP_EPISODE_END : 0, 0),
                                 ROLLNET_ERR_OK);
            }
            assert_int_equal(rn_sync_advance_done(s, r), ROLLNET_ERR_OK);
            break;
        }
    }
}

/* Queue the local input of the next frame and build its list (not carried out). */
static inline int drv_build(drv *d, uint8_t local)
{
    assert_true(rn_sync_within_window(&d->sync));
    assert_int_equal(rn_iq_add(&d->sync.queues[DRV_LOCAL], d->sync.frame, &local), RN_IQ_ADDED);
    rn_sync_plan plan = {.advance = true};
    return rn_sync_build(&d->sync, &plan);
}

/* Run one frame (and any pending rollback) to the end of its list. */
static inline void drv_step(drv *d, uint8_t local)
{
    int n = drv_build(d, local);
    drv_run(d, 0, n);
    assert_false(rn_sync_requests_pending(&d->sync));
    /* Inputs before the last confirmed frame are needed by no rollback. */
    int32_t keep = rn_confirmed_frame(&d->sync);
    if (keep > 0) {
        rn_sync_discard_inputs_before(&d->sync, keep);
    }
}

/* Run frames until the next frame to run is `frame`. */
static inline void drv_run_to(drv *d, int32_t frame)
{
    while (d->sync.frame < frame) {
        drv_step(d, 1);
    }
}

/* Confirm the remote player's inputs up to `frame` with `value`. */
static inline void drv_confirm_remote(drv *d, int32_t frame, uint8_t value)
{
    rn_input_queue *q = &d->sync.queues[DRV_REMOTE];
    for (int32_t f = q->last_confirmed + 1; f <= frame; f++) {
        assert_int_equal(rn_iq_add(q, f, &value), RN_IQ_ADDED);
    }
}

#endif
