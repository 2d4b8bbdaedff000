/* The sync test: every player local, and every frame rolled back
 * check_distance frames and replayed, with the replay's snapshots compared
 * byte for byte with the straight run's (rn_sync keeps both copies of the
 * first mismatch for the desync dump), and each replayed ADVANCE's step
 * flags and record compared with the straight run's (a ring of their
 * checksums, one entry per frame a rollback can reach). GGPO's best
 * determinism tool. */
#include <stdio.h>

#include "confirm.h"
#include "rn_alloc.h"
#include "session.h"

/* What the straight run's advance_end gave for one frame. */
typedef struct st_step {
    int32_t frame; /* -1 when empty */
    uint32_t flags;
    bool implicit; /* ended by save_begin, not by advance_end */
    size_t size;   /* record bytes */
    uint64_t hash; /* rollnet_checksum of the record */
} st_step;

typedef struct rn_synctest {
    rollnet_session base; /* first: a rollnet_session * points here */
    st_step *steps;       /* check_distance + 1 entries, frame % num_steps */
    int num_steps;
    /* The first desync, when an ADVANCE found it before any SAVE did. */
    bool step_desync;
    rollnet_desync_info step_info;
} rn_synctest;

static void st_destroy(rollnet_session *s)
{
    rn_synctest *t = (rn_synctest *)s;
    rn_free(&s->alloc, t->steps);
    rn_frame_free(s);
}

static rollnet_error st_poll(rollnet_session *s)
{
    rn_frame_confirm(s);
    return s->failed;
}

static void st_frame_queued(rollnet_session *s, rn_sync_plan *plan)
{
    int d = s->desc.check_distance;
    plan->force_rollback = s->desc.check_distance_rotate ? 1 + (int)(s->sync.frame % d) : d;
}

static void st_confirmed(rollnet_session *s)
{
    int32_t keep = rn_confirmed_frame(&s->sync);
    if (keep > 0) {
        rn_sync_discard_inputs_before(&s->sync, keep);
    }
}

static rollnet_error st_set_loading(rollnet_session *s, bool loading)
{
    (void)s;
    (void)loading;
    return ROLLNET_ERR_WRONG_SESSION_KIND;
}

static rollnet_error st_peer_stats(const rollnet_session *s, int player, rollnet_peer_stats *out)
{
    (void)s;
    (void)player;
    (void)out;
    return ROLLNET_ERR_WRONG_SESSION_KIND;
}

static bool st_desync(const rollnet_session *s, rollnet_desync_info *out)
{
    const rn_synctest *t = (const rn_synctest *)s;
    if (t->step_desync) {
        *out = t->step_info;
        return true;
    }
    if (!s->sync.desync_found) {
        return false;
    }
    out->frame = s->sync.desync_frame;
    out->first_checksum = s->sync.desync_first;
    out->second_checksum = s->sync.desync_second;
    return true;
}

static void st_stats(const rollnet_session *s, rollnet_session_stats *out)
{
    (void)s;
    (void)out; /* nothing of its own: no network, no time sync */
}

/* The checksum a step desync reports: the record's, with the flags mixed in
 * so that a difference in the flags alone shows too. */
static uint64_t step_checksum(const st_step *st)
{
    return st->hash ^ ((uint64_t)st->flags * 0x9E3779B97F4A7C15ull);
}

/* Say what differs between the straight run `a` and the replay `b`. */
static void describe_step_diff(const st_step *a, const st_step *b, char *buf, size_t cap)
{
    int n = 0;
    uint32_t end = ROLLNET_STEP_EPISODE_END;
    if ((a->flags ^ b->flags) & end) {
        n = snprintf(buf, cap, "the episode-end flag was set in the %s, not in the %s",
                     (a->flags & end) ? "straight run" : "replay",
                     (a->flags & end) ? "replay" : "straight run");
    } else if (a->flags != b->flags) {
        n = snprintf(buf, cap, "step flags 0x%x in the straight run, 0x%x in the replay",
                     (unsigned)a->flags, (unsigned)b->flags);
    } else if (a->size != b->size) {
        n = snprintf(buf, cap,
                     "the record differs: %zu bytes in the straight run, %zu in the replay",
                     a->size, b->size);
    } else {
        n = snprintf(buf, cap, "the record differs (%zu bytes in both, other content)", a->size);
    }
    if ((a->implicit || b->implicit) && n >= 0 && (size_t)n < cap) {
        snprintf(buf + n, cap - (size_t)n,
                 "; advance_end was not called for the %s (save_begin ended it with no flags)",
                 a->implicit && b->implicit ? "straight run and the replay"
                 : a->implicit              ? "straight run"
                                            : "replay");
    }
}

