/* A session's side of a state transfer (state_transfer.h): which confirmed
 * state this session can give away now, and a session that starts from a
 * received one. Shared by the P2P host of a late spectator, the P2P peer
 * that keeps a crashed peer's place (p2p_rejoin.c), and the sessions that
 * receive: the spectator and the rejoining peer. */
#include "confirm.h"
#include "session.h"
#include "state_transfer.h"

const rn_snapshot_slot *rn_state_here(const rollnet_session *s, rn_state_info *info)
{
    const rn_sync *sy = &s->sync;
    if (rn_sync_requests_pending(sy) || rn_sync_first_incorrect(sy) >= 0) {
        return NULL; /* a rollback under way: no snapshot is final */
    }
    if (s->ledger_used) {
        info->frame = s->ledger.next_promote;
        info->episode = s->ledger.episode;
        info->episode_start = s->ledger.episode_start;
    } else {
        info->frame = rn_confirmed_frame(sy) + 1;
        info->episode = 0;
        info->episode_start = 0;
    }
    if (info->frame > rn_confirmed_frame(sy) + 1) {
        return NULL;
    }
    return rn_sync_find_snapshot(sy, info->frame);
}

rollnet_error rn_state_start(rollnet_session *s, const rn_state_info *info, const uint8_t *data,
                             size_t size)
{
    rollnet_error err = rn_sync_preload_at(&s->sync, info->frame, data, size);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    rn_ledger_resume_at(&s->ledger, info->frame, info->episode, info->episode_start);
    s->episodes.completed = info->episode;
    s->episodes.last_end = info->episode > 0 ? info->episode_start - 1 : -1;
    s->episodes.released_end = s->episodes.last_end;
    s->episodes.validated_reset = info->episode > 0;
    return ROLLNET_ERR_OK;
}
