/* The frame clock, the snapshot ring and the request list. Internal.
 *
 * rn_sync knows nothing of the network: it is fed confirmed inputs and turns
 * "advance one frame" into LOAD / ADVANCE / SAVE requests, rolling back when
 * an input queue reports a wrong prediction. A sync test session uses it
 * with every player local and a forced rollback every frame. */
#ifndef RN_SYNC_H
#define RN_SYNC_H

#include <msgpack.h>

#include "input_queue.h"
#include "rollnet/rollnet.h"
#include "snapshot.h"

#define ROLLNET_REQUEST_VALIDATE_ 0x4u /* internal: LOAD/SAVE of a save-load-save check */

typedef struct rn_snapshot_slot {
    int32_t frame; /* -1 when empty */
    size_t size;
    uint64_t checksum;   /* valid when checksum_valid: hashed only when asked for */
    bool checksum_valid;
    uint8_t *buf;
} rn_snapshot_slot;

typedef struct rn_sync_config {
    int num_players;
    int input_size;
    int max_prediction;
    size_t snapshot_capacity;
    rollnet_prediction prediction;
    const uint8_t *neutral;
    void *user_data;
    bool keep_desync_copies; /* sync test: keep both snapshots of a mismatch */
} rn_sync_config;

typedef struct rn_sync {
    rollnet_allocator alloc;
    rn_sync_config cfg;
    uint8_t neutral[ROLLNET_MAX_INPUT_SIZE];
    int32_t frame;          /* next frame to run */
    bool started;           /* SAVE 0 has been requested */
    bool load_first;        /* a replay: the first list begins with LOAD 0 (rn_sync_preload) */

    rn_input_queue queues[ROLLNET_MAX_PLAYERS];
    /* Some queue has (had) a departure or an absence: records' flags are
     * then taken at promotion (rn_sync_absent_at). Set by rn_sync_mark_absent. */
    bool anyone_absent;
    uint8_t *queue_mem;
    int queue_capacity;

    rn_snapshot_slot *slots; /* num_slots, frame % num_slots */
    int num_slots;
    rn_snapshot_slot spare;  /* the buffer the next SAVE writes into */
    rollnet_writer writer;
    rollnet_reader reader;
    msgpack_zone zone;
    bool zone_ready;

    /* The current request list and how far the game has carried it out. */
    rollnet_request *reqs;
    int req_cap, req_count, req_next;
    uint8_t *req_inputs;     /* one block of num_players * input_size per ADVANCE */
    int req_input_blocks;
    int last_replay_index;   /* index of the last request of a rollback, or -1 */
    bool writing, reading;   /* a save_begin/load_begin is open */

    /* Figures. */
    uint64_t rollbacks, frames_resimulated;
    int32_t max_depth, last_depth;

    /* Sync test: the first mismatching frame found. */
    bool desync_found;
    int32_t desync_frame;
    uint64_t desync_first, desync_second;
    uint8_t *desync_copy[2];
    size_t desync_size[2];

    /* Save-load-save validation in progress / its reference checksum. */
    bool validation_failed;

    /* Finishing: frames from here on are not part of the session and are
     * never confirmed (RN_IQ_CONFIRMED_FOREVER while it runs on). */
    int32_t end_frame;
} rn_sync;

rollnet_error rn_sync_init(rn_sync *s, const rollnet_allocator *a, const rn_sync_config *cfg);
void rn_sync_free(rn_sync *s);

/* Lowest confirmed frame over all players (a disconnected player counts as confirmed). */
static inline int32_t rn_sync_confirmed_frame(const rn_sync *s)
{
    int32_t c = RN_IQ_CONFIRMED_FOREVER;
    for (int p = 0; p < s->cfg.num_players; p++) {
        int32_t q = rn_iq_confirmed(&s->queues[p]);
        c = q < c ? q : c;
    }
    return c;
}

/* First frame a wrong prediction invalidated, if it has been simulated; else -1. */
static inline int32_t rn_sync_first_incorrect(const rn_sync *s)
{
    int32_t fi = -1;
    for (int p = 0; p < s->cfg.num_players; p++) {
        int32_t f = s->queues[p].first_incorrect;
        if (f >= 0 && f < s->frame && (fi < 0 || f < fi)) {
            fi = f;
        }
    }
    return fi;
}
/* The players whose input at `frame` is neutral because they are not
 * there: departed (disconnected_from), or away while the session played on
 * (absent_from..absent_to). As the queues stand now: a frame run before
 * either was known has the mask it would have had. */