static rollnet_error st_advance_ended(rollnet_session *s, const rollnet_request *req,
                                      uint32_t step_flags, const uint8_t *record, size_t size,
                                      bool implicit)
{
    rn_synctest *t = (rn_synctest *)s;
    st_step now = {
        .frame = req->frame,
        .flags = step_flags,
        .implicit = implicit,
        .size = record ? size : 0,
        .hash = rollnet_checksum(record, record ? size : 0),
    };
    st_step *straight = &t->steps[req->frame % t->num_steps];
    if (!(req->flags & ROLLNET_REQUEST_REPLAY)) {
        *straight = now;
        return ROLLNET_ERR_OK;
    }
    if (straight->frame != req->frame || (straight->flags == now.flags &&
                                          straight->size == now.size &&
                                          straight->hash == now.hash)) {
        return ROLLNET_ERR_OK; /* equal, or the straight run had no ledger yet */
    }
    char what[256];
    describe_step_diff(straight, &now, what, sizeof(what));
    rn_logf(&s->events, ROLLNET_LOG_ERROR,
            "sync test: the replay of frame %d differs from the straight run: %s", req->frame,
            what);
    if (!t->step_desync && !s->sync.desync_found) {
        t->step_desync = true;
        t->step_info.frame = req->frame;
        t->step_info.first_checksum = step_checksum(straight);
        t->step_info.second_checksum = step_checksum(&now);
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_DESYNC, -1);
        ev.u.desync.frame = req->frame;
        ev.u.desync.local_checksum = t->step_info.first_checksum;
        ev.u.desync.remote_checksum = t->step_info.second_checksum;
        rn_events_push(&s->events, &ev);
    }
    return ROLLNET_ERR_DESYNC;
}

static const rn_session_ops synctest_ops = {
    .destroy = st_destroy,
    .poll = st_poll,
    .frame_queued = st_frame_queued,
    .rollback_planned = NULL,
    .confirmed = st_confirmed,
    .set_loading = st_set_loading,
    .peer_stats = st_peer_stats,
    .desync = st_desync,
    .stats = st_stats,
    .advance_ended = st_advance_ended,
};

/* A rollback reaches back check_distance frames: the straight run of each
 * of them is still needed, plus the frame being run. */
static rollnet_error steps_init(rn_synctest *t)
{
    t->num_steps = t->base.desc.check_distance + 1;
    t->steps = rn_calloc(&t->base.alloc, (size_t)t->num_steps, sizeof(*t->steps));
    if (!t->steps) {
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    for (int i = 0; i < t->num_steps; i++) {
        t->steps[i].frame = -1;
    }
    return ROLLNET_ERR_OK;
}

rollnet_error rn_synctest_create(const rollnet_session_desc *d, const rollnet_allocator *a,
                                 rollnet_session **out)
{
    /* Nothing to send: the transport, if any, is not needed. */
    rollnet_transport unused = d->transport;
    rollnet_transport_destroy(&unused);
    for (int p = 0; p < d->num_players; p++) {
        if (d->players[p].kind != ROLLNET_PLAYER_LOCAL) {
            char field[32];
            snprintf(field, sizeof(field), "players[%d].kind", p);
            return rn_desc_error(d, field, (long long)d->players[p].kind,
                                 "a sync test has no remote players: every player is local");
        }
    }
    rollnet_session *s = NULL;
    rollnet_error err = rn_frame_init(&s, sizeof(rn_synctest), d, a);
    if (s) {
        s->ops = &synctest_ops;
        s->running = true;
    }
    if (err == ROLLNET_ERR_OK) {
        err = steps_init((rn_synctest *)s);
    }
    if (err != ROLLNET_ERR_OK) {
        if (s) {
            st_destroy(s);
        }
        return err;
    }
    *out = s;
    return ROLLNET_ERR_OK;
}
