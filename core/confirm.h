/* Confirmation: which frames are final, their checksums, and desync
 * detection across peers. Internal.
 *
 * A frame is confirmed when every input of it is confirmed (rn_sync) and it
 * has been simulated. Its snapshot is final once no rollback is pending or
 * running; only then is it hashed, sent and compared (invariant 7). Local
 * and remote checksums are kept in rings of RN_CHECKSUM_RING entries indexed
 * by frame / interval: at interval 1 that covers any prediction window. */
#ifndef RN_CONFIRM_H
#define RN_CONFIRM_H

#include "events.h"
#include "ledger.h"
#include "peer.h"
#include "sync.h"

#define RN_CHECKSUM_RING 256

typedef struct rn_sum_entry {
    int32_t frame; /* -1 when empty */
    uint64_t sum;
    bool unsent;   /* local: still to be sent to the peers */
} rn_sum_entry;

typedef struct rn_confirm {
    int interval;          /* frames between checksums; <= 0: off */
    int32_t next_frame;    /* next frame to hash */
    rn_sum_entry local[RN_CHECKSUM_RING];
    int unsent;
    int32_t first_unsent;  /* no unsent checksum is of an older frame */
    rn_sum_entry remote[RN_MAX_PEERS][RN_CHECKSUM_RING]; /* by peer index */
    bool desync_found;     /* the first mismatch, kept for rollnet_session_desync_info */
    rollnet_desync_info desync;
} rn_confirm;

/* The last frame whose every input is confirmed and which has been simulated. */
static inline int32_t rn_confirmed_frame(const rn_sync *s)
{
    int32_t c = rn_sync_confirmed_frame(s);
    int32_t last = s->frame - 1;
    if (s->end_frame - 1 < last) {
        last = s->end_frame - 1; /* past a finished session's end */
    }
    return c > last ? last : c;
}

static inline bool rn_rollback_pending(const rn_sync *s)
{
    return rn_sync_first_incorrect(s) >= 0;
}

static inline uint32_t rn_confirm_absent_at(const void *sync, int32_t frame)
{
    return rn_sync_absent_at((const rn_sync *)sync, frame);
}

/* What the promotion guard is told (the one place it is filled in). */
static inline rn_promote_guard rn_confirm_guard(const rn_sync *s)
{
    rn_promote_guard g = {
        .confirmed_frame = rn_confirmed_frame(s),
        .rollback_pending = rn_rollback_pending(s),
        .rollback_in_progress = rn_sync_rollback_in_progress(s),
        .limit_frame = -1,
    };
    if (rn_sync_anyone_absent(s)) {
        g.absent_at = rn_confirm_absent_at;
        g.absent_ctx = s;
    }
    return g;
}

void rn_confirm_init(rn_confirm *c, int interval);
/* A peer slot was (re)used: forget what its previous owner sent. */
void rn_confirm_forget_peer(rn_confirm *c, int peer_index);
/* Hash every newly final frame on the checksum interval, queue it for
 * sending and compare it with what the peers sent. Does nothing while a
 * request list is open or a rollback is pending. */
void rn_confirm_local(rn_confirm *c, rn_sync *s, const rn_peer *peers, int num_peers,
                      rn_events *ev);
/* A peer's checksum. False (nothing stored) when the frame is not one this
 * session checksums: checksums off, not on the interval, or negative. */
bool rn_confirm_remote(rn_confirm *c, const rn_peer *peers, int num_peers, int peer_index,
                       int32_t frame, uint64_t sum, rn_events *ev);
/* The oldest local checksum still to be sent; false when none. */
bool rn_confirm_next_unsent(rn_confirm *c, int32_t *frame, uint64_t *sum);

#endif
