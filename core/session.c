/* The public session calls: argument checks, then the shared frame code
 * (frame.c) or the kind's own implementation (rn_session_ops). */
#include <string.h>

#include "confirm.h"
#include "rn_alloc.h"
#include "session.h"

/* Zero means "the documented default" (rollnet.h); then the ranges both
 * kinds share. */
static rollnet_error resolve_desc(const rollnet_session_desc *in, rollnet_session_desc *d)
{
    *d = *in;
    if (d->kind != ROLLNET_SESSION_P2P && d->kind != ROLLNET_SESSION_SYNCTEST) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
#define RN_DEFAULT(field, value) \
    if (d->field == 0) {          \
        d->field = (value);       \
    }
    RN_DEFAULT(num_players, 2);
    RN_DEFAULT(input_size, 1);
    RN_DEFAULT(max_prediction, ROLLNET_MAX_PREDICTION);
    RN_DEFAULT(fps, 60);
    RN_DEFAULT(check_distance, 1);
    RN_DEFAULT(checksum_interval, 16);
    RN_DEFAULT(handshake_timeout_ms, 10000);
    RN_DEFAULT(notify_timeout_ms, 750);
    RN_DEFAULT(disconnect_timeout_ms, 5000);
    RN_DEFAULT(loading_grace_ms, 60000);
    RN_DEFAULT(episode_timeout_ms, 5000);
    RN_DEFAULT(snapshot_capacity, 65536);
    RN_DEFAULT(record_capacity, 1024);
    RN_DEFAULT(ledger_capacity, 4096);
#undef RN_DEFAULT
    if (d->num_players < 1 || d->num_players > ROLLNET_MAX_PLAYERS || d->input_size < 1 ||
        d->input_size > ROLLNET_MAX_INPUT_SIZE || d->input_delay < 0 ||
        d->input_delay > ROLLNET_MAX_INPUT_DELAY || d->max_prediction < 1 ||
        d->max_prediction > ROLLNET_MAX_PREDICTION || d->fps < 1 || d->fps > 1000 ||
        d->check_distance < 1 || d->check_distance > d->max_prediction ||
        (d->checksum_interval != ROLLNET_CHECKSUMS_OFF &&
         (d->checksum_interval < 1 || d->checksum_interval > 65535)) ||
        d->ledger_capacity < 1 || (unsigned)d->prediction > ROLLNET_PREDICT_NEUTRAL ||
        d->snapshot_capacity < 16) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    for (int p = 0; p < d->num_players; p++) {
        if (d->players[p].kind != ROLLNET_PLAYER_LOCAL &&
            d->players[p].kind != ROLLNET_PLAYER_REMOTE) {
            return ROLLNET_ERR_INVALID_ARGUMENT;
        }
    }
    return ROLLNET_ERR_OK;
}

rollnet_error rn_session_create(const rollnet_session_desc *desc, uint64_t nonce,
                                rollnet_session **out)
{
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!desc) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    rollnet_allocator alloc;
    rn_allocator_resolve(&desc->allocator, &alloc);
    rollnet_session_desc d;
    rollnet_error err = resolve_desc(desc, &d);
    if (err != ROLLNET_ERR_OK) {
        rollnet_transport transport = desc->transport;
        rollnet_transport_destroy(&transport);
        return err;
    }
    if (d.kind == ROLLNET_SESSION_SYNCTEST) {
        return rn_synctest_create(&d, &alloc, out);
    }
    return rn_p2p_create(&d, &alloc, nonce, out);
}

void rollnet_session_destroy(rollnet_session *s)
{
    if (s) {
        s->ops->destroy(s);
    }
}

rollnet_error rollnet_session_poll(rollnet_session *s, uint64_t now_ms)
{
    if (!s) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (now_ms > s->now) {
        s->now = now_ms;
    }
    return s->ops->poll(s);
}

rollnet_error rollnet_session_add_local_input(rollnet_session *s, int player, const void *input,
                                              size_t size)
{
    if (!s || !input) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    return rn_frame_add_local_input(s, player, input, size);
}

rollnet_error rollnet_session_advance(rollnet_session *s, const rollnet_request **requests,
                                      int *count)
{
    if (!s || !requests || !count) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *requests = NULL;
    *count = 0;
    return rn_frame_advance(s, requests, count);
}

rollnet_writer *rollnet_session_save_begin(rollnet_session *s, const rollnet_request *req)
{
    return s ? rn_frame_save_begin(s, req) : NULL;
}

rollnet_error rollnet_session_save_end(rollnet_session *s, const rollnet_request *req)
{
    return s ? rn_frame_save_end(s, req) : ROLLNET_ERR_INVALID_ARGUMENT;
}

rollnet_reader *rollnet_session_load_begin(rollnet_session *s, const rollnet_request *req)
{
    return s ? rn_sync_load_begin(&s->sync, req) : NULL;
}

