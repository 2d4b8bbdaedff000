/** @file
 * rollnet replays: record a session's confirmed frames to a file, and play
 * the file back through the game's normal frame loop.
 *
 * A replay file is a msgpack stream (format version ROLLNET_REPLAY_VERSION):
 *
 *   1. the header, a map with string keys:
 *        "format": "rollnet replay", "version": 1,
 *        "kind": "p2p" | "synctest" (the recorded session's kind),
 *        "num_players", "input_size", "fps": int,
 *        "game_id", "seed": uint,
 *        "game_params": bin (the session's rollnet_session_desc::game_params),
 *        "snapshot_capacity", "record_capacity": uint (the session's)
 *   2. the initial state: bin, the game's own snapshot of frame 0 (what it
 *      wrote on the first SAVE of frame 0);
 *   3. one array per confirmed frame, from frame 0, in order:
 *        [frame, episode, step, episode_end (bool),
 *         inputs (bin, num_players * input_size bytes, player handle order),
 *         data (the game's record, one msgpack value, or nil when empty)]
 *   4. the end: a map {"frames": the number of frame arrays}; nothing after.
 *
 * Playing it back with rollnet_replay_session_create gives a session whose
 * advance hands the game the recorded inputs (LOAD 0 of the initial state
 * first), whose ledger promotes the records the game writes, and which
 * finishes (ROLLNET_EVENT_FINISHED) where the recording ends. So a game that
 * exports its records during playback writes the original export byte for
 * byte; a frame whose record or episode end differs from the recording's
 * stops the playback with ROLLNET_EVENT_DESYNC at that frame.
 *
 * IMPORTANT: recorders and replays are not thread-safe; use each one from one
 * thread at a time. Distinct ones share nothing.
 */
#ifndef ROLLNET_REPLAY_H
#define ROLLNET_REPLAY_H

#include "rollnet/rollnet.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ROLLNET_REPLAY_VERSION 1 /**< the format version written and read */
/** Default of rollnet_replay_desc::max_state_size: 64 MiB. */
#define ROLLNET_REPLAY_DEFAULT_MAX_STATE (64u * 1024u * 1024u)

/* ---- Recording -------------------------------------------------------- */

/** Writes a replay file from a session's confirmed records. */
typedef struct rollnet_replay_recorder rollnet_replay_recorder;

/** Where to record. Valid when zero-initialised, but for path. */
typedef struct rollnet_replay_recorder_desc {
    /** Required. Created or truncated at open. */
    const char *path;
    rollnet_allocator allocator; /**< Default malloc/free. */
} rollnet_replay_recorder_desc;

/** Start recording `session` (P2P or sync test) to desc->path. Call it after
 * creating the session and before its first rollnet_session_advance: the
 * session then keeps a copy of the state the game saves for frame 0 (one
 * snapshot_capacity buffer, allocated here). The session's parameters are
 * copied now. Then pass every record rollnet_session_next_record gives,
 * from frame 0 on, to rollnet_replay_recorder_write, and close the recorder
 * when the session is over. `session` must outlive the first write.
 * On success *out owns the file until rollnet_replay_recorder_close; on
 * failure *out is NULL. INVALID_ARGUMENT (a NULL argument or path),
 * WRONG_SESSION_KIND (a replay session, a spectator, or a session with
 * rollnet_session_desc::rejoin: those start from a received state, and a
 * recording starts at frame 0), NOT_RUNNING (the session has
 * advanced already), OUT_OF_MEMORY, IO (the file cannot be created).
 * Game thread (the session's). */
rollnet_error rollnet_replay_recorder_open(const rollnet_replay_recorder_desc *desc,
                                           rollnet_session *session,
                                           rollnet_replay_recorder **out);
/** Append one confirmed record (read only during the call). The first write
 * also writes the header and the initial state. Records must come in frame
 * order from frame 0, as next_record gives them: another frame is
 * INVALID_ARGUMENT and nothing is written. IO when the file could not be
 * written (sticky); SNAPSHOT_READ when the record's data is not one whole
 * msgpack value. */
rollnet_error rollnet_replay_recorder_write(rollnet_replay_recorder *r, const rollnet_record *rec);
/** Write the end marker, close the file and free the recorder (always, even
 * on error). A recorder that wrote no record leaves a file with a header,
 * an empty initial state and no frames, which a replay refuses. IO when
 * the file could not be written. NULL is fine. */
rollnet_error rollnet_replay_recorder_close(rollnet_replay_recorder *r);

/* ---- Reading ---------------------------------------------------------- */

/** An open replay file. */
typedef struct rollnet_replay rollnet_replay;

/** What to open. Valid when zero-initialised, but for path. */
typedef struct rollnet_replay_desc {
    /** Required. */
    const char *path;
    /** The largest snapshot_capacity (and so initial state) accepted, bytes.
     * Default ROLLNET_REPLAY_DEFAULT_MAX_STATE. */
    size_t max_state_size;
    rollnet_allocator allocator; /**< Default malloc/free. */
} rollnet_replay_desc;

