/* Between the plugin's files: the replay session's constructor behind
 * rollnet_replay_session_create_checked (rollnet.c checks the ABI first).
 * Internal. */
#ifndef RN_REPLAY_INTERNAL_H
#define RN_REPLAY_INTERNAL_H

#include "rollnet/rollnet_replay.h"

rollnet_error rn_replay_session_open(rollnet_replay *replay,
                                     const rollnet_replay_session_desc *desc,
                                     rollnet_session **out);

#endif
