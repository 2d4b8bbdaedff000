/* The public session calls: argument checks, then the shared frame code
 * (frame.c) or the kind's own implementation (rn_session_ops). */
#include <stdio.h>
#include <string.h>

#include "confirm.h"
#include "game_params.h"
#include "rn_alloc.h"
#include "replay.h"
#include "session.h"

rollnet_error rn_desc_error(const rollnet_session_desc *d, const char *field, long long value,
                              const char *rule)
{
    if (d->logger.log) {
        char msg[200];
        snprintf(msg, sizeof(msg), "desc.%s = %lld: %s", field, value, rule);
        d->logger.log(ROLLNET_LOG_ERROR, msg, d->logger.user_data);
    }
    return ROLLNET_ERR_INVALID_DESC;
}

/* Zero means "the documented default" (rollnet.h). */
static void apply_defaults(rollnet_session_desc *d)
{
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
    RN_DEFAULT(handshake_timeout_ms, ROLLNET_WAIT_FOREVER);
    RN_DEFAULT(join_timeout_ms, 60000);
    RN_DEFAULT(notify_timeout_ms, 750);
    RN_DEFAULT(disconnect_timeout_ms, 5000);
    RN_DEFAULT(reconnect_timeout_ms, 30000);
    RN_DEFAULT(rejoin_timeout_ms, 60000);
    RN_DEFAULT(loading_grace_ms, 60000);
    RN_DEFAULT(busy_timeout_ms, 60000);
    RN_DEFAULT(episode_timeout_ms, 5000);
    RN_DEFAULT(snapshot_capacity, 65536);
    RN_DEFAULT(record_capacity, 1024);
    RN_DEFAULT(ledger_capacity, 4096);
    RN_DEFAULT(max_spectators, 16);
    if (d->max_spectators == ROLLNET_NO_SPECTATORS) {
        d->max_spectators = 0; /* resolved: 0 means none from here on */
    }
#undef RN_DEFAULT
}

/* A session key needs libsodium, and bytes to be made from. */
static rollnet_error check_session_key(const rollnet_session_desc *d)
{
    if (!d->session_key && d->session_key_size == 0) {
        return ROLLNET_ERR_OK;
    }
    if (!ROLLNET_HAVE_SESSION_KEY) {
        if (d->logger.log) {
            d->logger.log(ROLLNET_LOG_ERROR,
                          "session_key: this rollnet was built without libsodium (meson "
                          "feature session_key): it cannot hold a private session",
                          d->logger.user_data);
        }
        return ROLLNET_ERR_INVALID_DESC;
    }
    if (!d->session_key) {
        return rn_desc_error(d, "session_key_size", (long long)d->session_key_size,
                             "session_key is NULL: set both, or neither for no key");
    }
    if (d->session_key_size == 0) {
        return rn_desc_error(d, "session_key_size", 0,
                             "a session_key needs at least one byte (NULL for no key)");
    }
    if (d->nonce != 0 && d->logger.log) {
        d->logger.log(ROLLNET_LOG_WARN,
                      "session_key with a fixed desc.nonce: a handshake recorded from a session "
                      "with the same nonce and key can be replayed; leave nonce 0",
                      d->logger.user_data);
    }
    return ROLLNET_ERR_OK;
}

/* Defaults, then the ranges both kinds share; the first field out of range
 * is named in the log with its value and the rule. */
