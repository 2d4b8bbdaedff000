/* The session behind the public calls: what both kinds share, and the table
 * of what each kind does its own way. Internal.
 *
 *   session.c          the public entry points: argument checks, dispatch
 *   frame.c            shared by both kinds: local inputs, stalls, the
 *                      request list and what the game reports back, promotion
 *   synctest_session.c every player local, a forced rollback every frame
 *   p2p_session.c      peers over a transport (with p2p_handshake.c,
 *                      p2p_inputs.c, p2p_leave.c, p2p_episode.c)
 *
 * A kind embeds rollnet_session as its first member and fills in `ops`; no
 * shared function asks which kind it runs.
 *
 * IMPORTANT: single-threaded. No call here re-enters the game; the game acts
 * on the request list between rollnet calls. */
#ifndef RN_SESSION_H
#define RN_SESSION_H

#include "episode.h"
#include "events.h"
#include "ledger.h"
#include "rollnet/rollnet.h"
#include "sync.h"

typedef struct rn_session_ops {
    void (*destroy)(rollnet_session *s);
    /* Network and timers; s->now is already advanced. Returns s->failed. */
    rollnet_error (*poll)(rollnet_session *s);
    /* A new frame's local inputs are queued: send them, sync time, and fill
     * in what the kind adds to the plan (fast-forward, a forced rollback). */
    void (*frame_queued)(rollnet_session *s, rn_sync_plan *plan);
    /* The request list about to be built starts with a rollback: charge it. */
    void (*rollback_planned)(rollnet_session *s);
    /* After promotion: checksums, and dropping inputs nobody needs any more. */
    void (*confirmed)(rollnet_session *s);
    rollnet_error (*set_loading)(rollnet_session *s, bool loading);
    rollnet_error (*peer_stats)(const rollnet_session *s, int player, rollnet_peer_stats *out);
    /* The first desync found, or false. */
    bool (*desync)(const rollnet_session *s, rollnet_desync_info *out);
    /* The kind's own figures in the session statistics. */
    void (*stats)(const rollnet_session *s, rollnet_session_stats *out);
    /* Finishing (finish.c). May be NULL (nobody else to tell). This peer
     * begins finishing, or is done: tell the peers. Whether every peer has
     * said where it stops (then *max_stop and *min_inputs_end fold in theirs),
     * and, with done, that it is done. */
    void (*finish_tell)(rollnet_session *s, bool done);
    bool (*finish_heard)(const rollnet_session *s, bool done, int32_t *max_stop,
                         int32_t *min_inputs_end);
    /* rollnet_session_leave. NULL: WRONG_SESSION_KIND. */
    rollnet_error (*leave)(rollnet_session *s);
    /* Optional: an ADVANCE was ended (by advance_end, or `implicit`ly by the
     * next save_begin) with these flags and this record (`size` bytes, NULL
     * when none was written). The sync test compares a replay with the
     * straight run here; an error stops the session. */
    rollnet_error (*advance_ended)(rollnet_session *s, const rollnet_request *req,
                                   uint32_t step_flags, const uint8_t *record, size_t size,
                                   bool implicit);
    /* Optional: at the start of advance, before the session asks whether
     * the next frame can run (a replay feeds that frame's inputs here, or
     * finishes when the recording ends). */
    void (*prepare)(rollnet_session *s);
} rn_session_ops;

/* rollnet_session_finish: no more inputs from here, and where the session
 * ends. */
typedef struct rn_finish_state {
    bool active;        /* finishing: local inputs are no longer taken */
    int32_t stop;       /* sync.frame when it began */
    int32_t inputs_end; /* the first frame without an input of a local player */
    bool end_known;     /* every peer has said where it stops */
    int32_t end;        /* frames run up to here: `stop` until the end is known */
    bool done_local;    /* every frame before `end` is confirmed (and recorded) here */
    bool finished;      /* FINISHED raised */
} rn_finish_state;

struct rollnet_session {
    const rn_session_ops *ops;
    rollnet_session_desc desc; /* defaults resolved; the transport moved out */
    rollnet_allocator alloc;
    rn_events events;
    rn_sync sync;
    bool sync_ready;
    rn_ledger ledger;
    bool ledger_ready;
    bool ledger_used; /* the game has ended an ADVANCE with advance_end */
    rn_episodes episodes;

    uint64_t now;
    bool running;
    rollnet_error failed; /* sticky error once the session cannot go on */
    uint32_t local_mask;

    uint8_t pending[ROLLNET_MAX_PLAYERS][ROLLNET_MAX_INPUT_SIZE];
    uint32_t pending_mask;
    /* Local players: the input delay the next input is scheduled with, and
     * the one asked for (rollnet_session_set_input_delay); they differ while
     * a change is under way (see queue_local_inputs in frame.c). */
    int delay[ROLLNET_MAX_PLAYERS];
    int delay_target[ROLLNET_MAX_PLAYERS];

    bool stalled;
    rollnet_stall_reason stall_reason;
    uint64_t stall_said_ms; /* the last STALLED of the current stall */
    uint64_t stalls;
    bool validated_start; /* the save-load-save check of the first list was asked for */
    int32_t last_frame;   /* the last frame the session may run (frame numbers must stay encodable) */
    bool clock_warned;    /* poll saw the clock go back (logged once) */
    rn_finish_state fin;
    bool left;            /* rollnet_session_leave: no more frames */

    /* Something confirmation depends on changed since rn_frame_confirm ran:
     * inputs, acks, the ledger, the request list, a peer leaving. */
    bool dirty;

