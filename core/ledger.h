/* The ledger: speculative records of simulated frames, promoted to the
 * confirmed ledger only when it is safe. Internal.
 *
 * IMPORTANT: rn_ledger_promote() is the only function that moves records to
 * the confirmed side. It refuses to move anything while a rollback is pending
 * or in progress, and moves only frames whose every input is confirmed. */
#ifndef RN_LEDGER_H
#define RN_LEDGER_H

#include "rollnet/rollnet.h"
#include "snapshot.h"

typedef struct rn_ledger_slot {
    int32_t frame;       /* -1 when empty */
    uint32_t step_flags; /* ROLLNET_STEP_* from advance_end */
    uint32_t disconnected; /* players whose input was neutral (rollnet_record::disconnected) */
    size_t size;
    uint8_t *data;       /* record_capacity bytes */
    uint8_t *inputs;     /* num_players * input_size: the inputs the frame ran with */
    int32_t episode;     /* confirmed records only: set at promotion */
    int32_t step;        /* confirmed records only: frame - first frame of its episode */
} rn_ledger_slot;

typedef struct rn_promote_guard {
    int32_t confirmed_frame;   /* every input of frames <= this is confirmed */
    bool rollback_pending;     /* a late input marked a simulated frame wrong */
    bool rollback_in_progress; /* a replay's requests are being carried out */
    int32_t limit_frame;       /* promote nothing past this frame (episode end), or -1: no limit */
    /* When set, a record's `disconnected` is taken from here as it is
     * promoted (its frame's inputs are final then), not as the frame ran: a
     * frame run on a neutral guess before a departure or an absence was
     * known is flagged like the rest. NULL: nobody was ever away. */
    uint32_t (*absent_at)(const void *ctx, int32_t frame);
    const void *absent_ctx;
} rn_promote_guard;

typedef struct rn_ledger {
    rollnet_allocator alloc;
    int num_players, input_size;
    size_t record_capacity;
    int spec_capacity;          /* speculative slots (frames) */
    rn_ledger_slot *spec;       /* ring indexed by frame % spec_capacity */
    int conf_capacity;
    rn_ledger_slot *conf;       /* ring of confirmed records waiting to be read */
    int conf_head, conf_count;
    int32_t next_promote;       /* next frame to promote */
    int32_t episode;            /* episode of next_promote */
    int32_t episode_start;      /* first frame of that episode */
    uint64_t promoted;
    rollnet_writer writer;
    int32_t writing_frame;      /* frame whose record is being written, or -1 */
    size_t written;             /* size of the record written for writing_frame */
    rn_ledger_slot out;         /* last record handed out by rn_ledger_next */
    int32_t end_cache;          /* rn_ledger_pending_episode_end's answer, while valid */
    bool end_cache_valid;       /* cleared by every change to the speculative ring */
} rn_ledger;

rollnet_error rn_ledger_init(rn_ledger *l, const rollnet_allocator *a, int num_players,
                             int input_size, size_t record_capacity, int spec_capacity,
                             int conf_capacity);
void rn_ledger_free(rn_ledger *l);

/* Begin the record of `frame` (overwrites an earlier speculative one). The
 * writer is owned by the ledger and valid until rn_ledger_step_end. NULL when
 * rn_ledger_can_store(frame) is false. */
rollnet_writer *rn_ledger_record_begin(rn_ledger *l, int32_t frame);
/* The frame ran with `inputs` (`disconnected`: the players among them whose
 * input was neutral because they were not there); store its record (empty if none was begun) and
 * flags. Fails with SNAPSHOT_OVERFLOW when the record overflowed (the frame is
 * then stored with an empty record, so its inputs and flags still count),
 * LEDGER_FULL when the speculative ring has no room for `frame`, and
 * INVALID_ARGUMENT for a frame that was already promoted. */
rollnet_error rn_ledger_step_end(rn_ledger *l, int32_t frame, const uint8_t *inputs,
                                 uint32_t step_flags, uint32_t disconnected);
/* A rollback to `frame`: forget the speculative records of frame and later. */
void rn_ledger_discard_from(rn_ledger *l, int32_t frame);
/* True when the speculative ring can take `frame` without losing an unpromoted
 * record of an older frame (the session stalls otherwise). False for frames
 * already promoted. */
bool rn_ledger_can_store(const rn_ledger *l, int32_t frame);
/* Promote, in frame order, every speculative record the guard allows.
 * Returns the number promoted (0 when the guard forbids). */
int rn_ledger_promote(rn_ledger *l, const rn_promote_guard *g);
/* The episode-end frame found among the speculative records at or after
 * next_promote, or -1. */
int32_t rn_ledger_pending_episode_end(rn_ledger *l);
bool rn_ledger_next(rn_ledger *l, rollnet_record *out);
/* The game ended its first ADVANCE with a record at `frame` > 0: frames
 * before it were simulated without records and will never have one, so
 * promotion starts at `frame` instead of waiting for them forever. Only
 * before anything was promoted. */
void rn_ledger_start_at(rn_ledger *l, int32_t frame);
/* A session that starts from a received state (state_transfer.h): the first
 * record is `frame`'s, in `episode`, which began at `episode_start`. Before
 * anything was recorded. */
void rn_ledger_resume_at(rn_ledger *l, int32_t frame, int32_t episode, int32_t episode_start);

#endif
