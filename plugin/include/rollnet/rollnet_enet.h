/** @file
 * rollnet_enet: the rollnet transport over ENet (UDP, IPv4).
 *
 * Channel ROLLNET_CHANNEL_RELIABLE is ENet channel 0 with reliable, ordered
 * delivery; ENet resends, fragments and reassembles messages up to its
 * 32 MiB packet limit. Channel ROLLNET_CHANNEL_UNRELIABLE is ENet channel 1 with
 * unsequenced delivery: messages may be lost or arrive out of order, never
 * duplicated. Keep unreliable messages within one datagram (about
 * 1.3 KiB): ENet sends a larger unreliable message as reliable fragments.
 * ENet channel 2 is the adapter's own: busy reports of a service thread
 * (below), never a session's messages.
 *
 * Peer ids are ENet peer slots (0 .. max_peers + ROLLNET_ENET_SPARE_PEERS - 1):
 * stable while a connection lasts, and a slot may be reused by a later
 * connection after DISCONNECTED.
 *
 * What a bound transport exposes: anyone who can reach its UDP port can open
 * an ENet connection. The transport bounds what strangers (connections that
 * are not a player's peer) can hold: the host keeps ROLLNET_ENET_SPARE_PEERS
 * slots beyond max_peers, so connections still in their handshake do not use
 * up the players' slots; one IPv4 address holds at most max_peers_per_address
 * connections (further CONNECTs from it are ignored); an incoming connection
 * whose ENet handshake does not complete within
 * ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS (a CONNECT datagram that is never
 * followed up) is dropped without an event, and when every slot is taken
 * the oldest such half-open connection makes room for a new CONNECT. A connection that completes
 * ENet's handshake is handed to the session, which drops it unless it
 * claims a player within its own handshake timeout (3 s). Strangers from more
 * addresses than the spare slots can hold (more than
 * ROLLNET_ENET_SPARE_PEERS / max_peers_per_address of them) may still delay a
 * joiner until those timeouts free a slot. rollnet_enet_stats_get counts what
 * was refused and dropped.
 * ENet keeps its own clock; the `now_ms` arguments of the vtable are ignored.
 * Addresses for connect are "host:port", host being a dotted IPv4 address or
 * a name. Names are resolved by check_address, which the session calls for
 * every address at rollnet_session_create (that may block on the system
 * resolver; a name that does not resolve fails creation with
 * ROLLNET_ERR_BAD_ADDRESS and the log names the address), and remembered:
 * connect, which runs during frames, does not ask the resolver again for a
 * name it checked. A name connect was never asked to check is resolved at
 * connect (on the service thread when there is one). Once the transport has
 * received (frames run), check_address (a host introduction's address)
 * takes dotted addresses and names it checked before, and refuses any other
 * name rather than block the frame on the resolver.
 *
 * The service thread (rollnet_enet_desc::service_thread). Without it (the
 * default) ENet is serviced only inside the transport's receive, that is
 * inside rollnet_session_poll: while the game thread blocks without
 * announcing it (rollnet_session_begin_loading), nothing acknowledges the
 * peers' packets and they drop this peer after their timeout. With it, a
 * thread of the transport's own services ENet continuously
 * (acknowledgements, pings, resends, timeouts): the game thread's send,
 * connect, disconnect and set_timeout queue commands for it, and receive
 * pops the events it queued. When the game thread has not called receive
 * for about 300 ms, the thread tells every connected peer, every 250 ms,
 * that this peer is alive but busy (and for how long); their transports
 * report ROLLNET_TRANSPORT_PEER_BUSY, and their sessions hold this peer for
 * busy_timeout_ms (ROLLNET_EVENT_PEER_BUSY) instead of dropping it after
 * the disconnect timeout. Any ENet transport understands these reports,
 * with or without a thread of its own.
 *   Queues: 1024 commands to the thread (send fails with ROLLNET_ERR_TRANSPORT
 * when it is full, so a reliable message is never lost unreported; the last
 * 64 places are kept for connect, disconnect and set_timeout), 1024 events
 * from it (past 768 waiting, unreliable messages are dropped and counted in
 * rollnet_enet_stats::receive_dropped; reliable messages and connection
 * events then wait in ENet, in order, never dropped). Messages up to
 * 1200 bytes travel in the queue; longer ones in a buffer from the
 * transport's allocator, which then must be callable from both threads.
 *   Costs: sends go out at the thread's next turn (it turns about every
 * millisecond), and connect waits for the thread's answer (one turn).
 *
 * IMPORTANT: a transport is used from one thread at a time (the session's):
 * every function of its vtable and every rollnet_enet_* function taking it,
 * except as said below. Distinct transports may live on different threads.
 * With service_thread set, the transport's ENet host, peers and packets are
 * touched only by its service thread from create to destroy (the game
 * thread never calls ENet on them); the two threads share nothing but the
 * transport's queues, behind one mutex. ENet's process-wide initialisation
 * is reference-counted by create/destroy, which may run on any thread; a
 * game that also uses ENet directly keeps its own
 * enet_initialize/enet_deinitialize pair.
 */
