#include <string.h>

#include "timesync.h"

void rn_timesync_init(rn_timesync *t)
{
    memset(t, 0, sizeof(*t));
}

void rn_timesync_sample(rn_timesync *t, int32_t local_advantage, int32_t remote_advantage)
{
    if (t->count == RN_TIMESYNC_WINDOW) {
        t->local_sum -= t->local[t->next];
        t->remote_sum -= t->remote[t->next];
    }
    t->local_sum += local_advantage;
    t->remote_sum += remote_advantage;
    t->local[t->next] = local_advantage;
    t->remote[t->next] = remote_advantage;
    t->next = (t->next + 1) % RN_TIMESYNC_WINDOW;
    if (t->count < RN_TIMESYNC_WINDOW) {
        t->count++;
    }
}

int rn_timesync_recommend(const rn_timesync *t)
{
    if (t->count < RN_TIMESYNC_WINDOW / 2) {
        return 0;
    }
    int64_t l = t->local_sum, r = t->remote_sum;
    /* Positive local advantage: the remote is ahead of us. When we run
     * ahead, our figure is negative and the remote's positive; waiting half
     * the difference meets in the middle.
     *
     * Rounding: with d = (r - l) / (2 * count) exactly, wait = d + 1/2
     * truncated toward zero, i.e. (r - l + count) / (2 * count) in C's
     * integer division; the tenths lose nothing (both divisions truncate
     * toward zero and the +5 is added in between). For d >= 0 that is
     * round half up (2.4 -> 2, 2.5 -> 3, 2.6 -> 3). For d < 0 it is not
     * rounding to nearest (-0.4 -> 0, -1.4 -> 0, -1.5 -> -1, -1.6 -> -1,
     * -2.0 -> -1, -2.5 -> -2), but any wait below RN_TIMESYNC_MIN_ADVANTAGE
     * returns 0, so only the d >= 0 rule shows: 0 while d < 1.5, else d
     * rounded half up, capped at RN_TIMESYNC_MAX_WAIT. */
    int64_t diff2 = (r - l) * 10 / (2 * t->count); /* tenths of frames */
    int wait = (int)((diff2 + 5) / 10);
    if (wait < RN_TIMESYNC_MIN_ADVANTAGE) {
        return 0;
    }
    return wait > RN_TIMESYNC_MAX_WAIT ? RN_TIMESYNC_MAX_WAIT : wait;
}

int32_t rn_timesync_local_advantage(int32_t local_frame, int32_t remote_frame, uint32_t rtt_ms,
                                    int fps)
{
    int32_t latency_frames = (int32_t)(((uint64_t)rtt_ms * (uint64_t)fps) / 2000u);
    return remote_frame + latency_frames - local_frame;
}
