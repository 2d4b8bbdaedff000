/* Between the plugin's files: the replay session's constructor behind
 * rollnet_replay_session_create_checked (rollnet.c checks the ABI first).
 * Internal. */
#ifndef RN_REPLAY_INTERNAL_H
#define RN_REPLAY_INTERNAL_H

#include <stdio.h>

#include "rollnet/rollnet_replay.h"

/* rollnet_replay_open over a stream already open (a file, or fmemopen'd
 * bytes for the fuzzer): the replay owns `f` from here on, also on failure
 * (NULL is taken as a file that could not be opened). desc->path is not
 * used. */
rollnet_error rn_replay_open_stream(FILE *f, const rollnet_replay_desc *desc, rollnet_replay **out,
                                   char *why, size_t why_cap);

rollnet_error rn_replay_session_open(rollnet_replay *replay,
                                     const rollnet_replay_session_desc *desc,
                                     rollnet_session **out);

#endif
