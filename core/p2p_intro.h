/* Host introduction: a joiner needs only its host's address. Internal.
 *
 * A session that dials nobody of its own (every remote player's address is
 * NULL: a host) introduces the peers it accepted to each other: once two of
 * them are both handshaken with it, each gets a reliable INTRO naming the
 * other's players and the address at which the host's transport sees it
 * (rollnet_transport_peer_info::address). A joiner (a session with an
 * address for some player) takes an INTRO only from a peer it dialled that
 * completed the handshake, and only for players it has no address for (and
 * that nobody holds yet); the address must pass the transport's
 * check_address. Of the two joiners introduced to each other the one whose
 * lowest player handle is higher dials; the other accepts the incoming
 * connection, as it would without an INTRO. The ordinary handshake (and AUTH
 * in a private session) then runs between them: an INTRO admits nobody by
 * itself. Anything else is ignored, counted in the sender's
 * dropped_malformed and logged once. */
#ifndef RN_P2P_INTRO_H
#define RN_P2P_INTRO_H

#include <stdbool.h>
#include <stdint.h>

#include "peer.h"

typedef struct rn_intro_pair {
    uint64_t to, about; /* the nonces of the two peers when `about` was introduced to `to` */
    bool told;
} rn_intro_pair;

typedef struct rn_intro_state {
    bool introducer;      /* this session dials nobody of its own: it introduces */
    uint32_t open_mask;   /* joiner: remote players without an address, which an INTRO may name */
    bool ignored_logged;  /* an ignored INTRO was logged once */
    uint64_t ignored;     /* INTROs ignored */
    /* Host: [i][j] says whether peer j was introduced to peer i (valid while
     * both slots hold the same peers, as their nonces tell). */
    rn_intro_pair pairs[RN_MAX_PEERS][RN_MAX_PEERS];
} rn_intro_state;

#endif
