/* A replay session's view of a recorded game: where the inputs of each frame,
 * and what the recording says the game made of them, come from. The core
 * reads no file: the plugin (plugin/src/replay.c) reads and validates the
 * replay file and hands the session this source. Internal. */
#ifndef RN_REPLAY_H
#define RN_REPLAY_H

#include "rollnet/rollnet.h"

/* One recorded frame, as the source hands it out: pointers valid until the
 * source's next read. */
typedef struct rn_replay_frame {
    const uint8_t *inputs; /* num_players * input_size bytes, player handle order */
    const uint8_t *record; /* the record the recorded game wrote (NULL when none) */
    size_t record_size;
    bool episode_end; /* the recorded ADVANCE ended its episode */
} rn_replay_frame;

typedef struct rn_replay_source {
    /* The frame after the last one read (frames are read in order, from 0):
     * OK with *end false and *out filled, OK with *end true when the
     * recording ends before it, or an error (logged by the source, through
     * `logger`), which stops the session. */
    rollnet_error (*read)(void *self, rn_replay_frame *out, bool *end);
    void *self;
    /* The state the recorded game started from (frame 0's snapshot): the
     * first request list loads it. */
    const uint8_t *initial_state;
    size_t initial_state_size;
} rn_replay_source;

/* Create a replay session (rollnet_replay_session_create): `desc` holds the
 * recording's parameters, every player is fed from `src`. Same contract as
 * rn_session_create. */
rollnet_error rn_session_create_replay(const rollnet_session_desc *desc,
                                       const rn_replay_source *src, rollnet_session **out);

/* Keep a copy of the snapshot the game saves for frame 0 (the recorder asks
 * before the first advance; allocated here, once). OK, OUT_OF_MEMORY, or
 * NOT_RUNNING when frame 0 has been saved already. */
rollnet_error rn_session_keep_initial_state(rollnet_session *s);
/* frame.c, after a SAVE is stored: the copy is taken when `req` is the
 * first SAVE of frame 0. */
void rn_replay_keep_initial_state(rollnet_session *s, const rollnet_request *req);
/* That copy, once frame 0 has been saved; false before. */
bool rn_session_initial_state(const rollnet_session *s, const uint8_t **data, size_t *size);

#endif
