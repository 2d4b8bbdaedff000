#include <string.h>

#include "confirm.h"
#include "episode.h"

void rn_episodes_init(rn_episodes *e, uint32_t timeout_ms)
{
    memset(e, 0, sizeof(*e));
    e->timeout_ms = timeout_ms;
    e->barrier_frame = -1;
    e->released_end = -1;
    e->last_end = -1;
}

void rn_episodes_promote(rn_episodes *e, rn_ledger *l, const rn_sync *s, rn_events *ev)
{
    rn_promote_guard g = rn_confirm_guard(s);
    for (;;) {
        int32_t before = l->episode;
        g.limit_frame = rn_ledger_pending_episode_end(l);
        if (rn_ledger_promote(l, &g) == 0 || l->episode == before) {
            return;
        }
        /* The episode's last record went to the confirmed ledger. */
        int32_t end = l->episode_start - 1;
        rollnet_event done = rn_event_make(ROLLNET_EVENT_EPISODE_COMPLETE, -1);
        done.u.episode.episode = before;
        done.u.episode.end_frame = end;
        rn_events_push(ev, &done);
        if (end > e->released_end) {
            e->released_end = end;
        }
        e->completed = l->episode;
        e->last_end = end;
        if (!e->validated_reset) {
            /* Games whose state exists only after a reset are checked again now. */
            e->validated_reset = true;
            e->validate_next = true;
        }
    }
}

void rn_episodes_update_barrier(rn_episodes *e, rn_ledger *l, const rn_sync *s, rn_events *ev,
                                uint64_t now)
{
    rn_episodes_promote(e, l, s, ev);
    int32_t end = rn_episodes_barrier_end(e, l, s->frame);
    if (end < 0) {
        e->barrier_frame = -1;
        return;
    }
    if (e->barrier_frame != end) {
        e->barrier_frame = end;
        e->barrier_since = now;
    } else if (now - e->barrier_since >= e->timeout_ms) {
        /* Play goes on; records still promote only when confirmed. */
        rollnet_event out = rn_event_make(ROLLNET_EVENT_EPISODE_TIMEOUT, -1);
        out.u.episode.episode = l->episode;
        out.u.episode.end_frame = end;
        rn_events_push(ev, &out);
        rn_log(ev, ROLLNET_LOG_WARN, "episode boundary wait timed out");
        e->released_end = end;
        e->barrier_frame = -1;
    }
}

bool rn_episodes_take_validation(rn_episodes *e)
{
    if (!e->validate_next) {
        return false;
    }
    e->validate_next = false;
    return true;
}