/** The recorded session's parameters (rollnet_replay_get_info). */
typedef struct rollnet_replay_info {
    int version;                 /**< the file's format version */
    rollnet_session_kind kind;   /**< the recorded session's kind */
    int num_players;             /**< rollnet_session_desc::num_players */
    int input_size;              /**< rollnet_session_desc::input_size */
    int fps;                     /**< rollnet_session_desc::fps */
    uint64_t game_id;            /**< rollnet_session_desc::game_id */
    uint64_t seed;               /**< rollnet_session_desc::seed */
    /** The recorded game_params; valid while the replay is open. */
    const void *game_params;
    size_t game_params_size;     /**< bytes at game_params */
    size_t snapshot_capacity;    /**< rollnet_session_desc::snapshot_capacity */
    size_t record_capacity;      /**< rollnet_session_desc::record_capacity */
    /** Frame 0's snapshot; valid while the replay is open. */
    const void *initial_state;
    size_t initial_state_size;   /**< bytes at initial_state */
    int32_t num_frames;          /**< frames recorded */
    /** False when the file ends without its end marker: the recorder
     * stopped (its process crashed or was killed) after num_frames whole
     * frames, and maybe within the next one, whose bytes are ignored. Such
     * a replay plays back those frames. */
    bool complete;
} rollnet_replay_info;

/** Open a replay file and check all of it: every field's type, range and
 * size against the header's parameters, frames numbered from 0 without a
 * gap, episodes and steps that follow from the episode ends, the end marker
 * and its count, nothing after it. A file without its end marker (a
 * recorder that crashed) is the whole frames before the cut
 * (rollnet_replay_info::complete false). Memory stays bounded by the header's
 * capacities (record_capacity per frame, the initial state once), never by
 * what a corrupt length claims. On failure *out is NULL and, when why is
 * not NULL, why[0..why_cap) holds a NUL-terminated sentence naming what is
 * wrong: the field and, for a frame, its number ("frame 12: inputs: 3
 * bytes, expected 2 (num_players 2 * input_size 1)"). REPLAY_INVALID for
 * a malformed, truncated or out-of-range file, IO when it cannot be opened
 * or read, INVALID_ARGUMENT, OUT_OF_MEMORY. On success *out owns the file
 * until rollnet_replay_close. Any thread. */
rollnet_error rollnet_replay_open(const rollnet_replay_desc *desc, rollnet_replay **out, char *why,
                                  size_t why_cap);
/** Close the file and free the replay. NULL is fine. */
void rollnet_replay_close(rollnet_replay *r);
/** Fill *out with the recorded parameters. INVALID_ARGUMENT when r or out is NULL. */
rollnet_error rollnet_replay_get_info(const rollnet_replay *r, rollnet_replay_info *out);
/** The next recorded frame as a record (frame order, from 0; the pointers
 * stay valid until the next call). False at the end, or when the file could
 * not be read again (rollnet_replay_error then says why). Not while a
 * replay session plays this replay. */
bool rollnet_replay_next_record(rollnet_replay *r, rollnet_record *out);
/** Back to frame 0. IO when the file cannot be read again. */
rollnet_error rollnet_replay_rewind(rollnet_replay *r);
/** The last read failure as a sentence ("" when none). Static until the next
 * call on r. */
const char *rollnet_replay_error(const rollnet_replay *r);

/* ---- Playing back ----------------------------------------------------- */

/** How to play a replay back. Valid when zero-initialised. */
typedef struct rollnet_replay_session_desc {
    int ledger_capacity;         /**< confirmed records held until read. Default 4096. */
    uint32_t episode_timeout_ms; /**< as rollnet_session_desc. Default 5000. */
    rollnet_allocator allocator; /**< Default malloc/free. */
    rollnet_logger logger;       /**< Default none. */
    void *user_data;             /**< Handed back in every request. Default NULL. */
} rollnet_replay_session_desc;

/** Create a session (kind ROLLNET_SESSION_REPLAY) that plays `replay` back
 * from frame 0. It runs at once (no RUNNING event) and has no local
 * players: the game calls poll, advance and carries out the requests as
 * usual, never add_local_input (INVALID_PLAYER). The first list loads the
 * initial state (LOAD 0 without the REPLAY flag) and checks it with a
 * save-load-save; each ADVANCE carries the recorded inputs; nothing is
 * predicted or rolled back. Where the recording ends the session finishes:
 * advance returns FINISHED, and once the last record is read,
 * ROLLNET_EVENT_FINISHED. `disconnected` in a request is always 0 (the
 * recording keeps the inputs, which are neutral for a player who left).
 * The replay is rewound and read by the session: it must stay open, and
 * unused otherwise, until the session is destroyed. Errors: as
 * rollnet_session_create, and REPLAY_INVALID or IO when a frame cannot be
 * read during playback (logged). Game thread. */
rollnet_error rollnet_replay_session_create_checked(rollnet_replay *replay,
                                                    const rollnet_replay_session_desc *desc,
                                                    rollnet_session **out, const rollnet_abi *abi);

/** Create a replay session (see rollnet_replay_session_create_checked). */
static inline rollnet_error rollnet_replay_session_create(rollnet_replay *replay,
                                                          const rollnet_replay_session_desc *desc,
                                                          rollnet_session **out)
{
    rollnet_abi abi = rollnet_abi_here();
    return rollnet_replay_session_create_checked(replay, desc, out, &abi);
}

#ifdef __cplusplus
}
#endif

#endif /* ROLLNET_REPLAY_H */
