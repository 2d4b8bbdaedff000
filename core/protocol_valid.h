/* Range checks shared by protocol.c's encoder and decoder
 * (protocol_valid.c). Internal to the protocol module. */
#ifndef RN_PROTOCOL_VALID_H
#define RN_PROTOCOL_VALID_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol.h"
#include "protocol_fields.h" /* rn_frame_ok */

/* The most bytes one frame's inputs of every player take. */
#define RN_BLOCK_MAX (ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE)

static inline bool rn_episode_ok(int64_t e) /* 0 .. RN_MAX_FRAME */
{
    return e >= 0 && e <= RN_MAX_FRAME;
}

static inline bool rn_block_size_ok(int block_size)
{
    return block_size >= 1 && block_size <= RN_BLOCK_MAX;
}

/* Every field of m within its range, whichever side holds it. */
bool rn_msg_valid(const rn_msg *m);

#endif
