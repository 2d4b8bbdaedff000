/* A P2P session's spectators (p2p_spectators.c): connections that watch and
 * play nobody. Internal to the p2p_*.c files.
 *
 * A spectator connects like a joiner (a pending slot while it handshakes, so
 * it is a stranger until its HELLO, which claims no player, matches and, in
 * a private session, its AUTH verifies); once admitted it leaves the peer
 * table for a table of its own, sized once at creation (max_spectators). It
 * never counts in confirmation, time sync, finishing or departures: the
 * host only sends it what is confirmed here (a state transfer first when
 * the inputs from frame 0 are gone, then WATCH batches of every player's
 * inputs, then the session's end) and reads its WATCH_ACKs. What it has not
 * acknowledged is bounded in frames and bytes: past either bound, or silent
 * past disconnect_timeout_ms, it is dropped (a WARN, a count). */
#ifndef RN_P2P_SPECTATORS_H
#define RN_P2P_SPECTATORS_H

#include "peer.h"

#define RN_SPECTATORS_DEFAULT 16
#define RN_SPECTATORS_MAX 64
/* A spectator that has not run this many frames that were sent to it, or
 * not acknowledged this many bytes (plus the state sent to it), is dropped.
 * The spectator's own buffer (RN_SPECTATE_BUFFER_FRAMES) holds more. */
#define RN_SPECTATOR_LAG_FRAMES 512
#define RN_SPECTATOR_LAG_BYTES (256u << 10)
/* Inputs go out once this many frames are pending, or this long after the
 * last batch, or before they would be discarded here. */
#define RN_SPECTATOR_BATCH_FRAMES 6
#define RN_SPECTATOR_BATCH_MS 100u
/* An empty WATCH after this long without one (at most a quarter of
 * disconnect_timeout_ms): the players may stall for longer. */
#define RN_SPECTATOR_HEARTBEAT_MS 1000u
#define RN_SPECTATOR_MARKS 64

typedef struct rn_spectator {
    rn_peer peer;       /* its connection (RUNNING while it watches); EMPTY: a free slot */
    int32_t next_send;  /* the next frame whose inputs go out; -1: a state must go first */
    int32_t acked;      /* it has run every frame before this */
    bool end_sent;      /* it was told where the session ends */
    uint64_t last_send_ms;
    /* Bytes sent, and the points where an ack releases them: a mark says
     * that every byte sent up to `bytes` is released once it has run the
     * frames before `after`. */
    uint64_t sent_bytes, released_bytes;
    struct {
        int32_t after;
        uint64_t bytes;
    } marks[RN_SPECTATOR_MARKS];
    int mark_head, mark_count;
} rn_spectator;

typedef struct rn_spectators {
    rn_spectator *slots; /* max slots, taken at creation */
    int max;
    int count;           /* slots in use: none, and the players' path skips them all */
    uint64_t joined, dropped, refused;
} rn_spectators;

#endif
