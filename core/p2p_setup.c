/* A P2P session's creation-time work that is not the session's state:
 * what its desc needs beyond the shared ranges, and the peer table built
 * from the players' addresses (each checked by the transport). */
#include <string.h>

#include "p2p_session.h"

/* One peer per distinct address; remote players without one connect to us. */
rollnet_error rn_p2p_setup_peers(rn_p2p *p, const rollnet_session_desc *d)
{
    for (int i = 0; i < RN_MAX_PEERS; i++) {
        rn_peer_reset(&p->peers[i], i);
    }
    for (int q = 0; q < ROLLNET_MAX_PLAYERS; q++) {
        p->player_peer[q] = -1;
    }
    for (int q = 0; q < d->num_players; q++) {
        const rollnet_player_desc *pd = &d->players[q];
        if (pd->kind == ROLLNET_PLAYER_LOCAL) {
            continue;
        }
        p->remote_mask |= 1u << q;
        if (!pd->address) {
            p->incoming_mask |= 1u << q;
            continue;
        }
        size_t alen = strlen(pd->address);
        char why[128] = "is empty or longer than 127 bytes";
        const rollnet_transport_vtable *vt = p->link.transport.vtable;
        rollnet_error bad = ROLLNET_ERR_OK;
        if (alen == 0 || alen >= sizeof(p->peers[0].address)) {
            bad = ROLLNET_ERR_BAD_ADDRESS;
        } else if (vt->check_address) {
            why[0] = '\0';
            /* The transport's own code when it is another one (OUT_OF_MEMORY, say). */
            bad = vt->check_address(p->link.transport.self, pd->address, why, sizeof(why));
            why[sizeof(why) - 1] = '\0';
        }
        if (bad != ROLLNET_ERR_OK) {
            rn_logf(&p->base.events, ROLLNET_LOG_ERROR, "player %d: address '%.127s' %s (%s)", q,
                    pd->address, why[0] ? why : "is refused by the transport",
                    rollnet_error_string(bad));
            return bad;
        }
        int found = -1;
        for (int i = 0; i < p->num_peers; i++) {
            if (strcmp(p->peers[i].address, pd->address) == 0) {
                found = i;
            }
        }
        if (found < 0) {
            found = p->num_peers++;
            p->peers[found].outgoing = true;
            memcpy(p->peers[found].address, pd->address, alen + 1);
        }
        p->peers[found].player_mask |= 1u << q;
        /* Player handles of a remote peer resolve to the peer only once it is claimed. */
        p->player_peer[q] = found;
    }
    return ROLLNET_ERR_OK;
}

/* What a P2P session needs beyond the shared ranges: a transport, and
 * players on both sides of it. */
rollnet_error rn_p2p_desc_check(const rollnet_session_desc *d)
{
    int locals = 0, remotes = 0;
    for (int q = 0; q < d->num_players; q++) {
        if (d->players[q].kind == ROLLNET_PLAYER_LOCAL) {
            locals++;
        } else {
            remotes++;
        }
    }
    const rollnet_transport_vtable *vt = d->transport.vtable;
    if (!vt || !vt->send || !vt->receive || !vt->connect) {
        return rn_desc_error(d, "transport.vtable", vt != NULL,
                             "a P2P session needs a transport with connect, send and receive "
                             "(rollnet_enet_create, rollnet_memnet_transport)");
    }
    if (locals == 0) {
        return rn_desc_error(d, "players", locals, "a P2P session needs a local player");
    }
    if (remotes == 0) {
        return rn_desc_error(d, "players", remotes,
                             "every player is local: a P2P session needs a remote player (or use "
                             "ROLLNET_SESSION_SYNCTEST)");
    }
    if (d->absent_play == ROLLNET_ABSENT_NEUTRAL &&
        (d->reconnect_timeout_ms == ROLLNET_RECONNECT_OFF ||
         d->rejoin_timeout_ms == ROLLNET_REJOIN_OFF)) {
        return rn_desc_error(d, "absent_play", d->absent_play,
                             "ROLLNET_ABSENT_NEUTRAL keeps a lost peer's place for it to rejoin: "
                             "reconnection and rejoin_timeout_ms must be on");
    }
    if (d->rejoin && d->reconnect_timeout_ms == ROLLNET_RECONNECT_OFF) {
        return rn_desc_error(d, "rejoin", 1,
                             "rejoin needs reconnection: reconnect_timeout_ms is ROLLNET_RECONNECT_OFF");
    }
    return ROLLNET_ERR_OK;
}
