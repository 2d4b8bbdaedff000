/* What both session kinds share: local inputs, stalls, the request list
 * and what the game reports back about it, and the promotion path. */
#include <string.h>

#include "bits.h"
#include "confirm.h"
#include "protocol.h"
#include "rn_alloc.h"
#include "replay.h"
#include "session.h"

rollnet_error rn_frame_init(rollnet_session **out, size_t size, const rollnet_session_desc *d,
                            const rollnet_allocator *a)
{
    *out = NULL;
    rollnet_session *s = rn_calloc(a, 1, size);
    if (!s) {
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    *out = s;
    s->alloc = *a;
    s->desc = *d;
    s->desc.transport.vtable = NULL;
    s->desc.transport.self = NULL;
    s->desc.neutral_input = NULL; /* copied by rn_sync_init below */
    /* Checked by resolve_desc: at most ROLLNET_MAX_GAME_PARAMS bytes. */
    if (d->game_params_size > 0) {
        memcpy(s->game_params, d->game_params, d->game_params_size);
    }
    s->desc.game_params = s->game_params;
    s->desc.session_key = NULL;   /* read at creation only; its size stays, as a flag */
    s->dirty = true;
    s->record_frame = -1;
    /* An input for frame + input_delay must still be encodable. */
    s->last_frame = RN_MAX_FRAME - ROLLNET_MAX_INPUT_DELAY - 1;
    rn_events_init(&s->events, &d->logger);
    rn_episodes_init(&s->episodes, d->episode_timeout_ms);
    for (int p = 0; p < d->num_players; p++) {
        if (d->players[p].kind == ROLLNET_PLAYER_LOCAL) {
            s->local_mask |= 1u << p;
            s->delay[p] = s->delay_target[p] = d->input_delay;
        }
    }
    uint8_t zero[ROLLNET_MAX_INPUT_SIZE] = {0};
    rn_sync_config cfg = {
        .num_players = d->num_players,
        .input_size = d->input_size,
        .max_prediction = d->max_prediction,
        .snapshot_capacity = d->snapshot_capacity,
        .prediction = d->prediction,
        .neutral = d->neutral_input ? (const uint8_t *)d->neutral_input : zero,
        .user_data = d->user_data,
        .keep_desync_copies = d->kind == ROLLNET_SESSION_SYNCTEST,
    };
    rollnet_error err = rn_sync_init(&s->sync, a, &cfg);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    s->sync_ready = true;
    /* Frames 0..delay-1 of a local player are neutral; its peers learn them
     * as its inputs, so each peer's delay is its own. */
    for (int p = 0; p < d->num_players; p++) {
        if (s->local_mask & (1u << p)) {
            rn_iq_prefill(&s->sync.queues[p], d->input_delay);
        }
    }
    int spec = 2 * d->max_prediction + 8;
    err = rn_ledger_init(&s->ledger, a, d->num_players, d->input_size, d->record_capacity, spec,
                         d->ledger_capacity);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    s->ledger_ready = true;
    s->scratch_record = rn_calloc(a, 1, d->record_capacity);
    return s->scratch_record ? ROLLNET_ERR_OK : ROLLNET_ERR_OUT_OF_MEMORY;
}

void rn_frame_free(rollnet_session *s)
{
    if (s->sync_ready) {
        rn_sync_free(&s->sync);
    }
    if (s->ledger_ready) {
        rn_ledger_free(&s->ledger);
    }
    rollnet_allocator a = s->alloc;
    rn_free(&a, s->scratch_record);
    rn_free(&a, s->initial_state);
    rn_free(&a, s);
}

rollnet_error rn_frame_fail(rollnet_session *s, rollnet_error err)
{
    if (err != ROLLNET_ERR_OK && s->failed == ROLLNET_ERR_OK) {
        s->failed = err;
    }
    return err;
}

/* ------------------------------------------------------------------------ */
/* Local inputs and stalls                                                    */
/* ------------------------------------------------------------------------ */

/* Why the next frame cannot run now, or OK. */
static rollnet_error blocked_reason(rollnet_session *s)
{
    if (s->failed != ROLLNET_ERR_OK) {
        return s->failed;
    }
    if (!s->running) {
        return ROLLNET_ERR_NOT_RUNNING;
    }
    if (s->left) {
        return ROLLNET_ERR_LEFT;
    }
    if (s->fin.active && s->sync.frame >= s->fin.end) {
        return ROLLNET_ERR_FINISHED; /* every frame of the session has run */
    }
    if (s->sync.frame > s->last_frame) {
        rn_logf(&s->events, ROLLNET_LOG_ERROR,
                "frame %d is past the last frame a session can run (%d): start a new session",
                s->sync.frame, s->last_frame);
        return rn_frame_fail(s, ROLLNET_ERR_FRAME_LIMIT);
    }
    if (s->ledger.conf_count == s->ledger.conf_capacity) {
        return ROLLNET_ERR_LEDGER_FULL; /* the game must read records before anything moves */
    }
    if (rn_episodes_barrier_end(&s->episodes, &s->ledger, s->sync.frame) >= 0) {
        return ROLLNET_ERR_EPISODE_BARRIER;
    }
    if (!rn_sync_within_window(&s->sync)) {
        return ROLLNET_ERR_PREDICTION_LIMIT;
    }
    if (!rn_frame_local_room(s)) {
        return ROLLNET_ERR_PREDICTION_LIMIT;
    }
    if (s->ledger_used && !rn_ledger_can_store(&s->ledger, s->sync.frame)) {
        return ROLLNET_ERR_LEDGER_FULL;
    }
    return ROLLNET_ERR_OK;
}

static bool is_stall(rollnet_error why)
{
    return why == ROLLNET_ERR_PREDICTION_LIMIT || why == ROLLNET_ERR_EPISODE_BARRIER ||
           why == ROLLNET_ERR_LEDGER_FULL;
}

static void clear_stalled(rollnet_session *s)
{
    if (!s->stalled) {
        return;
    }
    s->stalled = false;
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_STALL_ENDED, -1);
    ev.u.stall.reason = s->stall_reason;
    ev.u.stall.frame = s->sync.frame;
    rn_events_push(&s->events, &ev);
}

