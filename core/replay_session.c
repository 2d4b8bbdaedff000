/* The replay session: a recorded game played back through the normal frame
 * loop. Every player's inputs come from the recording (rn_replay_source), one
 * frame at a time, confirmed before the frame runs, so nothing is predicted
 * and nothing rolls back; the first request list loads the recorded initial
 * state; the session finishes (FINISHED) where the recording ends. Each
 * ADVANCE the game ends is compared with what the recording says the game
 * made of it (the episode-end flag and the record): a difference is a
 * DESYNC, named by its frame, and stops the session. No file is read here:
 * the source is the plugin's reader. */
#include <string.h>

#include "confirm.h"
#include "replay.h"
#include "rn_alloc.h"
#include "session.h"

typedef struct rn_replay_session {
    rollnet_session base; /* first: a rollnet_session * points here */
    rn_replay_source src;
    int32_t fed;          /* the inputs of frames before this are in the queues */
    bool ended;           /* the recording holds no frame `fed` */
    /* What the recording says of frame expect_frame (-1: nothing held). */
    int32_t expect_frame;
    uint8_t *expect;      /* record_capacity bytes */
    size_t expect_size;
    bool expect_end;
    bool desync;
    rollnet_desync_info info;
} rn_replay_session;

static void rp_destroy(rollnet_session *s)
{
    rn_replay_session *t = (rn_replay_session *)s;
    rn_free(&s->alloc, t->expect);
    rn_frame_free(s);
}

/* Put the recording's inputs of the next frame into the queues, or finish
 * where the recording ends. */
static void rp_prepare(rollnet_session *s)
{
    rn_replay_session *t = (rn_replay_session *)s;
    if (t->ended || t->fed > s->sync.frame || s->failed != ROLLNET_ERR_OK || s->fin.active) {
        return;
    }
    rn_replay_frame fr;
    memset(&fr, 0, sizeof(fr));
    bool end = false;
    rollnet_error err = t->src.read(t->src.self, &fr, &end);
    if (err != ROLLNET_ERR_OK) {
        rn_logf(&s->events, ROLLNET_LOG_ERROR, "replay: frame %d could not be read: %s", t->fed,
                rollnet_error_string(err));
        rn_frame_fail(s, err);
        return;
    }
    if (end) {
        t->ended = true;
        rn_logf(&s->events, ROLLNET_LOG_INFO, "replay: the recording ends before frame %d",
                t->fed);
        rn_finish_begin(s);
        return;
    }
    if (fr.record_size > s->desc.record_capacity || (fr.record_size > 0 && !fr.record) ||
        !fr.inputs) {
        rn_logf(&s->events, ROLLNET_LOG_ERROR,
                "replay: frame %d: the record (%zu bytes) does not fit record_capacity (%zu)",
                t->fed, fr.record_size, s->desc.record_capacity);
        rn_frame_fail(s, ROLLNET_ERR_REPLAY_INVALID);
        return;
    }
    size_t isize = (size_t)s->desc.input_size;
    for (int p = 0; p < s->desc.num_players; p++) {
        if (rn_iq_add(&s->sync.queues[p], t->fed, fr.inputs + (size_t)p * isize) != RN_IQ_ADDED) {
            rn_logf(&s->events, ROLLNET_LOG_ERROR, "replay: frame %d: player %d's input refused",
                    t->fed, p);
            rn_frame_fail(s, ROLLNET_ERR_REPLAY_INVALID);
            return;
        }
    }
    t->expect_frame = t->fed;
    t->expect_size = fr.record_size;
    t->expect_end = fr.episode_end;
    if (fr.record_size > 0) {
        memcpy(t->expect, fr.record, fr.record_size);
    }
    t->fed++;
    s->dirty = true;
}

static rollnet_error rp_poll(rollnet_session *s)
{
    rp_prepare(s);
    rn_frame_confirm(s);
    return s->failed;
}

static void rp_frame_queued(rollnet_session *s, rn_sync_plan *plan)
{
    (void)s;
    (void)plan; /* the inputs are confirmed already: nothing to send, nothing to force */
}

static void rp_confirmed(rollnet_session *s)
{
    int32_t keep = rn_confirmed_frame(&s->sync);
    if (keep > 0) {
        rn_sync_discard_inputs_before(&s->sync, keep);
    }
}

static rollnet_error rp_set_loading(rollnet_session *s, bool loading)
{
    (void)s;
    (void)loading;
    return ROLLNET_ERR_WRONG_SESSION_KIND;
}

static rollnet_error rp_peer_stats(const rollnet_session *s, int player, rollnet_peer_stats *out)
{
    (void)s;
    (void)player;
    (void)out;
    return ROLLNET_ERR_WRONG_SESSION_KIND;
}

static bool rp_desync(const rollnet_session *s, rollnet_desync_info *out)
{
    const rn_replay_session *t = (const rn_replay_session *)s;
    if (t->desync) {
        *out = t->info;
    }
    return t->desync;
}

static void rp_stats(const rollnet_session *s, rollnet_session_stats *out)
{
    (void)s;
    (void)out;
}

/* The game ended an ADVANCE: it must have made of it what the recording
 * says. An ADVANCE ended by save_begin (a game that keeps no ledger) is not
 * compared: it wrote no record and no flags. */