    /* desc.game_params points here: the game's blob, copied at creation. */
    uint8_t game_params[ROLLNET_MAX_GAME_PARAMS];

    rollnet_writer scratch_writer;
    uint8_t *scratch_record; /* record_capacity bytes */

    /* The writer record_begin handed out for the open ADVANCE of
     * record_frame (-1: none), read back when the ADVANCE ends. */
    rollnet_writer *record_writer;
    int32_t record_frame;
    /* ADVANCEs ended by the next save_begin instead of advance_end. Once the
     * ledger is in use that loses their episode-end flag: logged once. */
    uint64_t advances_unended;
    bool unended_warned;
    rollnet_error open_advance_error; /* of the ADVANCE save_begin ended, for save_end */
    bool no_ledger_warned;  /* next_record while no ADVANCE was ever ended (logged once) */
    bool pending_warned;    /* advance refused for an unfinished list (logged once per list) */

    /* A replay recorder asked for frame 0's snapshot (rn_session_keep_initial_state):
     * snapshot_capacity bytes, filled by the first SAVE of frame 0. */
    uint8_t *initial_state;
    size_t initial_state_size;
    bool initial_state_held;
};

/* Kinds' constructors: `d` is resolved and checked for what both kinds
 * share; the constructor checks the rest. On failure nothing is left
 * allocated and the transport is destroyed. */
rollnet_error rn_p2p_create(const rollnet_session_desc *d, const rollnet_allocator *a,
                            uint64_t nonce, rollnet_session **out);
rollnet_error rn_synctest_create(const rollnet_session_desc *d, const rollnet_allocator *a,
                                 rollnet_session **out);
rollnet_error rn_spectator_create(const rollnet_session_desc *d, const rollnet_allocator *a,
                                  uint64_t nonce, rollnet_session **out);
struct rn_replay_source;
rollnet_error rn_replay_create(const rollnet_session_desc *d, const rollnet_allocator *a,
                               const struct rn_replay_source *src, rollnet_session **out);

/* Log "desc.<field> = <value>: <rule>" at ERROR through the desc's logger;
 * returns ROLLNET_ERR_INVALID_DESC. */
rollnet_error rn_desc_error(const rollnet_session_desc *d, const char *field, long long value,
                           const char *rule);

/* Create a session with an explicit nonce (the plugin layer draws a random
 * one when desc->nonce is 0). Same contract as rollnet_session_create. */
rollnet_error rn_session_create(const rollnet_session_desc *desc, uint64_t nonce,
                                rollnet_session **out);

/* --- frame.c: shared by both kinds ------------------------------------- */

/* Allocate `size` bytes (the kind's struct, rollnet_session first) and set
 * up the shared part: events, sync, ledger, episodes. */
rollnet_error rn_frame_init(rollnet_session **out, size_t size, const rollnet_session_desc *d,
                            const rollnet_allocator *a);
/* Free the shared part and the session itself. */
void rn_frame_free(rollnet_session *s);
/* Promotion, the episode barrier, then the kind's confirmation work; only
 * between request lists and only when something changed (or a barrier's
 * clock runs). */
void rn_frame_confirm(rollnet_session *s);
rollnet_error rn_frame_add_local_input(rollnet_session *s, int player, const void *input,
                                       size_t size);
rollnet_error rn_frame_advance(rollnet_session *s, const rollnet_request **requests, int *count);
rollnet_writer *rn_frame_save_begin(rollnet_session *s, const rollnet_request *req);
rollnet_reader *rn_frame_load_begin(rollnet_session *s, const rollnet_request *req);
rollnet_error rn_frame_save_end(rollnet_session *s, const rollnet_request *req);
rollnet_error rn_frame_load_end(rollnet_session *s, const rollnet_request *req);
rollnet_writer *rn_frame_record_begin(rollnet_session *s, const rollnet_request *req);
rollnet_error rn_frame_advance_end(rollnet_session *s, const rollnet_request *req,
                                   uint32_t step_flags);
bool rn_frame_next_record(rollnet_session *s, rollnet_record *out);
/* Stop the session with `err` (the first error sticks); returns err. */
rollnet_error rn_frame_fail(rollnet_session *s, rollnet_error err);

/* --- finish.c: ending a session on the same frame everywhere ------------ */

/* Start finishing (rollnet_session_finish, or a peer's FINISH). */
rollnet_error rn_finish_begin(rollnet_session *s);
/* Done here? Then tell the peers; everyone done? Then FINISHED. Called after
 * promotion and whenever a peer's FINISH arrives. */
void rn_finish_update(rollnet_session *s);

/* --- frame_delay.c: a local player's input delay ----------------------- */

/* A local player's input delay: the next input goes in at frame + delay. */
rollnet_error rn_frame_set_input_delay(rollnet_session *s, int player, int frames);
rollnet_error rn_frame_get_input_delay(const rollnet_session *s, int player, int *current,
                                       int *requested);
/* The newest frame every local player has an input scheduled for (what may
 * be sent), and the oldest frame every local player's queue still holds. */
int32_t rn_frame_local_newest(const rollnet_session *s);
int32_t rn_frame_local_oldest(const rollnet_session *s);
/* The smallest input delay of the local players: the sender's newest input
 * frame lies that many frames minus one past the last frame it ran. */
int rn_frame_local_delay(const rollnet_session *s);
/* Can every local player's queue take this frame's inputs at its delay (or
 * the larger one asked for)? */
bool rn_frame_local_room(const rollnet_session *s);
/* Put local player p's pending input into its queue at frame + delay,
 * carrying out a change of delay (repeat up, merge down). */
void rn_frame_schedule_local(rollnet_session *s, int p);

#endif
