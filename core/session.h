/* Session internals shared by the plugin layer. */
#ifndef RN_SESSION_H
#define RN_SESSION_H

#include "rollnet/rollnet.h"

/* Create a session with an explicit nonce (the plugin layer draws a random
 * one when desc->nonce is 0). Same contract as rollnet_session_create. */
rollnet_error rn_session_create(const rollnet_session_desc *desc, uint64_t nonce,
                                rollnet_session **out);

#endif