#ifndef ROLLNET_ENET_H
#define ROLLNET_ENET_H

#include "rollnet/rollnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/** ENet channels rollnet opens on every connection (reliable, unreliable,
 * busy reports); peers offering fewer are refused. */
#define ROLLNET_ENET_CHANNEL_LIMIT 3
#define ROLLNET_ENET_DEFAULT_TIMEOUT_MS 5000u /**< rollnet_enet_desc::timeout_ms when zero */
/** ENet slots the host holds beyond rollnet_enet_desc::max_peers, for incoming
 * connections still in their handshake: as many as a session keeps for
 * handshakes beyond its players' peers, so the transport never hands a session
 * more connections than it can use, and strangers do not use up the players'
 * slots. */
#define ROLLNET_ENET_SPARE_PEERS 8
/** Largest rollnet_enet_desc::max_peers: ENet's peer id limit (4095) less the spare slots. */
#define ROLLNET_ENET_MAX_PEERS (4095 - ROLLNET_ENET_SPARE_PEERS)
/** rollnet_enet_desc::max_peers_per_address when zero and max_peers is not larger:
 * the players' peers of a default build (ROLLNET_MAX_PLAYERS 4: three) behind
 * one address, e.g. one machine or one home router, plus one handshake. */
#define ROLLNET_ENET_DEFAULT_PEERS_PER_ADDRESS 4
/** An incoming connection whose ENet handshake (CONNECT, VERIFY_CONNECT, its
 * acknowledgement) has not completed this long after the CONNECT arrived is
 * dropped, without an event. ENet alone would keep it up to 30 s. A real peer
 * completes it in one round trip; this leaves room for several resends. */
#define ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS 3000u

/** How to open an ENet transport. Valid when zero-initialised. */
typedef struct rollnet_enet_desc {
    /** UDP port to bind, where peers connect. 0 = no fixed port: the OS picks
     * a free one (enough for a peer that only connects out; rollnet_enet_port
     * tells which). Default 0. */
    uint16_t port;
    /** Dotted IPv4 address to bind, e.g. "127.0.0.1". NULL = every interface.
     * Read only during create. Default NULL. */
    const char *bind_address;
    /** Connections to players' peers held at once, incoming and outgoing
     * together; 1..ROLLNET_ENET_MAX_PEERS. The host holds
     * ROLLNET_ENET_SPARE_PEERS more for connections in their handshake, so
     * ENet accepts up to max_peers + ROLLNET_ENET_SPARE_PEERS connections in
     * all. A session needs one per remote peer (at most ROLLNET_MAX_PLAYERS - 1).
     * Default ROLLNET_MAX_PLAYERS. */
    int max_peers;
    /** How long a silent peer is kept before DISCONNECTED, for every new
     * connection (and for set_timeout(peer, 0)). ENet counts from the first
     * message the peer leaves unanswered (it pings an idle peer every 500 ms)
     * and checks at its resend times: with 1000, a peer that falls silent on
     * loopback is dropped after about 1.8 to 2 s. Default 5000. */
    uint32_t timeout_ms;
    /** Connections one IPv4 address may hold at once, in any state but an
     * outgoing connect; CONNECTs beyond it are ignored (counted in
     * rollnet_enet_stats::refused_per_address). Players sharing one address
     * (one machine, one router) count against it too, so it must be at least
     * the number of players' peers behind one address. >= 0. Default (0):
     * ROLLNET_ENET_DEFAULT_PEERS_PER_ADDRESS, or max_peers when larger. */
    int max_peers_per_address;
    /** Service ENet on a thread of the transport's own (see the file's
     * comment): acknowledgements and pings go on while the game thread
     * blocks, and the peers are told it is busy. false (the default): ENet
     * is serviced only inside receive, on the session's thread. */
    bool service_thread;
} rollnet_enet_desc;

