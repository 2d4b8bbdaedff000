/* The sync test: every player local, and every frame rolled back
 * check_distance frames and replayed, with the replay's snapshots compared
 * byte for byte with the straight run's (rn_sync keeps both copies of the
 * first mismatch for the desync dump). GGPO's best determinism tool. */
#include <stdio.h>

#include "confirm.h"
#include "session.h"

static void st_destroy(rollnet_session *s)
{
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
};

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
    rollnet_error err = rn_frame_init(&s, sizeof(*s), d, a);
    if (s) {
        s->ops = &synctest_ops;
        s->running = true;
    }
    if (err != ROLLNET_ERR_OK) {
        if (s) {
            rn_frame_free(s);
        }
        return err;
    }
    *out = s;
    return ROLLNET_ERR_OK;
}