static rollnet_error resolve_desc(const rollnet_session_desc *in, rollnet_session_desc *d)
{
    *d = *in;
    apply_defaults(d);
    const struct {
        const char *field;
        long long value, lo, hi;
        const char *rule;
    } ranges[] = {
        {"kind", (long long)d->kind, ROLLNET_SESSION_P2P, ROLLNET_SESSION_SPECTATOR,
         "must be a rollnet_session_kind"},
        {"num_players", d->num_players, 1, ROLLNET_MAX_PLAYERS,
         "must be 1..ROLLNET_MAX_PLAYERS (the max_players build option)"},
        {"input_size", d->input_size, 1, ROLLNET_MAX_INPUT_SIZE, "must be 1..ROLLNET_MAX_INPUT_SIZE"},
        {"input_delay", d->input_delay, 0, ROLLNET_MAX_INPUT_DELAY,
         "must be 0..ROLLNET_MAX_INPUT_DELAY"},
        {"max_prediction", d->max_prediction, 1, ROLLNET_MAX_PREDICTION,
         "must be 1..ROLLNET_MAX_PREDICTION (the max_prediction build option)"},
        {"fps", d->fps, 1, 1000, "must be 1..1000"},
        {"check_distance", d->check_distance, 1, d->max_prediction,
         "must be 1..max_prediction (a rollback cannot go further back)"},
        {"checksum_interval", d->checksum_interval,
         d->checksum_interval == ROLLNET_CHECKSUMS_OFF ? ROLLNET_CHECKSUMS_OFF : 1, 65535,
         "must be 1..65535, or ROLLNET_CHECKSUMS_OFF"},
        {"ledger_capacity", d->ledger_capacity, 1, 1 << 30, "must be at least 1"},
        {"prediction", (long long)d->prediction, ROLLNET_PREDICT_REPEAT_LAST,
         ROLLNET_PREDICT_NEUTRAL, "must be a rollnet_prediction"},
        {"snapshot_capacity", (long long)d->snapshot_capacity, 16, (long long)1 << 40,
         "must be at least 16 bytes"},
        {"max_spectators", d->max_spectators, 0, 64,
         "must be 1..64, or ROLLNET_NO_SPECTATORS (-1) for none"},
        {"absent_play", (long long)d->absent_play, ROLLNET_ABSENT_PAUSE, ROLLNET_ABSENT_NEUTRAL,
         "must be a rollnet_absent_play"},
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (ranges[i].value < ranges[i].lo || ranges[i].value > ranges[i].hi) {
            return rn_desc_error(d, ranges[i].field, ranges[i].value, ranges[i].rule);
        }
    }
    const char *why = rn_game_params_parse(d->game_params, d->game_params_size, NULL);
    if (why) {
        if (d->logger.log) {
            char msg[200];
            snprintf(msg, sizeof(msg),
                     "desc.game_params (%zu bytes) %s: it must be one msgpack map with string "
                     "keys of 1..31 bytes, each key once",
                     d->game_params_size, why);
            d->logger.log(ROLLNET_LOG_ERROR, msg, d->logger.user_data);
        }
        return ROLLNET_ERR_INVALID_DESC;
    }
    rollnet_error key = check_session_key(d);
    if (key != ROLLNET_ERR_OK) {
        return key;
    }
    for (int p = 0; p < d->num_players; p++) {
        if (d->players[p].kind != ROLLNET_PLAYER_LOCAL &&
            d->players[p].kind != ROLLNET_PLAYER_REMOTE) {
            char field[32];
            snprintf(field, sizeof(field), "players[%d].kind", p);
            return rn_desc_error(d, field, (long long)d->players[p].kind,
                            "must be ROLLNET_PLAYER_LOCAL or ROLLNET_PLAYER_REMOTE");
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
    if (d.kind == ROLLNET_SESSION_REPLAY) {
        rollnet_transport transport = desc->transport;
        rollnet_transport_destroy(&transport);
        return rn_desc_error(&d, "kind", (long long)d.kind,
                             "a replay session is made by rollnet_replay_session_create "
                             "(rollnet_replay.h), from a replay file");
    }
    if (d.kind == ROLLNET_SESSION_SPECTATOR) {
        return rn_spectator_create(&d, &alloc, nonce, out);
    }
    return rn_p2p_create(&d, &alloc, nonce, out);
}

rollnet_error rn_session_create_replay(const rollnet_session_desc *desc,
                                       const rn_replay_source *src, rollnet_session **out)
{
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!desc || !src || !src->read || desc->kind != ROLLNET_SESSION_REPLAY) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    rollnet_allocator alloc;
    rn_allocator_resolve(&desc->allocator, &alloc);
    rollnet_session_desc d;
    rollnet_error err = resolve_desc(desc, &d);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    return rn_replay_create(&d, &alloc, src, out);
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
    } else if (now_ms < s->now && !s->clock_warned) {
        /* Timers would otherwise count a negative time; time stands still. */
        s->clock_warned = true;
        rn_logf(&s->events, ROLLNET_LOG_WARN,
                "poll: the clock went back from %llu to %llu ms: pass a monotonic clock "
                "(later times before the newest are taken as the newest)",
                (unsigned long long)s->now, (unsigned long long)now_ms);
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

rollnet_error rollnet_session_set_input_delay(rollnet_session *s, int player, int frames)
{
    if (!s) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    return rn_frame_set_input_delay(s, player, frames);
}

rollnet_error rollnet_session_get_input_delay(const rollnet_session *s, int player, int *current,
                                              int *requested)
{
    if (current) {
        *current = 0;
    }
    if (requested) {
        *requested = 0;
    }
    if (!s) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    return rn_frame_get_input_delay(s, player, current, requested);
}

rollnet_error rollnet_session_advance(rollnet_session *s, const rollnet_request **requests,
                                      int *count)
{
    if (requests) {
        *requests = NULL;
    }
    if (count) {
        *count = 0;
    }
    if (!s || !requests || !count) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
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
    return s ? rn_frame_load_begin(s, req) : NULL;
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

rollnet_error rollnet_session_finish(rollnet_session *s)
{
    if (!s) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    return rn_finish_begin(s);
}

rollnet_error rollnet_session_leave(rollnet_session *s)
{
    if (!s) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (!s->ops->leave) {
        return ROLLNET_ERR_WRONG_SESSION_KIND;
    }
    if (s->failed != ROLLNET_ERR_OK) {
        return s->failed;
    }
    if (!s->running) {
        return ROLLNET_ERR_NOT_RUNNING;
    }
    return s->left ? ROLLNET_ERR_OK : s->ops->leave(s);
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
    out->advances_unended = s->advances_unended;
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
    return s->ops->desync(s, out) ? ROLLNET_ERR_OK : ROLLNET_ERR_NO_DESYNC;
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
    rollnet_desync_info info;
    if (!s->ops->desync(s, &info)) {
        buf[0] = '\0';
        return ROLLNET_ERR_NO_DESYNC;
    }
    /* Only a sync test keeps the two snapshots; a P2P desync has one here,
     * and a desync found in an ADVANCE (its record or flags) none. */
    bool kept = s->sync.desync_found && s->sync.desync_frame == info.frame &&
                s->sync.desync_first == info.first_checksum && s->sync.desync_copy[which];
    return dump(s, kept ? s->sync.desync_copy[which] : NULL, s->sync.desync_size[which], buf, cap);
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
