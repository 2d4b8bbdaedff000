/* Frame advantage against one remote peer, and how long to wait so that
 * neither peer keeps rolling back because the other runs ahead. Internal. */
#ifndef RN_TIMESYNC_H
#define RN_TIMESYNC_H

#include <stdint.h>

#define RN_TIMESYNC_WINDOW 32
#define RN_TIMESYNC_MIN_ADVANTAGE 2 /* frames of imbalance tolerated before waiting */
#define RN_TIMESYNC_MAX_WAIT 8      /* most frames recommended at once */

typedef struct rn_timesync {
    int32_t local[RN_TIMESYNC_WINDOW];  /* remote frame estimate - local frame */
    int32_t remote[RN_TIMESYNC_WINDOW]; /* the same as the remote reports it */
    int count;
    int next;
    int64_t local_sum, remote_sum; /* of the samples in the window */
} rn_timesync;

void rn_timesync_init(rn_timesync *t);
/* One sample per local frame: our advantage as measured here and the remote's latest report. */
void rn_timesync_sample(rn_timesync *t, int32_t local_advantage, int32_t remote_advantage);
/* Frames this peer should wait (0 when in balance). */
int rn_timesync_recommend(const rn_timesync *t);
/* Estimate of how far the remote runs ahead of us, in frames: remote's next
 * frame plus the one-way latency, minus our next frame. */
int32_t rn_timesync_local_advantage(int32_t local_frame, int32_t remote_frame, uint32_t rtt_ms,
                                    int fps);

#endif