/** What the transport refused or dropped before a session saw it; counters
 * since create. None of it reaches the game as an event. */
typedef struct rollnet_enet_stats {
    /** CONNECTs ignored because their address already held
     * max_peers_per_address connections. */
    uint64_t refused_per_address;
    /** CONNECTs ignored because every slot (max_peers + ROLLNET_ENET_SPARE_PEERS) was
     * taken by a connection past ENet's handshake. */
    uint64_t refused_full;
    /** Incoming connections dropped because their ENet handshake did not
     * complete within ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS, or made room for a
     * newer CONNECT while every slot was taken. */
    uint64_t handshakes_dropped;
    /** Connections closed at once because they opened fewer than
     * ROLLNET_ENET_CHANNEL_LIMIT channels (not rollnet peers). */
    uint64_t refused_channels;
    /** Datagrams on the busy channel that were not a well-formed busy report. */
    uint64_t busy_malformed;
    /** Service thread: unreliable messages dropped because 768 events waited
     * unread (the game thread was not polling). */
    uint64_t receive_dropped;
    /** Service thread: sends (and control commands) refused because the
     * queue to the thread was full. */
    uint64_t send_queue_full;
} rollnet_enet_stats;

/** Create an ENet transport bound as `desc` says (NULL desc = all defaults).
 * On success *out owns the ENet host; hand it to a session (which then owns
 * it) or release it with rollnet_transport_destroy. The adapter's own state is
 * taken from `allocator` (zero or NULL = malloc/free); ENet allocates its
 * buffers with its own allocator. Errors: INVALID_ARGUMENT (bad desc or
 * out == NULL), OUT_OF_MEMORY, TRANSPORT (ENet could not start or bind, e.g.
 * the port is taken, or the service thread could not start). On failure
 * *out is a zero transport. Any thread; with service_thread set, the thread
 * starts here and is stopped and joined by rollnet_transport_destroy (which
 * first sends what was queued and says goodbye to every peer). */
rollnet_error rollnet_enet_create(const rollnet_enet_desc *desc, const rollnet_allocator *allocator,
                                  rollnet_transport *out);

/** The UDP port the transport is bound to, or 0 when `t` is not an ENet
 * transport. Reads only a value fixed at create: any thread. */
uint16_t rollnet_enet_port(const rollnet_transport *t);

/** Block until a datagram waits on the transport's socket, an event is ready,
 * or timeout_ms passes; then call receive. Does not service ENet (no resends,
 * no acks while blocked), so keep timeout_ms short, e.g. a frame. Returns 1
 * when there is something to receive, 0 on timeout, -1 when `t` is not an
 * ENet transport or the wait failed. For loops that would otherwise spin;
 * the transport's thread. With service_thread set it waits for the service
 * thread to queue an event (ENet is serviced meanwhile). */
int rollnet_enet_wait(rollnet_transport *t, uint32_t timeout_ms);

/** Copy the transport's counters of refused and dropped connections into
 * *out. Works on the transport a session owns (pass a copy of the handle).
 * Errors: INVALID_ARGUMENT when `out` is NULL or `t` is not an ENet
 * transport (*out is then zeroed). Reads only; the transport's thread (with
 * service_thread set, the counters as the service thread last published
 * them, about a millisecond old). */
rollnet_error rollnet_enet_stats_get(const rollnet_transport *t, rollnet_enet_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* ROLLNET_ENET_H */