static void set_stalled(rollnet_session *s, rollnet_error why)
{
    rollnet_stall_reason reason = why == ROLLNET_ERR_EPISODE_BARRIER ? ROLLNET_STALL_EPISODE_BARRIER
                                  : why == ROLLNET_ERR_LEDGER_FULL    ? ROLLNET_STALL_LEDGER_FULL
                                                                      : ROLLNET_STALL_PREDICTION_LIMIT;
    if (s->stalled && s->stall_reason == reason) {
        /* The same stall goes on: said again every disconnect_timeout_ms,
         * so a long wait (a peer that waits in turn for another, say) is
         * never a silent one. Counted once. */
        if (s->now - s->stall_said_ms < s->desc.disconnect_timeout_ms) {
            return;
        }
    } else {
        clear_stalled(s); /* one stall ends, another begins */
        s->stalled = true;
        s->stall_reason = reason;
        s->stalls++;
    }
    s->stall_said_ms = s->now;
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_STALLED, -1);
    ev.u.stall.reason = reason;
    ev.u.stall.frame = s->sync.frame;
    rn_events_push(&s->events, &ev);
}

void rn_frame_confirm(rollnet_session *s)
{
    if (rn_sync_requests_pending(&s->sync)) {
        return;
    }
    /* Nothing new to promote or checksum; a barrier still needs its clock. */
    if (!s->dirty && s->episodes.barrier_frame < 0) {
        return;
    }
    s->dirty = false;
    rn_episodes_update_barrier(&s->episodes, &s->ledger, &s->sync, &s->events, s->now);
    s->ops->confirmed(s);
    rn_finish_update(s);
    /* A stall ends when its cause does, even if the game never advances
     * again (the barrier of a session's last episode). */
    if (s->stalled && !is_stall(blocked_reason(s))) {
        clear_stalled(s);
    }
}

