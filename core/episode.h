/* Episodes: promotion in episode order, the barrier at an episode's end,
 * and the bookkeeping that follows a completed episode. Internal.
 *
 * The game flags an episode's last frame on advance_end. Play stops at that
 * frame (the barrier) until every input up to it is confirmed and its
 * records are promoted, or until episode_timeout_ms passes. Promotion stops
 * at each episode end so that the episode's completion is recorded (event,
 * counters, the check after the first reset) before the next episode's
 * records move, whichever path promoted. */
#ifndef RN_EPISODE_H
#define RN_EPISODE_H

#include "events.h"
#include "ledger.h"
#include "sync.h"

typedef struct rn_episodes {
    uint32_t timeout_ms;
    int32_t barrier_frame;   /* episode end being waited for, or -1 */
    uint64_t barrier_since;
    int32_t released_end;    /* last episode end the barrier let pass, -1 */
    int32_t completed;       /* episodes completed (promoted to their end) */
    int32_t last_end;        /* the frame that ended the last completed episode, -1 */
    bool validated_reset;    /* the check after the first episode reset was asked for */
    bool validate_next;      /* ... and is still to be carried out */
} rn_episodes;

void rn_episodes_init(rn_episodes *e, uint32_t timeout_ms);
/* Promote every record the guard allows (the only caller of
 * rn_ledger_promote), raising EPISODE_COMPLETE at each episode end. */
void rn_episodes_promote(rn_episodes *e, rn_ledger *l, const rn_sync *s, rn_events *ev);
/* The episode end that play must wait at before running `next_frame`, or -1. */
static inline int32_t rn_episodes_barrier_end(const rn_episodes *e, rn_ledger *l,
                                              int32_t next_frame)
{
    int32_t end = rn_ledger_pending_episode_end(l);
    return end < 0 || end >= next_frame || end <= e->released_end ? -1 : end;
}
/* Promote, then start, keep or time out the barrier wait. */
void rn_episodes_update_barrier(rn_episodes *e, rn_ledger *l, const rn_sync *s, rn_events *ev,
                                uint64_t now);
/* True once after the first episode completed: the game's state is checked
 * again (save, load, save) at the next request list. */
bool rn_episodes_take_validation(rn_episodes *e);

#endif
