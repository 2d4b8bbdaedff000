/* The replay reader's state, shared by its two files: replay_header.c (the
 * header and the initial state) and replay_read.c (the frames, the public
 * calls, the replay session's source). Internal to the plugin. */
#ifndef RN_REPLAY_READER_H
#define RN_REPLAY_READER_H

#include <stdio.h>

#include "mpstream.h"
#include "rollnet/rollnet_replay.h"

struct rollnet_replay {
    rollnet_allocator alloc;
    FILE *f;
    rn_mpstream in;
    bool in_ready;
    rollnet_replay_info info;
    uint8_t game_params[ROLLNET_MAX_GAME_PARAMS];
    uint8_t *state;
    long first_frame_off;
    size_t frame_cap; /* the largest frame the header allows, bytes */
    /* Reading position and what the next frame must say. */
    int32_t next_frame, episode, step;
    bool ended;
    rollnet_logger logger; /* a replay session's, while one plays it */
    char err[256];
};

/* Set r->err from the format and return `code`. */
rollnet_error rn_replay_fail(rollnet_replay *r, rollnet_error code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The header map p[0..len): every field checked, r->info filled. */
rollnet_error rn_replay_parse_header(rollnet_replay *r, const uint8_t *p, size_t len,
                                     size_t max_state);
/* The initial state after the header: r->state, r->info.initial_state. */
rollnet_error rn_replay_read_state(rollnet_replay *r);
/* The next frame into *out, or *end at the end marker. */
rollnet_error rn_replay_read_frame(rollnet_replay *r, rollnet_record *out, bool *end);

#endif