static inline uint32_t rn_sync_absent_at(const rn_sync *s, int32_t frame)
{
    uint32_t m = 0;
    for (int p = 0; p < s->cfg.num_players; p++) {
        const rn_input_queue *q = &s->queues[p];
        if ((q->disconnected_from >= 0 && frame >= q->disconnected_from) ||
            (frame >= q->absent_from && frame < q->absent_to)) {
            m |= 1u << p;
        }
    }
    return m;
}
/* Whether any player has ever been absent or departed. */
static inline bool rn_sync_anyone_absent(const rn_sync *s)
{
    return s->anyone_absent;
}
/* Who sets a queue's disconnected_from or absent_from says so here. */
static inline void rn_sync_mark_absent(rn_sync *s)
{
    s->anyone_absent = true;
}
/* Absences (absent_play NEUTRAL): the players in `players` not away yet
 * are away from `frame` on (returns those); their absence ends before
 * `frame`; the first frame of one not over yet, -1 none. */
uint32_t rn_sync_absence_begin(rn_sync *s, uint32_t players, int32_t frame);
void rn_sync_absence_end(rn_sync *s, uint32_t players, int32_t frame);
int32_t rn_sync_absence_start(const rn_sync *s, uint32_t players);
/* True while the requests of a rollback are not all carried out. */
bool rn_sync_rollback_in_progress(const rn_sync *s);
/* True while the current list has requests left. */
static inline bool rn_sync_requests_pending(const rn_sync *s)
{
    return s->req_next < s->req_count;
}
/* Can frame s->frame run without exceeding the prediction window? */
bool rn_sync_within_window(const rn_sync *s);

typedef struct rn_sync_plan {
    bool advance;          /* run frame s->frame (else only a pending rollback, if any) */
    int force_rollback;    /* sync test: after the frame, roll back this many frames */
    bool validate;         /* emit LOAD + SAVE of the current frame to check save-load-save */
    uint32_t advance_flags;/* extra flags for the new frame's ADVANCE */
} rn_sync_plan;

/* A replay: frame 0's snapshot is `data` (the recorded initial state, from
 * outside: checked here to be whole msgpack values that fit
 * snapshot_capacity), and the first request list begins with LOAD 0 instead
 * of SAVE 0, so the game starts from the recorded state. Before the first
 * rn_sync_build only. SNAPSHOT_OVERFLOW, SNAPSHOT_INVALID, or OK. */
rollnet_error rn_sync_preload(rn_sync *s, const uint8_t *data, size_t size);
/* The same at `frame` (a state received from a peer, state_transfer.h): the
 * clock and every input queue start there (no input before it is held or
 * needed). */
rollnet_error rn_sync_preload_at(rn_sync *s, int32_t frame, const uint8_t *data, size_t size);

/* Build the request list. Local inputs for s->frame must already be in the
 * queues when plan->advance is set. Returns the number of requests. */
int rn_sync_build(rn_sync *s, const rn_sync_plan *plan);

/* Is `req` the list's request at `index` (that entry, or a copy of it: a
 * game may copy requests out)? */
static inline bool rn_sync_is_request(const rn_sync *s, const rollnet_request *req, int index)
{
    if (!req || index < 0 || index >= s->req_count) {
        return false;
    }
    const rollnet_request *r = &s->reqs[index];
    return req == r || (req->type == r->type && req->frame == r->frame && req->flags == r->flags);
}
/* Request execution, checked against the list. */
rollnet_error rn_sync_check_next(rn_sync *s, const rollnet_request *req, rollnet_request_type type);
rollnet_writer *rn_sync_save_begin(rn_sync *s, const rollnet_request *req);
rollnet_error rn_sync_save_end(rn_sync *s, const rollnet_request *req);
rollnet_reader *rn_sync_load_begin(rn_sync *s, const rollnet_request *req);
rollnet_error rn_sync_load_end(rn_sync *s, const rollnet_request *req);
/* Mark the pending ADVANCE carried out. */
rollnet_error rn_sync_advance_done(rn_sync *s, const rollnet_request *req);

const rn_snapshot_slot *rn_sync_find_snapshot(const rn_sync *s, int32_t frame);
/* The checksum of a stored snapshot, hashed on first use (most snapshots are
 * never compared, and hashing a large state costs more than saving it). */
uint64_t rn_sync_checksum(rn_sync *s, int32_t frame, bool *found);
/* Frames before this are no longer needed by any rollback. */
void rn_sync_discard_inputs_before(rn_sync *s, int32_t frame);

#endif
