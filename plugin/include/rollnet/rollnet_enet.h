/** @file
 * rollnet_enet: the rollnet transport over ENet (UDP, IPv4).
 *
 * Channel ROLLNET_CHANNEL_RELIABLE is ENet channel 0 with reliable, ordered
 * delivery; ENet resends, fragments and reassembles messages up to its
 * 32 MiB packet limit. Channel ROLLNET_CHANNEL_UNRELIABLE is ENet channel 1 with
 * unsequenced delivery: messages may be lost or arrive out of order, never
 * duplicated. Keep unreliable messages within one datagram (about
 * 1.3 KiB): ENet sends a larger unreliable message as reliable fragments.
 *
 * Peer ids are ENet peer slots (0 .. max_peers-1): stable while a connection
 * lasts, and a slot may be reused by a later connection after DISCONNECTED.
 * ENet keeps its own clock; the `now_ms` arguments of the vtable are ignored.
 * Addresses for connect are "host:port", host being a dotted IPv4 address or
 * a name (names are resolved with the system resolver, which may block).
 *
 * IMPORTANT: a transport is used from one thread at a time (the session's).
 * Distinct transports may live on different threads. ENet's process-wide
 * initialisation is reference-counted by create/destroy, which may run on any
 * thread; a game that also uses ENet directly keeps its own
 * enet_initialize/enet_deinitialize pair.
 */
#ifndef ROLLNET_ENET_H
#define ROLLNET_ENET_H

#include "rollnet/rollnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/** ENet channels rollnet opens on every connection; peers offering fewer are refused. */
#define ROLLNET_ENET_CHANNEL_LIMIT 2
#define ROLLNET_ENET_DEFAULT_TIMEOUT_MS 5000u /**< rollnet_enet_desc::timeout_ms when zero */

/** How to open an ENet transport. Valid when zero-initialised. */
typedef struct rollnet_enet_desc {
    /** UDP port to bind, where peers connect. 0 = no fixed port: the OS picks
     * a free one (enough for a peer that only connects out; rollnet_enet_port
     * tells which). Default 0. */
    uint16_t port;
    /** Dotted IPv4 address to bind, e.g. "127.0.0.1". NULL = every interface.
     * Read only during create. Default NULL. */
    const char *bind_address;
    /** Connections held at once, incoming and outgoing together; 1..4095.
     * Default ROLLNET_MAX_PLAYERS. */
    int max_peers;
    /** How long a silent peer is kept before DISCONNECTED, for every new
     * connection (and for set_timeout(peer, 0)). ENet counts from the first
     * message the peer leaves unanswered (it pings an idle peer every 500 ms)
     * and checks at its resend times: with 1000, a peer that falls silent on
     * loopback is dropped after about 1.8 to 2 s. Default 5000. */
    uint32_t timeout_ms;
} rollnet_enet_desc;

/** Create an ENet transport bound as `desc` says (NULL desc = all defaults).
 * On success *out owns the ENet host; hand it to a session (which then owns
 * it) or release it with rollnet_transport_destroy. The adapter's own state is
 * taken from `allocator` (zero or NULL = malloc/free); ENet allocates its
 * buffers with its own allocator. Errors: INVALID_ARGUMENT (bad desc or
 * out == NULL), OUT_OF_MEMORY, TRANSPORT (ENet could not start or bind, e.g.
 * the port is taken). On failure *out is a zero transport. Any thread. */
rollnet_error rollnet_enet_create(const rollnet_enet_desc *desc, const rollnet_allocator *allocator,
                                  rollnet_transport *out);

/** The UDP port the transport is bound to, or 0 when `t` is not an ENet
 * transport (or its port is not known yet). Reads only; the transport's thread. */
uint16_t rollnet_enet_port(const rollnet_transport *t);

/** Block until a datagram waits on the transport's socket, an event is ready,
 * or timeout_ms passes; then call receive. Does not service ENet (no resends,
 * no acks while blocked), so keep timeout_ms short, e.g. a frame. Returns 1
 * when there is something to receive, 0 on timeout, -1 when `t` is not an
 * ENet transport or the wait failed. For loops that would otherwise spin;
 * the transport's thread. */
int rollnet_enet_wait(rollnet_transport *t, uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* ROLLNET_ENET_H */