rollnet_error rn_frame_add_local_input(rollnet_session *s, int player, const void *input,
                                       size_t size)
{
    if (player < 0 || player >= s->desc.num_players || !(s->local_mask & (1u << player))) {
        return ROLLNET_ERR_INVALID_PLAYER;
    }
    if (size != (size_t)s->desc.input_size) {
        return ROLLNET_ERR_INVALID_INPUT_SIZE;
    }
    rollnet_error why = blocked_reason(s);
    if (is_stall(why) || why == ROLLNET_ERR_FINISHED) {
        if (!rn_rollback_pending(&s->sync)) {
            if (is_stall(why)) {
                set_stalled(s, why);
            }
            return why;
        }
        /* A pending rollback still has to run: advance will return it alone. */
    } else if (why != ROLLNET_ERR_OK) {
        return why;
    }
    if (s->fin.active) {
        return ROLLNET_ERR_OK; /* finishing: the frames left run on the inputs given */
    }
    memcpy(s->pending[player], input, size);
    s->pending_mask |= 1u << player;
    return ROLLNET_ERR_OK;
}

/* ------------------------------------------------------------------------ */
/* The request list                                                           */
/* ------------------------------------------------------------------------ */

/* The local inputs added for this frame go into the queues at frame + delay. */
static rollnet_error queue_local_inputs(rollnet_session *s)
{
    if ((s->pending_mask & s->local_mask) != s->local_mask) {
        return ROLLNET_ERR_NO_LOCAL_INPUT;
    }
    clear_stalled(s);
    for (int p = 0; p < s->desc.num_players; p++) {
        if (s->local_mask & (1u << p)) {
            rn_frame_schedule_local(s, p);
        }
    }
    s->pending_mask = 0;
    s->dirty = true;
    return ROLLNET_ERR_OK;
}

static const char *type_name(rollnet_request_type t)
{
    return t == ROLLNET_REQUEST_LOAD ? "LOAD" : t == ROLLNET_REQUEST_SAVE ? "SAVE" : "ADVANCE";
}

/* advance refused with requests left: name the next one (once per list, as
 * a game may retry every tick). */
static void explain_pending(rollnet_session *s)
{
    if (s->pending_warned) {
        return;
    }
    s->pending_warned = true;
    const rollnet_request *next = &s->sync.reqs[s->sync.req_next];
    rn_logf(&s->events, ROLLNET_LOG_WARN,
            "advance: the last request list is not carried out: its next request is %s of frame "
            "%d (%d of %d left); carry out every request in order first",
            type_name(next->type), next->frame, s->sync.req_count - s->sync.req_next,
            s->sync.req_count);
}

rollnet_error rn_frame_advance(rollnet_session *s, const rollnet_request **requests, int *count)
{
    if (s->failed != ROLLNET_ERR_OK) {
        return s->failed;
    }
    if (rn_sync_requests_pending(&s->sync)) {
        explain_pending(s);
        return ROLLNET_ERR_REQUESTS_PENDING;
    }
    rn_frame_confirm(s);
    if (s->ops->prepare) {
        s->ops->prepare(s);
    }
    rollnet_error why = blocked_reason(s);
    if (why != ROLLNET_ERR_OK && !(rn_rollback_pending(&s->sync) && s->running)) {
        if (is_stall(why)) {
            set_stalled(s, why);
        }
        return why;
    }
    rn_sync_plan plan;
    memset(&plan, 0, sizeof(plan));
    plan.advance = why == ROLLNET_ERR_OK;
    if (plan.advance) {
        rollnet_error err = s->fin.active ? ROLLNET_ERR_OK : queue_local_inputs(s);
        if (err != ROLLNET_ERR_OK) {
            return err;
        }
        s->ops->frame_queued(s, &plan);
    }
    if (!s->validated_start) {
        s->validated_start = true;
        plan.validate = true;
    } else if (rn_episodes_take_validation(&s->episodes)) {
        plan.validate = true;
    }
    if (s->ops->rollback_planned && rn_rollback_pending(&s->sync)) {
        s->ops->rollback_planned(s);
    }
    *count = rn_sync_build(&s->sync, &plan);
    *requests = s->sync.reqs;
    s->pending_warned = false;
    return ROLLNET_ERR_OK;
}