static rollnet_error rp_advance_ended(rollnet_session *s, const rollnet_request *req,
                                      uint32_t step_flags, const uint8_t *record, size_t size,
                                      bool implicit)
{
    rn_replay_session *t = (rn_replay_session *)s;
    if (implicit || req->frame != t->expect_frame) {
        return ROLLNET_ERR_OK;
    }
    size_t got = record ? size : 0;
    if (got == 1 && record[0] == 0xc0) {
        got = 0; /* a record of nil is recorded as none, as the exporter writes it */
    }
    bool end = (step_flags & ROLLNET_STEP_EPISODE_END) != 0;
    bool same_record = got == t->expect_size && (got == 0 || memcmp(record, t->expect, got) == 0);
    if (end == t->expect_end && same_record) {
        return ROLLNET_ERR_OK;
    }
    if (end != t->expect_end) {
        rn_logf(&s->events, ROLLNET_LOG_ERROR,
                "replay: frame %d: the game %s the episode there, the recording %s", req->frame,
                end ? "ended" : "did not end", t->expect_end ? "did" : "did not");
    } else {
        rn_logf(&s->events, ROLLNET_LOG_ERROR,
                "replay: frame %d: the game's record (%zu bytes) differs from the recording's "
                "(%zu bytes): the game is not the one recorded, or not deterministic",
                req->frame, got, t->expect_size);
    }
    if (!t->desync) {
        t->desync = true;
        t->info.frame = req->frame;
        t->info.first_checksum = rollnet_checksum(t->expect, t->expect_size) ^ (t->expect_end ? 1u : 0u);
        t->info.second_checksum = rollnet_checksum(record, got) ^ (end ? 1u : 0u);
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_DESYNC, -1);
        ev.u.desync.frame = req->frame;
        ev.u.desync.local_checksum = t->info.first_checksum;
        ev.u.desync.remote_checksum = t->info.second_checksum;
        rn_events_push(&s->events, &ev);
    }
    return ROLLNET_ERR_DESYNC;
}

static const rn_session_ops replay_ops = {
    .destroy = rp_destroy,
    .poll = rp_poll,
    .frame_queued = rp_frame_queued,
    .rollback_planned = NULL,
    .confirmed = rp_confirmed,
    .set_loading = rp_set_loading,
    .peer_stats = rp_peer_stats,
    .desync = rp_desync,
    .stats = rp_stats,
    .advance_ended = rp_advance_ended,
    .prepare = rp_prepare,
};

rollnet_error rn_replay_create(const rollnet_session_desc *d, const rollnet_allocator *a,
                               const rn_replay_source *src, rollnet_session **out)
{
    rollnet_session_desc rd = *d;
    rollnet_transport unused = rd.transport;
    rollnet_transport_destroy(&unused);
    rd.transport.vtable = NULL;
    rd.transport.self = NULL;
    rd.input_delay = 0;
    /* Nobody adds inputs: every player is fed from the recording. */
    for (int p = 0; p < rd.num_players; p++) {
        rd.players[p].kind = ROLLNET_PLAYER_REMOTE;
        rd.players[p].address = NULL;
    }
    rollnet_session *s = NULL;
    rollnet_error err = rn_frame_init(&s, sizeof(rn_replay_session), &rd, a);
    rn_replay_session *t = (rn_replay_session *)s;
    if (s) {
        s->ops = &replay_ops;
        s->running = true;
        t->src = *src;
        t->expect_frame = -1;
    }
    if (err == ROLLNET_ERR_OK) {
        t->expect = rn_calloc(a, 1, rd.record_capacity);
        err = t->expect ? ROLLNET_ERR_OK : ROLLNET_ERR_OUT_OF_MEMORY;
    }
    if (err == ROLLNET_ERR_OK) {
        err = rn_sync_preload(&s->sync, src->initial_state, src->initial_state_size);
        if (err != ROLLNET_ERR_OK) {
            rn_logf(&s->events, ROLLNET_LOG_ERROR,
                    "replay: the initial state (%zu bytes) %s", src->initial_state_size,
                    err == ROLLNET_ERR_SNAPSHOT_OVERFLOW ? "does not fit snapshot_capacity"
                                                         : "is not whole msgpack values");
        }
    }
    if (err != ROLLNET_ERR_OK) {
        if (s) {
            rp_destroy(s);
        }
        return err;
    }
    *out = s;
    return ROLLNET_ERR_OK;
}

/* ---- The recorder's side: frame 0's snapshot ---------------------------- */

rollnet_error rn_session_keep_initial_state(rollnet_session *s)
{
    if (s->initial_state) {
        return ROLLNET_ERR_OK;
    }
    if (s->sync.started) {
        return ROLLNET_ERR_NOT_RUNNING; /* too late: frame 0 is saved and may be gone */
    }
    s->initial_state = rn_calloc(&s->alloc, 1, s->desc.snapshot_capacity);
    return s->initial_state ? ROLLNET_ERR_OK : ROLLNET_ERR_OUT_OF_MEMORY;
}

void rn_replay_keep_initial_state(rollnet_session *s, const rollnet_request *req)
{
    if (!s->initial_state || s->initial_state_held || req->frame != 0 ||
        (req->flags & (ROLLNET_REQUEST_REPLAY | ROLLNET_REQUEST_VALIDATE_))) {
        return;
    }
    const rn_snapshot_slot *slot = rn_sync_find_snapshot(&s->sync, 0);
    if (slot) {
        memcpy(s->initial_state, slot->buf, slot->size);
        s->initial_state_size = slot->size;
        s->initial_state_held = true;
    }
}

bool rn_session_initial_state(const rollnet_session *s, const uint8_t **data, size_t *size)
{
    if (!s->initial_state_held) {
        return false;
    }
    *data = s->initial_state;
    *size = s->initial_state_size;
    return true;
}
