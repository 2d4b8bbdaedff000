/* Host introduction: a joiner needs only its host's address. Internal.
 *
 * A joiner (a session with an address for some player) tells each peer it
 * dialled which players it has no address for (INTRO_ASK, once per peer).
 * A session that dials nobody of its own (every remote player's address is
 * NULL: a host) introduces two peers it accepted to each other once both
 * are handshaken with it and each asked for the other's players: each gets
 * a reliable INTRO naming the other's players and the address at which the
 * host's transport sees it (rollnet_transport_peer_info::address). Two
 * joiners of which one has the other's address do not ask for each other,
 * so a mesh configured by hand (whoever dials whom) is never introduced.
 *
 * A joiner takes an INTRO only from a peer it dialled that completed the
 * handshake and that it asked (another joiner it dialled does not
 * introduce), and only for players it has no address for (and that nobody
 * holds yet); the address must pass the transport's check_address. Of the
 * two joiners introduced to each other the one whose lowest player handle is
 * higher dials; the other accepts the incoming connection, as it would
 * without an INTRO. The ordinary handshake (and AUTH in a private session)
 * then runs between them: an INTRO admits nobody by itself. Anything else is
 * ignored, counted in the sender's dropped_malformed and logged once. */
#ifndef RN_P2P_INTRO_H
#define RN_P2P_INTRO_H

#include <stdbool.h>
#include <stdint.h>

#include "peer.h"

typedef struct rn_intro_pair {
    uint64_t to, about; /* the nonces of the two peers when `about` was introduced to `to` */
    bool told;
} rn_intro_pair;

/* What a peer asked for (valid while the slot holds the peer with that nonce). */
typedef struct rn_intro_asked {
    uint64_t nonce;
    uint32_t mask;
} rn_intro_asked;

typedef struct rn_intro_state {
    bool introducer;      /* this session dials nobody of its own: it introduces */
    uint32_t open_mask;   /* joiner: remote players without an address, which an INTRO may name */
    uint32_t configured;  /* joiner: the peers (by index) its desc gave an address */
    bool ignored_logged;  /* an ignored INTRO or INTRO_ASK was logged once */
    uint64_t ignored;     /* INTROs and INTRO_ASKs ignored */
    rn_intro_asked asked[RN_MAX_PEERS]; /* host: what each peer asked for */
    uint64_t ask_sent[RN_MAX_PEERS];    /* joiner: the nonce of the peer an ASK went to */
    /* Host: [i][j] says whether peer j was introduced to peer i (valid while
     * both slots hold the same peers, as their nonces tell). */
    rn_intro_pair pairs[RN_MAX_PEERS][RN_MAX_PEERS];
} rn_intro_state;

#endif