/* A request was carried out: confirmation may move once the list is done. */
static void list_step(rollnet_session *s)
{
    s->dirty = true;
    if (!rn_sync_requests_pending(&s->sync)) {
        rn_frame_confirm(s);
    }
}

/* A *_begin call returns NULL: say why in the log (the API has no room for
 * an error there). */
static void explain_refused(rollnet_session *s, const char *call, const rollnet_request *req,
                            rollnet_request_type want)
{
    const rn_sync *y = &s->sync;
    if (!req) {
        rn_logf(&s->events, ROLLNET_LOG_WARN, "%s: the request is NULL", call);
    } else if (y->writing || y->reading) {
        rn_logf(&s->events, ROLLNET_LOG_WARN, "%s: a %s is still open: end it first", call,
                y->writing ? "save (save_begin without save_end)" : "load (load_begin without load_end)");
    } else if (y->req_next >= y->req_count) {
        rn_logf(&s->events, ROLLNET_LOG_WARN,
                "%s: no request is pending: carry out the list rollnet_session_advance returned",
                call);
    } else {
        const rollnet_request *next = &y->reqs[y->req_next];
        rn_logf(&s->events, ROLLNET_LOG_WARN,
                "%s: the next request is %s of frame %d, not %s of frame %d: carry them out in "
                "order",
                call, type_name(next->type), next->frame, type_name(want), req->frame);
    }
}

static rollnet_error end_advance(rollnet_session *s, const rollnet_request *req,
                                 uint32_t step_flags, bool implicit);

/* The ADVANCE before the SAVE the game begins was not ended with
 * advance_end: end it here with no flags, as the header promises. Every
 * ADVANCE of a list is followed by the SAVE of the next frame (rn_sync_build),
 * so no ADVANCE can stay open. Once the ledger is in use this is a mistake
 * that loses the frame's episode-end flag (and its record, unless
 * record_begin wrote one): said once in the log, counted in the stats. */
static void end_open_advance(rollnet_session *s, const rollnet_request *adv)
{
    s->advances_unended++;
    if (!s->ledger_used) {
        /* No ledger (yet): nothing to store. next_record says so if the game
         * reads records anyway. */
        s->record_frame = -1;
        s->record_writer = NULL;
        rn_sync_advance_done(&s->sync, adv);
        return;
    }
    if (!s->unended_warned) {
        s->unended_warned = true;
        bool recorded = s->record_frame == adv->frame;
        rn_logf(&s->events, ROLLNET_LOG_WARN,
                "advance_end was not called for the ADVANCE of frame %d%s: its episode-end flag "
                "is lost%s; call advance_end for every ADVANCE, replays included (counted in "
                "advances_unended; logged once)",
                adv->frame, (adv->flags & ROLLNET_REQUEST_REPLAY) ? " (a replay)" : "",
                recorded ? "" : " and its record is empty");
    }
    /* A failure sticks in s->failed; the SAVE's save_end reports it. */
    s->open_advance_error = end_advance(s, adv, 0, true);
}

rollnet_writer *rn_frame_save_begin(rollnet_session *s, const rollnet_request *req)
{
    rn_sync *y = &s->sync;
    if (y->req_next + 1 < y->req_count && rn_sync_is_request(y, req, y->req_next + 1) &&
        y->reqs[y->req_next].type == ROLLNET_REQUEST_ADVANCE && req->type == ROLLNET_REQUEST_SAVE) {
        end_open_advance(s, &y->reqs[y->req_next]);
    }
    rollnet_writer *w = rn_sync_save_begin(y, req);
    if (!w) {
        explain_refused(s, "save_begin", req, ROLLNET_REQUEST_SAVE);
    }
    return w;
}

