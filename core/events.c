#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "events.h"

void rn_events_init(rn_events *q, const rollnet_logger *logger)
{
    memset(q, 0, sizeof(*q));
    if (logger) {
        q->logger = *logger;
    }
}

rollnet_event rn_event_make(rollnet_event_type type, int player)
{
    rollnet_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.player = player;
    return ev;
}

/* Droppable events are advice or progress: a later one of the same kind
 * supersedes them, and the state they report can be read back at any time
 * (peer stats: synchronized, interrupted, loading; session stats:
 * recommended_wait; advance's result: a stall). The others are milestones no
 * call reports again, and most end or define the session: a peer in
 * (SYNCHRONIZED), play starting (RUNNING), a peer gone or refused, a desync,
 * an episode confirmed or given up on, peers disagreeing on episode ends. No
 * default: a new event type must be placed here. */
bool rn_event_droppable(rollnet_event_type type)
{
    switch (type) {
    case ROLLNET_EVENT_SYNCHRONIZING:
    case ROLLNET_EVENT_INTERRUPTED:
    case ROLLNET_EVENT_RESUMED:
    case ROLLNET_EVENT_WAIT_RECOMMENDED:
    case ROLLNET_EVENT_STALLED:
    case ROLLNET_EVENT_STALL_ENDED:
    case ROLLNET_EVENT_LOADING:
    case ROLLNET_EVENT_LOADING_ENDED:
    case ROLLNET_EVENT_CONNECTING:
    case ROLLNET_EVENT_WAITING:
    case ROLLNET_EVENT_PEER_BUSY:
    case ROLLNET_EVENT_RECONNECTING:
        return true;
    case ROLLNET_EVENT_SYNCHRONIZED:
    case ROLLNET_EVENT_RUNNING:
    case ROLLNET_EVENT_REJOINED:
    case ROLLNET_EVENT_DISCONNECTED:
    case ROLLNET_EVENT_REFUSED:
    case ROLLNET_EVENT_DESYNC:
    case ROLLNET_EVENT_EPISODE_COMPLETE:
    case ROLLNET_EVENT_EPISODE_TIMEOUT:
    case ROLLNET_EVENT_EPISODE_MISMATCH:
    case ROLLNET_EVENT_FINISHING:
    case ROLLNET_EVENT_FINISHED:
    case ROLLNET_EVENT_LEFT:
        return false;
    }
    return false;
}

/* `later` says nothing `earlier` did not: a desync of the same player (the
 * first one is what the game acts on; the peers stay diverged), or the same
 * event again (a stranger refused or closing twice the same way). Compared
 * field by field: payload padding is not guaranteed to be zero. */
static bool rn_event_repeats(const rollnet_event *earlier, const rollnet_event *later)
{
    if (earlier->type != later->type || earlier->player != later->player) {
        return false;
    }
    switch (later->type) {
    case ROLLNET_EVENT_DESYNC:
    case ROLLNET_EVENT_SYNCHRONIZED:
    case ROLLNET_EVENT_RUNNING:
    case ROLLNET_EVENT_LEFT:
        return true;
    case ROLLNET_EVENT_DISCONNECTED:
        return earlier->u.disconnected.reason == later->u.disconnected.reason &&
               earlier->u.disconnected.frame == later->u.disconnected.frame;
    case ROLLNET_EVENT_REFUSED:
        return earlier->u.refused.param == later->u.refused.param &&
               earlier->u.refused.local_value == later->u.refused.local_value &&
               earlier->u.refused.remote_value == later->u.refused.remote_value &&
               strcmp(earlier->u.refused.key, later->u.refused.key) == 0;
    case ROLLNET_EVENT_EPISODE_COMPLETE:
    case ROLLNET_EVENT_EPISODE_TIMEOUT:
    case ROLLNET_EVENT_EPISODE_MISMATCH:
        return earlier->u.episode.episode == later->u.episode.episode &&
               earlier->u.episode.end_frame == later->u.episode.end_frame;
    case ROLLNET_EVENT_FINISHING:
    case ROLLNET_EVENT_FINISHED:
        return earlier->u.finish.end_frame == later->u.finish.end_frame;
    default:
        return false; /* droppable kinds never get this far */
    }
}

static rollnet_event *rn_events_at(rn_events *q, int i)
{
    return &q->ring[(q->head + i) % RN_EVENT_CAP];
}

