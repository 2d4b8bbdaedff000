/* Strangers at the ENet level: connections that are not, or not yet, a
 * player's peer. The host keeps ROLLNET_ENET_SPARE_PEERS slots beyond
 * max_peers for connections in their handshake; one address holds at most
 * max_peers_per_address connections (ENet's duplicatePeers, counted by the
 * intercept below); an incoming connection whose ENet handshake does not
 * complete within ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS is dropped instead of
 * waiting for ENet's own timeout (up to 30 s). */
#include <stddef.h>

#include "enet_internal.h"

/* The incoming connection that has been half-open longest (one the scan has
 * not timed yet counts as the newest), or NULL when none is. */
static ENetPeer *rn_enet_oldest_half_open(rn_enet *t, enet_uint32 now)
{
    ENetPeer *oldest = NULL;
    enet_uint32 oldest_age = 0;
    for (size_t i = 0; i < t->host->peerCount; i++) {
        ENetPeer *p = &t->host->peers[i];
        if (p->state != ENET_PEER_STATE_ACKNOWLEDGING_CONNECT) {
            continue;
        }
        const rn_enet_half_open *h = &t->half_open[i];
        enet_uint32 age =
            h->seen && h->connect_id == p->connectID ? (enet_uint32)(now - h->since_ms) : 0;
        if (!oldest || age > oldest_age) {
            oldest = p;
            oldest_age = age;
        }
    }
    return oldest;
}

/* Called by enet_host_service for every datagram, before ENet reads it: a
 * CONNECT that ENet would ignore because its address holds its share of
 * connections is counted and dropped here (ENet checks the same limit itself,
 * duplicatePeers; this makes the refusals visible). When every slot is
 * taken, the oldest half-open connection makes room: a flood of CONNECTs
 * from many (perhaps forged) addresses then delays a real peer by at most
 * its own handshake, instead of holding every slot. */
int ENET_CALLBACK rn_enet_intercept(ENetHost *host, ENetEvent *event)
{
    /* Only the adapter calls enet_host_service: on the game thread with its
     * own event, on the service thread without one (rn_enet_servicing). */
    rn_enet *t = event ? (rn_enet *)(void *)((char *)event - offsetof(rn_enet, ev))
                       : rn_enet_servicing;
    if (!t) {
        return 0;
    }
    const enet_uint8 *data = host->receivedData;
    size_t len = host->receivedDataLength;
    if (len < sizeof(enet_uint16)) {
        return 0;
    }
    enet_uint16 peer_id = (enet_uint16)((data[0] << 8) | data[1]);
    enet_uint16 flags = peer_id & ENET_PROTOCOL_HEADER_FLAG_MASK;
    peer_id &= (enet_uint16) ~(ENET_PROTOCOL_HEADER_FLAG_MASK | ENET_PROTOCOL_HEADER_SESSION_MASK);
    size_t header = (flags & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME) ? sizeof(ENetProtocolHeader)
                                                                   : sizeof(enet_uint16);
    if (peer_id != ENET_PROTOCOL_MAXIMUM_PEER_ID || (flags & ENET_PROTOCOL_HEADER_FLAG_COMPRESSED) ||
        len <= header ||
        (data[header] & ENET_PROTOCOL_COMMAND_MASK) != ENET_PROTOCOL_COMMAND_CONNECT) {
        return 0; /* not a connection request: ENet's business */
    }
    size_t same_address = 0;
    bool free_slot = false;
    for (size_t i = 0; i < host->peerCount; i++) {
        const ENetPeer *p = &host->peers[i];
        if (p->state == ENET_PEER_STATE_DISCONNECTED) {
            free_slot = true;
        } else if (p->state != ENET_PEER_STATE_CONNECTING &&
                   p->address.host == host->receivedAddress.host) {
            if (p->address.port == host->receivedAddress.port) {
                return 0; /* a resent CONNECT of a connection ENet holds */
            }
            same_address++;
        }
    }
    if (same_address >= host->duplicatePeers) {
        t->stats.refused_per_address++;
        return 1;
    }
    if (!free_slot) {
        ENetPeer *oldest = rn_enet_oldest_half_open(t, enet_time_get());
        if (!oldest) {
            t->stats.refused_full++;
            return 1;
        }
        /* Never announced, so dropped silently; ENet then takes the CONNECT
         * into the freed slot. */
        enet_peer_reset(oldest);
        t->half_open[oldest - host->peers].seen = false;
        t->stats.handshakes_dropped++;
    }
    return 0;
}

/* Drops incoming connections whose ENet handshake has lasted longer than
 * ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS. Such a peer never produced an event, so
 * resetting it is silent, exactly what ENet's own (later) timeout does. */
void rn_enet_drop_half_open(rn_enet *t)
{
    enet_uint32 now = enet_time_get();
    for (size_t i = 0; i < t->host->peerCount; i++) {
        ENetPeer *p = &t->host->peers[i];
        rn_enet_half_open *h = &t->half_open[i];
        if (p->state != ENET_PEER_STATE_ACKNOWLEDGING_CONNECT) {
            h->seen = false;
            continue;
        }
        if (!h->seen || h->connect_id != p->connectID) {
            h->seen = true;
            h->connect_id = p->connectID;
            h->since_ms = now;
        } else if ((enet_uint32)(now - h->since_ms) >= ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS) {
            enet_peer_reset(p);
            h->seen = false;
            t->stats.handshakes_dropped++;
        }
    }
}