rollnet_reader *rn_frame_load_begin(rollnet_session *s, const rollnet_request *req)
{
    rollnet_reader *r = rn_sync_load_begin(&s->sync, req);
    if (r) {
        return r;
    }
    if (rn_sync_check_next(&s->sync, req, ROLLNET_REQUEST_LOAD) == ROLLNET_ERR_OK &&
        !s->sync.writing && !s->sync.reading) {
        rn_logf(&s->events, ROLLNET_LOG_ERROR, "load_begin: no snapshot of frame %d is stored",
                req->frame);
    } else {
        explain_refused(s, "load_begin", req, ROLLNET_REQUEST_LOAD);
    }
    return NULL;
}

rollnet_error rn_frame_save_end(rollnet_session *s, const rollnet_request *req)
{
    rollnet_error err = rn_sync_save_end(&s->sync, req);
    if (err == ROLLNET_ERR_WRONG_REQUEST) {
        return err;
    }
    if (s->open_advance_error != ROLLNET_ERR_OK) {
        /* save_begin ended the ADVANCE before this SAVE, and that failed. */
        rollnet_error adv = s->open_advance_error;
        s->open_advance_error = ROLLNET_ERR_OK;
        if (err == ROLLNET_ERR_OK) {
            return adv; /* the session has stopped with it */
        }
    }
    if (err == ROLLNET_ERR_DESYNC) {
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_DESYNC, -1);
        ev.u.desync.frame = s->sync.desync_frame;
        ev.u.desync.local_checksum = s->sync.desync_first;
        ev.u.desync.remote_checksum = s->sync.desync_second;
        rn_events_push(&s->events, &ev);
        rn_log(&s->events, ROLLNET_LOG_ERROR, "sync test: a replayed frame's checksum differs");
    } else if (err == ROLLNET_ERR_SNAPSHOT_INVALID) {
        rn_logf(&s->events, ROLLNET_LOG_ERROR,
                "the snapshot of frame %d is not whole: an array or map header announces more "
                "values than the game wrote after it",
                req->frame);
    } else if (err == ROLLNET_ERR_SNAPSHOT_OVERFLOW) {
        rn_logf(&s->events, ROLLNET_LOG_ERROR,
                "the snapshot of frame %d does not fit in snapshot_capacity (%zu bytes)", req->frame,
                s->desc.snapshot_capacity);
    }
    if (err != ROLLNET_ERR_OK) {
        return rn_frame_fail(s, err);
    }
    rn_replay_keep_initial_state(s, req);
    list_step(s);
    return ROLLNET_ERR_OK;
}

rollnet_error rn_frame_load_end(rollnet_session *s, const rollnet_request *req)
{
    rollnet_error err = rn_sync_load_end(&s->sync, req);
    if (err == ROLLNET_ERR_WRONG_REQUEST) {
        return err;
    }
    if (err != ROLLNET_ERR_OK) {
        return rn_frame_fail(s, err);
    }
    if (req->flags & ROLLNET_REQUEST_REPLAY) {
        /* The replay writes these records again. */
        rn_ledger_discard_from(&s->ledger, req->frame);
    }
    list_step(s);
    return ROLLNET_ERR_OK;
}

/* A sync test replays frames whose records are already confirmed (their
 * inputs were never in doubt); such a replay's record is written into a
 * scratch buffer and dropped, as the snapshot comparison covers the replay. */
static bool already_promoted(const rollnet_session *s, int32_t frame)
{
    return frame < s->ledger.next_promote;
}

rollnet_writer *rn_frame_record_begin(rollnet_session *s, const rollnet_request *req)
{
    if (rn_sync_check_next(&s->sync, req, ROLLNET_REQUEST_ADVANCE) != ROLLNET_ERR_OK) {
        explain_refused(s, "record_begin", req, ROLLNET_REQUEST_ADVANCE);
        return NULL;
    }
    rollnet_writer *w = NULL;
    if (already_promoted(s, req->frame)) {
        rn_writer_init(&s->scratch_writer, s->scratch_record, s->desc.record_capacity);
        w = &s->scratch_writer;
    } else {
        w = rn_ledger_record_begin(&s->ledger, req->frame);
    }
    if (!w) {
        rn_logf(&s->events, ROLLNET_LOG_WARN,
                "record_begin: the ledger has no room for frame %d: read the confirmed records "
                "with rollnet_session_next_record",
                req->frame);
    }
    s->record_writer = w;
    s->record_frame = w ? req->frame : -1;
    return w;
}