/* Remove the i-th oldest entry, keeping the order of the others; the gap is
 * closed from the nearer end. */
static void rn_events_remove(rn_events *q, int i)
{
    if (i < q->count / 2) {
        for (int k = i; k > 0; k--) {
            *rn_events_at(q, k) = *rn_events_at(q, k - 1);
        }
        q->head = (q->head + 1) % RN_EVENT_CAP;
    } else {
        for (int k = i; k + 1 < q->count; k++) {
            *rn_events_at(q, k) = *rn_events_at(q, k + 1);
        }
    }
    q->count--;
}

/* The entry a full queue gives up for `ev`, or -1 to give up `ev` itself:
 *   1. the oldest droppable entry;
 *   2. else `ev` if it is droppable (everything queued is important);
 *   3. else `ev` if it repeats an entry, or the newest entry repeating an
 *      older one (nothing is lost either way);
 *   4. else the oldest EPISODE_COMPLETE, `ev` included: the confirmed
 *      records carry the same episode ends (rollnet_record.episode_end,
 *      and stats.episode counts them);
 *   5. else the oldest entry.
 * Only 4 and 5 lose news, and only when RN_EVENT_CAP important events, no
 * two alike, wait unread. Step 3 bounds what the network can repeat: DESYNC
 * to one per player (and one of the sync test), SYNCHRONIZED and RUNNING to
 * one per player, identical refusals, closes and episode mismatches to one
 * each. So for any important event but EPISODE_COMPLETE to be lost, the game
 * must leave some 256 EPISODE_TIMEOUTs unread (one per timed-out episode
 * boundary), or as many handshakes refused with different values; an unread
 * stream of EPISODE_COMPLETEs alone never displaces them. */
static int rn_events_victim(rn_events *q, const rollnet_event *ev, bool *lost)
{
    *lost = false;
    for (int i = 0; i < q->count; i++) {
        if (rn_event_droppable(rn_events_at(q, i)->type)) {
            return i;
        }
    }
    if (rn_event_droppable(ev->type)) {
        return -1;
    }
    for (int i = 0; i < q->count; i++) {
        if (rn_event_repeats(rn_events_at(q, i), ev)) {
            return -1;
        }
    }
    /* Quadratic, but only while RN_EVENT_CAP important events wait. */
    for (int i = q->count - 1; i > 0; i--) {
        for (int j = 0; j < i; j++) {
            if (rn_event_repeats(rn_events_at(q, j), rn_events_at(q, i))) {
                return i;
            }
        }
    }
    *lost = true;
    for (int i = 0; i < q->count; i++) {
        if (rn_events_at(q, i)->type == ROLLNET_EVENT_EPISODE_COMPLETE) {
            return i;
        }
    }
    return ev->type == ROLLNET_EVENT_EPISODE_COMPLETE ? -1 : 0;
}

void rn_events_push(rn_events *q, const rollnet_event *ev)
{
    if (q->count == RN_EVENT_CAP) {
        bool lost;
        int victim = rn_events_victim(q, ev, &lost);
        q->dropped++;
        if (lost) {
            q->dropped_important++;
            rn_logf(q, ROLLNET_LOG_ERROR,
                    "event queue full of events that must not be lost: dropped one of type %d"
                    " (poll rollnet_session_next_event more often)",
                    (int)(victim < 0 ? ev->type : rn_events_at(q, victim)->type));
        }
        if (victim < 0) {
            return;
        }
        rn_events_remove(q, victim);
    }
    q->ring[(q->head + q->count) % RN_EVENT_CAP] = *ev;
    q->count++;
}

void rn_events_simple(rn_events *q, rollnet_event_type type, int player)
{
    rollnet_event ev = rn_event_make(type, player);
    rn_events_push(q, &ev);
}

bool rn_events_next(rn_events *q, rollnet_event *out)
{
    if (q->count == 0) {
        return false;
    }
    *out = q->ring[q->head];
    q->head = (q->head + 1) % RN_EVENT_CAP;
    q->count--;
    return true;
}

void rn_log(const rn_events *q, rollnet_log_level level, const char *msg)
{
    if (q->logger.log) {
        q->logger.log(level, msg, q->logger.user_data);
    }
}

void rn_logf(const rn_events *q, rollnet_log_level level, const char *fmt, ...)
{
    if (!q->logger.log) {
        return;
    }
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    q->logger.log(level, buf, q->logger.user_data);
}
