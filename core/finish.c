/* Finishing a session (rollnet_session_finish). Each peer stops where it is
 * and adds no more inputs, and tells the others (FINISH) where it stopped and
 * where its players' inputs end. The session ends at
 *
 *     end = min(largest stop, smallest inputs end)
 *
 * so every input of every frame before it exists (each peer may have to run
 * on a few frames, up to `end`, on the inputs it had already given), and no
 * peer can have promoted a frame at or past it: promoting a frame takes every
 * player's input for it and having run it. So every peer's ledger ends at the
 * same frame. A peer is done when every frame before the end is confirmed
 * (and promoted, when the ledger is used) here; it says so (FINISH again,
 * done), and the session is FINISHED once every peer has said it. */
#include "bits.h"
#include "confirm.h"
#include "session.h"

/* The first frame without an input of a local player. */
static int32_t local_inputs_end(const rollnet_session *s)
{
    int32_t end = RN_IQ_CONFIRMED_FOREVER;
    for (int p = 0; p < s->desc.num_players; p++) {
        if (s->local_mask & (1u << p)) {
            int32_t next = s->sync.queues[p].last_confirmed + 1;
            end = next < end ? next : end;
        }
    }
    return end;
}

rollnet_error rn_finish_begin(rollnet_session *s)
{
    if (s->failed != ROLLNET_ERR_OK) {
        return s->failed;
    }
    if (!s->running) {
        return ROLLNET_ERR_NOT_RUNNING;
    }
    if (s->fin.active) {
        return ROLLNET_ERR_OK;
    }
    s->fin.active = true;
    s->fin.stop = s->sync.frame;
    s->fin.inputs_end = local_inputs_end(s);
    s->fin.end = s->fin.stop; /* no further until every peer has said where it stops */
    s->pending_mask = 0;
    rn_logf(&s->events, ROLLNET_LOG_INFO, "finishing: stopped before frame %d, inputs end before %d",
            s->fin.stop, s->fin.inputs_end);
    if (s->ops->finish_tell) {
        s->ops->finish_tell(s, false);
    }
    rn_finish_update(s);
    return ROLLNET_ERR_OK;
}

static bool heard(const rollnet_session *s, bool done, int32_t *max_stop, int32_t *min_inputs)
{
    return !s->ops->finish_heard || s->ops->finish_heard(s, done, max_stop, min_inputs);
}

static void settle_end(rollnet_session *s)
{
    int32_t max_stop = s->fin.stop;
    int32_t min_inputs = s->fin.inputs_end;
    if (!heard(s, false, &max_stop, &min_inputs)) {
        return;
    }
    s->fin.end_known = true;
    s->fin.end = max_stop < min_inputs ? max_stop : min_inputs;
    s->sync.end_frame = s->fin.end;
    s->dirty = true;
    rn_logf(&s->events, ROLLNET_LOG_INFO, "finishing: the session ends before frame %d",
            s->fin.end);
}

/* Every frame before the end has run, is confirmed and, when the game keeps
 * a ledger, promoted; no rollback waits. */
static bool complete_here(const rollnet_session *s)
{
    int32_t end = s->fin.end;
    return s->sync.frame >= end && rn_confirmed_frame(&s->sync) >= end - 1 &&
           !rn_rollback_pending(&s->sync) && !rn_sync_requests_pending(&s->sync) &&
           (!s->ledger_used || s->ledger.next_promote >= end);
}

void rn_finish_update(rollnet_session *s)
{
    if (!s->fin.active || s->fin.finished || s->failed != ROLLNET_ERR_OK) {
        return;
    }
    if (!s->fin.end_known) {
        settle_end(s);
        if (!s->fin.end_known) {
            return;
        }
    }
    if (!s->fin.done_local) {
        if (!complete_here(s)) {
            return;
        }
        s->fin.done_local = true;
        rn_logf(&s->events, ROLLNET_LOG_INFO,
                "finishing: every frame before %d is confirmed here", s->fin.end);
        if (s->ops->finish_tell) {
            s->ops->finish_tell(s, true);
        }
    }
    int32_t unused_stop = 0, unused_inputs = 0;
    if (!heard(s, true, &unused_stop, &unused_inputs)) {
        return;
    }
    s->fin.finished = true;
    rn_logf(&s->events, ROLLNET_LOG_INFO, "finished: the session ends before frame %d",
            s->fin.end);
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_FINISHED, -1);
    ev.u.finish.end_frame = s->fin.end;
    rn_events_push(&s->events, &ev);
}