/* The first advance_end: the ledger is in use from here on. */
static void start_ledger(rollnet_session *s, const rollnet_request *req)
{
    s->ledger_used = true;
    if (req->frame > s->ledger.next_promote && s->ledger.promoted == 0) {
        rn_logf(&s->events, ROLLNET_LOG_WARN,
                "the ledger starts at frame %d: frames before it ran without advance_end "
                "and have no records",
                req->frame);
        rn_ledger_start_at(&s->ledger, req->frame);
    }
}

/* End the pending ADVANCE `req` (checked by the caller): store its record
 * and flags in the ledger, then let the kind look at them. */
static rollnet_error end_advance(rollnet_session *s, const rollnet_request *req,
                                 uint32_t step_flags, bool implicit)
{
    if (!s->ledger_used) {
        start_ledger(s, req);
    }
    const rollnet_writer *rec = s->record_frame == req->frame ? s->record_writer : NULL;
    s->record_frame = -1;
    s->record_writer = NULL;
    if (s->ledger.writing_frame == req->frame && !rn_writer_complete(&s->ledger.writer)) {
        /* Exported and read by every peer: it must be whole (as snapshots are). */
        rn_logf(&s->events, ROLLNET_LOG_ERROR,
                "the record of frame %d is not whole: an array or map header announces more "
                "values than the game wrote after it",
                req->frame);
        rn_sync_advance_done(&s->sync, req);
        return rn_frame_fail(s, ROLLNET_ERR_SNAPSHOT_INVALID);
    }
    rollnet_error err = already_promoted(s, req->frame)
                            ? ROLLNET_ERR_OK
                            : rn_ledger_step_end(&s->ledger, req->frame, req->inputs, step_flags,
                                                 req->disconnected);
    rn_sync_advance_done(&s->sync, req);
    if (err == ROLLNET_ERR_OK && s->ops->advance_ended) {
        err = s->ops->advance_ended(s, req, step_flags, rec ? rec->buf : NULL,
                                    rec ? rec->len : 0, implicit);
    }
    if (err != ROLLNET_ERR_OK) {
        return rn_frame_fail(s, err);
    }
    list_step(s);
    return ROLLNET_ERR_OK;
}

rollnet_error rn_frame_advance_end(rollnet_session *s, const rollnet_request *req,
                                   uint32_t step_flags)
{
    rollnet_error err = rn_sync_check_next(&s->sync, req, ROLLNET_REQUEST_ADVANCE);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    return end_advance(s, req, step_flags, false);
}

/* Records come only from advance_end: a game that reads them without ever
 * ending an ADVANCE is told why none come (once). */
static void explain_no_ledger(rollnet_session *s)
{
    if (s->ledger_used || s->no_ledger_warned || s->advances_unended == 0) {
        return;
    }
    s->no_ledger_warned = true;
    rn_logf(&s->events, ROLLNET_LOG_WARN,
            "next_record: there are no records: %llu ADVANCEs ran and none was ended with "
            "advance_end; records and episodes come from advance_end: call it for every "
            "ADVANCE, replays included",
            (unsigned long long)s->advances_unended);
}

bool rn_frame_next_record(rollnet_session *s, rollnet_record *out)
{
    if (rn_ledger_next(&s->ledger, out)) {
        s->dirty = true; /* room in the confirmed ring */
        return true;
    }
    explain_no_ledger(s);
    /* The ring may have been full: promote what waited and try once more. */
    if (!rn_sync_requests_pending(&s->sync)) {
        rn_episodes_promote(&s->episodes, &s->ledger, &s->sync, &s->events);
        return rn_ledger_next(&s->ledger, out);
    }
    return false;
}