rollnet_error rollnet_session_load_end(rollnet_session *s, const rollnet_request *req)
{
    return s ? rn_frame_load_end(s, req) : ROLLNET_ERR_INVALID_ARGUMENT;
}

rollnet_writer *rollnet_session_record_begin(rollnet_session *s, const rollnet_request *req)
{
    return s ? rn_frame_record_begin(s, req) : NULL;
}

rollnet_error rollnet_session_advance_end(rollnet_session *s, const rollnet_request *req,
                                          uint32_t step_flags)
{
    return s ? rn_frame_advance_end(s, req, step_flags) : ROLLNET_ERR_INVALID_ARGUMENT;
}

bool rollnet_session_next_event(rollnet_session *s, rollnet_event *out)
{
    return s && out && rn_events_next(&s->events, out);
}

bool rollnet_session_next_record(rollnet_session *s, rollnet_record *out)
{
    return s && out && rn_frame_next_record(s, out);
}

static rollnet_error set_loading(rollnet_session *s, bool loading, uint64_t now_ms)
{
    if (!s) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (s->desc.kind != ROLLNET_SESSION_P2P) {
        return ROLLNET_ERR_WRONG_SESSION_KIND;
    }
    if (now_ms > s->now) {
        s->now = now_ms;
    }
    return s->ops->set_loading(s, loading);
}

rollnet_error rollnet_session_begin_loading(rollnet_session *s, uint64_t now_ms)
{
    return set_loading(s, true, now_ms);
}

rollnet_error rollnet_session_end_loading(rollnet_session *s, uint64_t now_ms)
{
    return set_loading(s, false, now_ms);
}

/* ------------------------------------------------------------------------ */
/* Inspection                                                                 */
/* ------------------------------------------------------------------------ */

rollnet_error rollnet_session_stats_get(const rollnet_session *s, rollnet_session_stats *out)
{
    if (!s || !out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof(*out));
    out->frame = s->sync.frame;
    out->confirmed_frame = rn_confirmed_frame(&s->sync);
    out->episode = s->ledger.episode;
    out->rollbacks = s->sync.rollbacks;
    out->frames_resimulated = s->sync.frames_resimulated;
    out->max_rollback_depth = s->sync.max_depth;
    out->stalls = s->stalls;
    out->events_dropped = s->events.dropped;
    out->records_promoted = s->ledger.promoted;
    out->running = s->running && s->failed == ROLLNET_ERR_OK;
    s->ops->stats(s, out);
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_session_peer_stats(const rollnet_session *s, int player,
                                         rollnet_peer_stats *out)
{
    if (!s || !out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    return s->ops->peer_stats(s, player, out);
}

rollnet_error rollnet_session_desync_info(const rollnet_session *s, rollnet_desync_info *out)
{
    if (!s || !out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    return s->ops->desync(s, out) ? ROLLNET_ERR_OK : ROLLNET_ERR_NO_SNAPSHOT;
}

/* Print a stored snapshot as text. The zone is the session's reader zone,
 * owned by an open LOAD while there is one; dumping happens between frames. */
static rollnet_error dump(const rollnet_session *s, const uint8_t *data, size_t size, char *buf,
                          size_t cap)
{
    if (!data) {
        buf[0] = '\0';
        return ROLLNET_ERR_NO_SNAPSHOT;
    }
    if (s->sync.reading) {
        buf[0] = '\0';
        return ROLLNET_ERR_REQUESTS_PENDING;
    }
    msgpack_zone *zone = (msgpack_zone *)&s->sync.zone;
    return rn_snapshot_dump(zone, data, size, buf, cap);
}

rollnet_error rollnet_session_desync_dump(const rollnet_session *s, int which, char *buf,
                                          size_t cap)
{
    if (!s || !buf || cap == 0 || which < 0 || which > 1) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    bool found = s->sync.desync_found && s->sync.desync_copy[which];
    return dump(s, found ? s->sync.desync_copy[which] : NULL, s->sync.desync_size[which], buf, cap);
}

rollnet_error rollnet_session_snapshot_dump(const rollnet_session *s, int32_t frame, char *buf,
                                            size_t cap)
{
    if (!s || !buf || cap == 0) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    const rn_snapshot_slot *slot = rn_sync_find_snapshot(&s->sync, frame);
    return dump(s, slot ? slot->buf : NULL, slot ? slot->size : 0, buf, cap);
}

rollnet_error rollnet_session_snapshot_checksum(const rollnet_session *s, int32_t frame,
                                                uint64_t *out)
{
    if (!s || !out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    bool found = false;
    /* Hashing on demand fills a cache inside the session: logically const. */
    *out = rn_sync_checksum((rn_sync *)&s->sync, frame, &found);
    return found ? ROLLNET_ERR_OK : ROLLNET_ERR_NO_SNAPSHOT;
}
