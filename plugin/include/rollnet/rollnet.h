/** @file
 * rollnet: rollback netcode for deterministic games.
 *
 * One header is the whole public face of the library (the adapters add
 * rollnet_enet.h and rollnet_sdl.h). Every type is prefixed rollnet_, handles
 * are opaque, and every desc struct is valid when zero-initialised: each field
 * documents the default a zero stands for.
 *
 * IMPORTANT: a session is single-threaded. Every rollnet_session_* call on one
 * session must come from the same thread (or be serialised by the caller).
 * Distinct sessions share nothing and may live on different threads.
 *
 * IMPORTANT: the library never calls into the game while the game is inside a
 * rollnet call. rollnet_session_advance() returns a list of requests (LOAD,
 * ADVANCE, SAVE) that the game carries out in order; that is the only way the
 * game's state changes under rollnet's control.
 */
#ifndef ROLLNET_H
#define ROLLNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rollnet/rollnet_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

#define ROLLNET_ERROR_LIST(X)                                                                  \
    X(OK, "ok")                                                                                \
    X(INVALID_ARGUMENT, "invalid argument")                                                    \
    X(INVALID_PLAYER, "player handle out of range, or not a local player")                     \
    X(INVALID_INPUT_SIZE, "input size differs from the session's input_size")                  \
    X(NO_LOCAL_INPUT, "advance called before every local player's input was added")           \
    X(NOT_RUNNING, "the session is not running (handshake in progress or session ended)")      \
    X(PREDICTION_LIMIT, "prediction window full: waiting for remote inputs")                   \
    X(EPISODE_BARRIER, "waiting at an episode boundary for every input to be confirmed")       \
    X(REQUESTS_PENDING, "the previous request list has not been carried out")                  \
    X(WRONG_REQUEST, "the request is not the next one of the current list, or has another type") \
    X(OUT_OF_MEMORY, "allocation failed")                                                      \
    X(SNAPSHOT_OVERFLOW, "the snapshot or record is larger than its capacity")                 \
    X(SNAPSHOT_READ, "the snapshot read does not match what was written")                      \
    X(SNAPSHOT_UNSTABLE, "save, load, save gave different bytes: the game cannot snapshot")    \
    X(NO_SNAPSHOT, "no snapshot is stored for that frame")                                     \
    X(DESYNC, "checksums of the same frame differ")                                            \
    X(TRANSPORT, "the transport failed")                                                       \
    X(DISCONNECTED, "a peer disconnected")                                                     \
    X(REFUSED, "the handshake was refused: session parameters differ")                         \
    X(LEDGER_FULL, "the confirmed ledger is full: drain it with rollnet_session_next_record")  \
    X(WRONG_SESSION_KIND, "that call does not apply to this kind of session")                  \
    X(BUFFER_TOO_SMALL, "the output buffer is too small")                                      \
    X(IO, "a file could not be opened, read or written")                                      \
    X(FRAME_LIMIT, "the session reached the largest frame number it can send: start a new one") \
    X(EPISODE_MISMATCH, "the peers' games end episodes at different frames")                  \
    X(ABI_MISMATCH, "the game was compiled against the headers of another rollnet build")      \
    X(SNAPSHOT_INVALID, "the snapshot's array or map headers announce more values than were written")

typedef enum rollnet_error {
#define ROLLNET_X_ENUM(name, text) ROLLNET_ERR_##name,
    ROLLNET_ERROR_LIST(ROLLNET_X_ENUM)
#undef ROLLNET_X_ENUM
        ROLLNET_ERR_COUNT_
} rollnet_error;

/** A static, human-readable description; never NULL (unknown codes give "unknown error"). */
const char *rollnet_error_string(rollnet_error err);

/** The library's version, "MAJOR.MINOR.PATCH". Static storage. */
const char *rollnet_version(void);

/* ------------------------------------------------------------------------ */
/* Hooks: allocator and logger                                               */
/* ------------------------------------------------------------------------ */

/** All memory a session uses is taken through this allocator at creation time
 * (and for snapshot growth never: capacities are fixed). Zero = malloc/free. */
typedef struct rollnet_allocator {
    void *(*alloc)(size_t size, void *user_data);
    void (*free)(void *ptr, void *user_data);
    void *user_data;
} rollnet_allocator;

typedef enum rollnet_log_level {
    ROLLNET_LOG_DEBUG = 0,
    ROLLNET_LOG_INFO,
    ROLLNET_LOG_WARN,
    ROLLNET_LOG_ERROR
} rollnet_log_level;

/** Called synchronously from inside rollnet calls; the message is valid only for
 * the duration of the call. Zero = no logging. */
typedef struct rollnet_logger {
    void (*log)(rollnet_log_level level, const char *message, void *user_data);
    void *user_data;
} rollnet_logger;

/* ------------------------------------------------------------------------ */
/* Snapshot writer and reader (msgpack)                                      */
/* ------------------------------------------------------------------------ */

/** A writer packs msgpack values into a buffer the library owns and reuses.
 * Errors are sticky: after an overflow every further write is ignored and the
 * call that ends the write (save_end, advance_end) reports
 * ROLLNET_ERR_SNAPSHOT_OVERFLOW. A writer is valid between the call that hands
 * it out and the matching end call. */
typedef struct rollnet_writer rollnet_writer;

void rollnet_write_nil(rollnet_writer *w);
void rollnet_write_bool(rollnet_writer *w, bool v);
void rollnet_write_int(rollnet_writer *w, int64_t v);
void rollnet_write_uint(rollnet_writer *w, uint64_t v);
void rollnet_write_double(rollnet_writer *w, double v);
void rollnet_write_str(rollnet_writer *w, const char *s, size_t len);
void rollnet_write_bin(rollnet_writer *w, const void *data, size_t len);
/** Containers: write the header, then exactly n values (2n for a map: key, value, ...). */
void rollnet_write_array(rollnet_writer *w, uint32_t n);
void rollnet_write_map(rollnet_writer *w, uint32_t n);
/** ROLLNET_ERR_OK or ROLLNET_ERR_SNAPSHOT_OVERFLOW. */
rollnet_error rollnet_writer_error(const rollnet_writer *w);
/** A writer outside a session (tools, a game's own files, checking a ledger):
 * `storage` holds rollnet_writer_storage_size() bytes aligned for any type
 * (malloc'd, say); it and buf[0..cap) are the caller's and must outlive the
 * writer. Returns NULL when an argument is NULL. */
size_t rollnet_writer_storage_size(void);
rollnet_writer *rollnet_writer_open(void *storage, uint8_t *buf, size_t cap);
/** Bytes written so far. */
size_t rollnet_writer_length(const rollnet_writer *w);

/** A reader walks the values of a snapshot in the order they were written.
 * Each read returns false (and sets a sticky error) when the next value has
 * another type, is out of the target's range, or the data is exhausted; the
 * output is then left untouched. Containers are entered by reading their
 * header and then their elements (map: key, value, ...). Integers read with
 * any signedness as long as the value fits. */
typedef struct rollnet_reader rollnet_reader;

bool rollnet_read_nil(rollnet_reader *r);
bool rollnet_read_bool(rollnet_reader *r, bool *out);
bool rollnet_read_int(rollnet_reader *r, int64_t *out);
bool rollnet_read_uint(rollnet_reader *r, uint64_t *out);
bool rollnet_read_double(rollnet_reader *r, double *out);
/** Points into the snapshot buffer; valid until the matching load_end. */
bool rollnet_read_str(rollnet_reader *r, const char **out, size_t *len);
bool rollnet_read_bin(rollnet_reader *r, const void **out, size_t *len);
/** Copies a binary value of exactly len bytes into dst. */
bool rollnet_read_bin_exact(rollnet_reader *r, void *dst, size_t len);
bool rollnet_read_array(rollnet_reader *r, uint32_t *n);
bool rollnet_read_map(rollnet_reader *r, uint32_t *n);
/** ROLLNET_ERR_OK or ROLLNET_ERR_SNAPSHOT_READ. */
rollnet_error rollnet_reader_error(const rollnet_reader *r);

/* ------------------------------------------------------------------------ */
/* Transport interface                                                       */
/* ------------------------------------------------------------------------ */

/** Channel 0 is reliable and ordered (handshake, control, checksums, loading
 * notices); channel 1 is unreliable and unordered (inputs, acks). */
typedef enum rollnet_channel {
    ROLLNET_CHANNEL_RELIABLE = 0,
    ROLLNET_CHANNEL_UNRELIABLE = 1
} rollnet_channel;

typedef enum rollnet_transport_event_type {
    ROLLNET_TRANSPORT_NONE = 0,
    ROLLNET_TRANSPORT_CONNECTED,    /**< peer: a new connection, outgoing or incoming */
    ROLLNET_TRANSPORT_DISCONNECTED, /**< peer: the connection is gone (timeout or closed) */
    ROLLNET_TRANSPORT_RECEIVE       /**< peer, channel, data, size */
} rollnet_transport_event_type;

typedef struct rollnet_transport_event {
    rollnet_transport_event_type type;
    int peer;
    rollnet_channel channel;
    /** Owned by the transport; valid until the next receive call on it. */
    const uint8_t *data;
    size_t size;
} rollnet_transport_event;

/** What a transport knows of one peer; fields it cannot tell are 0. */
typedef struct rollnet_transport_peer_info {
    uint32_t rtt_ms;
    uint32_t rtt_variance_ms;
    uint32_t send_queue; /**< packets waiting to be sent or acknowledged */
} rollnet_transport_peer_info;

/** A transport is a vtable plus its state. The session calls it only from the
 * session's own calls (poll, advance, destroy) on the session's thread.
 * Peers are small non-negative integers chosen by the transport. `now_ms` is
 * the session's clock, for transports that simulate time. */
typedef struct rollnet_transport_vtable {
    /** Start connecting to an address; returns the new peer id, or -1. The
     * CONNECTED event follows once the connection stands. */
    int (*connect)(void *self, const char *address, uint64_t now_ms);
    /** Queue one message. The transport copies the bytes and sends them at the
     * next flush or receive, at the latest. 0 on success, -1 on failure. */
    int (*send)(void *self, int peer, rollnet_channel channel, const void *data, size_t size,
                uint64_t now_ms);
    /** Fetch one event; returns 1 and fills *out, or 0 when none is ready. */
    int (*receive)(void *self, uint64_t now_ms, rollnet_transport_event *out);
    /** Close a connection; a DISCONNECTED event may or may not follow. */
    void (*disconnect)(void *self, int peer);
    /** Set how long a silent peer is kept before the transport drops it (0 = the
     * transport's default). May be NULL. */
    void (*set_timeout)(void *self, int peer, uint32_t timeout_ms);
    /** Fill what the transport measures of a peer; returns 0, or -1 for an
     * unknown peer. May be NULL. */
    int (*peer_info)(void *self, int peer, rollnet_transport_peer_info *out);
    /** Release everything the transport owns. May be NULL. */
    void (*destroy)(void *self);
    /** Put everything queued on the wire now, together where the transport can
     * (one datagram per peer). The session calls it at the end of poll and of
     * advance. May be NULL (send then sends at once). */
    void (*flush)(void *self, uint64_t now_ms);
} rollnet_transport_vtable;

typedef struct rollnet_transport {
    const rollnet_transport_vtable *vtable;
    void *self;
} rollnet_transport;

/** Release a transport (calls vtable->destroy when set). Safe on a zero transport. */
void rollnet_transport_destroy(rollnet_transport *t);

/* ---- In-memory network, for tests: nodes addressed "mem:N" (N = node index).
 * Deterministic: messages are delivered in send order at the receiver's next
 * receive call. The memnet owns its transports; destroy the memnet after every
 * session that uses it. Not thread-safe. */
typedef struct rollnet_memnet rollnet_memnet;

rollnet_memnet *rollnet_memnet_create(int num_nodes, const rollnet_allocator *allocator);
void rollnet_memnet_destroy(rollnet_memnet *net);
/** The transport of node `node`. Its destroy is a no-op: the memnet owns it. */
rollnet_transport rollnet_memnet_transport(rollnet_memnet *net, int node);
/** Cut (or restore) every link to and from a node; messages sent while cut are lost. */
void rollnet_memnet_set_cut(rollnet_memnet *net, int node, bool cut);
/** One way only: lose what node `from` sends to node `to` on the channels in
 * `channels` (a mask of 1u << rollnet_channel); 0 restores the link. */
void rollnet_memnet_set_link_cut(rollnet_memnet *net, int from, int to, uint32_t channels);

/* ---- Network simulator: a decorator over any transport that delays, jitters,
 * drops, duplicates and reorders this side's outgoing messages. Seeded and
 * deterministic for a given sequence of calls and clock values. On the
 * reliable channel nothing is lost or duplicated (the real channel resends):
 * a "lost" reliable message is delivered late instead, in order. */
typedef struct rollnet_netsim_desc {
    uint32_t delay_ms;       /**< one-way delay added to every message. Default 0. */
    uint32_t jitter_ms;      /**< uniform +-jitter around delay (never below 0). Default 0. */
    uint32_t loss_permille;  /**< unreliable messages dropped per 1000. Default 0. */
    uint32_t dup_permille;   /**< unreliable messages sent twice per 1000. Default 0. */
    uint32_t reorder_permille; /**< messages held back by an extra delay per 1000. Default 0. */
    uint32_t reorder_ms;     /**< extra delay of a held-back message. Default 2 * delay + 10. */
    uint64_t seed;           /**< RNG seed. Default 1. */
    uint32_t max_queued;     /**< messages held at once; more are dropped. Default 4096. */
} rollnet_netsim_desc;

/** Wrap `inner`. The returned transport owns `inner` and destroys it.
 * Returns a zero transport (vtable NULL) on allocation failure. */
rollnet_transport rollnet_netsim_create(rollnet_transport inner, const rollnet_netsim_desc *desc,
                                        const rollnet_allocator *allocator);
/** Change the conditions of a running simulator (seed is ignored). */
rollnet_error rollnet_netsim_set(rollnet_transport *netsim, const rollnet_netsim_desc *desc);
/** Hand every held message due by now_ms to the inner transport without
 * receiving anything. The simulated wire lives in the sending process; call
 * this for a process that is about to block (or, in a test, for a node that
 * is paused) so that what it sent still arrives on time. */
rollnet_error rollnet_netsim_flush(rollnet_transport *netsim, uint64_t now_ms);
/** When the earliest held message falls due (the session's clock, ms): a
 * game that sleeps between frames can wake then. False when nothing is held
 * or the transport is not a simulator. */
bool rollnet_netsim_next_due(const rollnet_transport *netsim, uint64_t *due_ms);
/** Parse "delay=50,jitter=20,loss=5,dup=1,reorder=2,seed=7" (percent values for
 * loss/dup/reorder, fractions allowed: loss=0.5). Unknown keys are an error. */
rollnet_error rollnet_netsim_parse(const char *spec, rollnet_netsim_desc *out);

/* ------------------------------------------------------------------------ */
/* Session                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct rollnet_session rollnet_session;

typedef enum rollnet_session_kind {
    ROLLNET_SESSION_P2P = 0,  /**< peers over a transport */
    ROLLNET_SESSION_SYNCTEST  /**< no network: rolls back every frame to prove determinism */
} rollnet_session_kind;

typedef enum rollnet_player_kind {
    ROLLNET_PLAYER_LOCAL = 0,
    ROLLNET_PLAYER_REMOTE
} rollnet_player_kind;

typedef struct rollnet_player_desc {
    rollnet_player_kind kind;
    /** REMOTE only: the address to connect to ("host:port" for ENet, "mem:N" for
     * the memnet). NULL: accept the peer's incoming connection instead. Several
     * players may share one address (one peer, several local players). Copied. */
    const char *address;
} rollnet_player_desc;

typedef enum rollnet_prediction {
    ROLLNET_PREDICT_REPEAT_LAST = 0, /**< a missing input repeats the last confirmed one */
    ROLLNET_PREDICT_NEUTRAL          /**< a missing input is desc.neutral_input */
} rollnet_prediction;

#define ROLLNET_CHECKSUMS_OFF (-1)
#define ROLLNET_MAX_INPUT_SIZE 64
#define ROLLNET_MAX_INPUT_DELAY 32

typedef struct rollnet_session_desc {
    rollnet_session_kind kind;        /**< Default P2P. */
    int num_players;                  /**< 1..ROLLNET_MAX_PLAYERS. Default 2. */
    rollnet_player_desc players[ROLLNET_MAX_PLAYERS]; /**< Default: all local. */
    int input_size;                   /**< bytes per player per frame, 1..64. Default 1. */
    int input_delay;                  /**< frames, 0..ROLLNET_MAX_INPUT_DELAY. Default 0. */
    int max_prediction;               /**< frames, 1..ROLLNET_MAX_PREDICTION. Default ROLLNET_MAX_PREDICTION. */
    int fps;                          /**< frames per second, 1..1000. Default 60. */
    rollnet_prediction prediction;    /**< Default REPEAT_LAST. */
    const void *neutral_input;        /**< input_size bytes, copied. Default all zero. */
    int check_distance;               /**< SYNCTEST: frames rolled back each frame, 1..max_prediction. Default 1. */
    uint64_t game_id;                 /**< must agree on every peer. Default 0. */
    uint64_t seed;                    /**< must agree on every peer. Default 0. */
    int checksum_interval;            /**< frames between desync checks; ROLLNET_CHECKSUMS_OFF disables. Default 16. */
    uint32_t handshake_timeout_ms;    /**< Default 10000. */
    uint32_t notify_timeout_ms;       /**< silence before INTERRUPTED. Default 750. */
    uint32_t disconnect_timeout_ms;   /**< silence before DISCONNECTED. Default 5000. */
    uint32_t loading_grace_ms;        /**< silence allowed while a peer is loading. Default 60000. */
    uint32_t episode_timeout_ms;      /**< wait at an episode boundary. Default 5000. */
    size_t snapshot_capacity;         /**< bytes per snapshot. Default 65536. */
    size_t record_capacity;           /**< bytes per ledger record. Default 1024. */
    int ledger_capacity;              /**< confirmed records held until read. Default 4096. */
    uint64_t nonce;                   /**< this peer's session nonce. Default: random. */
    rollnet_transport transport;      /**< P2P: owned by the session from create on. */
    rollnet_allocator allocator;      /**< Default malloc/free. */
    rollnet_logger logger;            /**< Default none. */
    void *user_data;                  /**< Handed back in every request. Default NULL. */
} rollnet_session_desc;

/** How the caller was compiled: the sizes of the structs a session exchanges
 * and the build options that lay them out. rollnet_session_create (inline,
 * at the end of this header) fills it in, so a game built against the
 * headers of another build (another max_players, say) is refused with
 * ROLLNET_ERR_ABI_MISMATCH and a log line naming the struct, instead of
 * corrupting memory. */
typedef struct rollnet_abi {
    uint32_t version;  /**< ROLLNET_ABI_VERSION */
    uint32_t max_players, max_input_size, max_prediction;
    uint32_t session_desc, event, request, record, session_stats, peer_stats, desync_info;
} rollnet_abi;
#define ROLLNET_ABI_VERSION 1u

/** Create a session. On success *out owns everything, including desc->transport.
 * On failure *out is NULL and the transport has been destroyed.
 * P2P sessions start handshaking at the first rollnet_session_poll().
 * Call rollnet_session_create; this is what it calls with the caller's abi.
 * On ABI_MISMATCH with a desc of another size, nothing in it is read: the
 * message goes to stderr and the caller still owns the transport. */
rollnet_error rollnet_session_create_checked(const rollnet_session_desc *desc,
                                             rollnet_session **out, const rollnet_abi *abi);
/** Disconnect from every peer, destroy the transport and free the session. NULL is fine. */
void rollnet_session_destroy(rollnet_session *s);

/** Drive the network and timers: receive and validate messages, send what is
 * due, raise events. `now_ms` is the caller's clock (monotonic milliseconds);
 * it must not go backwards. Call it every tick, also while stalled. */
rollnet_error rollnet_session_poll(rollnet_session *s, uint64_t now_ms);

/** Queue the input of a local player for the next frame (taking effect at
 * frame + input_delay). `size` must equal input_size. Adding again before
 * advance replaces the earlier input. Returns ROLLNET_ERR_PREDICTION_LIMIT,
 * ROLLNET_ERR_EPISODE_BARRIER, ROLLNET_ERR_LEDGER_FULL or
 * ROLLNET_ERR_NOT_RUNNING when the session cannot advance now: skip the
 * frame and poll again. It returns OK while stalled when a rollback is
 * pending: advance then returns that rollback alone, and the input waits for
 * the next frame. The bytes are copied. */
rollnet_error rollnet_session_add_local_input(rollnet_session *s, int player, const void *input,
                                              size_t size);

/* ---- Requests ---- */

typedef enum rollnet_request_type {
    ROLLNET_REQUEST_SAVE = 0, /**< write the game state (the state before frame `frame` runs) */
    ROLLNET_REQUEST_LOAD,     /**< restore the state saved for `frame` */
    ROLLNET_REQUEST_ADVANCE   /**< step the game once with `inputs` (frame `frame`) */
} rollnet_request_type;

#define ROLLNET_REQUEST_REPLAY 0x1u      /**< ADVANCE/SAVE during a rollback's replay */
/** ADVANCE of a peer that runs more than max_prediction / 2 frames behind a
 * remote: the game may skip rendering it to catch up. */
#define ROLLNET_REQUEST_FAST_FORWARD 0x2u

typedef struct rollnet_request {
    rollnet_request_type type;
    int32_t frame;
    uint32_t flags;
    /** ADVANCE: num_players * input_size bytes, in player handle order. */
    const uint8_t *inputs;
    /** ADVANCE: bit i set when player i has left and its input is neutral. */
    uint32_t disconnected;
    void *user_data; /**< desc.user_data */
} rollnet_request;

/** Produce this frame's requests. The list lives in the session until the next
 * advance; carry out every request in order before calling advance again
 * (else ROLLNET_ERR_REQUESTS_PENDING). A LOAD must be carried out with
 * load_begin/load_end, a SAVE with save_begin/save_end; an ADVANCE may attach
 * a record with record_begin and should end with advance_end. On
 * ROLLNET_ERR_PREDICTION_LIMIT / EPISODE_BARRIER the list is empty. */
rollnet_error rollnet_session_advance(rollnet_session *s, const rollnet_request **requests,
                                      int *count);

/** SAVE: returns the writer for the state of req->frame, or NULL when req is
 * not the next pending request or not a SAVE. */
rollnet_writer *rollnet_session_save_begin(rollnet_session *s, const rollnet_request *req);
/** SAVE: store the written snapshot and its checksum. In a sync test this is
 * where a replayed frame is compared (ROLLNET_ERR_DESYNC). A snapshot whose
 * array or map header announced more values than were written is not stored
 * and stops the session (ROLLNET_ERR_SNAPSHOT_INVALID). */
rollnet_error rollnet_session_save_end(rollnet_session *s, const rollnet_request *req);
/** LOAD: returns a reader over the snapshot of req->frame, or NULL. */
rollnet_reader *rollnet_session_load_begin(rollnet_session *s, const rollnet_request *req);
rollnet_error rollnet_session_load_end(rollnet_session *s, const rollnet_request *req);
/** ADVANCE: optionally write the frame's record (for the ledger). NULL when req
 * is not the pending ADVANCE. */
rollnet_writer *rollnet_session_record_begin(rollnet_session *s, const rollnet_request *req);
#define ROLLNET_STEP_EPISODE_END 0x1u /**< the game's state says this frame ends the episode */
/** ADVANCE: mark it carried out, with flags computed from the game's state.
 * A game that uses the ledger calls it for every ADVANCE, replays included;
 * an ADVANCE left open is ended by the next save_begin with no flags and an
 * empty record. */
rollnet_error rollnet_session_advance_end(rollnet_session *s, const rollnet_request *req,
                                          uint32_t step_flags);

/* ---- Events ---- */

typedef enum rollnet_event_type {
    ROLLNET_EVENT_SYNCHRONIZING = 0, /**< player: handshake with its peer in progress */
    ROLLNET_EVENT_SYNCHRONIZED,      /**< player: handshake done */
    ROLLNET_EVENT_RUNNING,           /**< every peer synchronized: frames may advance */
    ROLLNET_EVENT_INTERRUPTED,       /**< player: no packets for notify_timeout_ms */
    ROLLNET_EVENT_RESUMED,           /**< player: packets again */
    ROLLNET_EVENT_DISCONNECTED,      /**< player: gone (u.disconnected says why) */
    ROLLNET_EVENT_REFUSED,           /**< player: handshake refused (u.refused) */
    ROLLNET_EVENT_DESYNC,            /**< u.desync: checksums of a confirmed frame differ */
    ROLLNET_EVENT_WAIT_RECOMMENDED,  /**< u.wait.frames: this peer runs ahead; skip frames */
    ROLLNET_EVENT_STALLED,           /**< u.stall: advance refused until inputs arrive */
    ROLLNET_EVENT_STALL_ENDED,       /**< advance possible again; u.stall.reason as started */
    ROLLNET_EVENT_LOADING,           /**< player: its peer announced loading */
    ROLLNET_EVENT_LOADING_ENDED,     /**< player: its peer is back from loading */
    ROLLNET_EVENT_EPISODE_COMPLETE,  /**< u.episode: every record of the episode is confirmed */
    ROLLNET_EVENT_EPISODE_TIMEOUT,   /**< u.episode: boundary wait timed out; play goes on */
    /** player: its game ends episodes at other frames than ours (u.episode:
     * the episode here and the frame that ended the one before, -1 none);
     * the session stops with ROLLNET_ERR_EPISODE_MISMATCH. */
    ROLLNET_EVENT_EPISODE_MISMATCH
} rollnet_event_type;

typedef enum rollnet_disconnect_reason {
    ROLLNET_DISCONNECT_TIMEOUT = 0,   /**< silent past disconnect_timeout_ms */
    ROLLNET_DISCONNECT_LOADING_GRACE, /**< silent past loading_grace_ms while loading */
    ROLLNET_DISCONNECT_CLOSED,        /**< the peer or the transport closed the connection */
    ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT,
    ROLLNET_DISCONNECT_BY_PEERS       /**< 3+ players: another peer lost it; all drop it together */
} rollnet_disconnect_reason;

/** Session parameters checked by the handshake. */
typedef enum rollnet_param {
    ROLLNET_PARAM_PROTOCOL_VERSION = 0,
    ROLLNET_PARAM_NUM_PLAYERS,
    ROLLNET_PARAM_INPUT_SIZE,
    ROLLNET_PARAM_INPUT_DELAY,
    ROLLNET_PARAM_FPS,
    ROLLNET_PARAM_MAX_PREDICTION,
    ROLLNET_PARAM_GAME_ID,
    ROLLNET_PARAM_SEED,
    ROLLNET_PARAM_CHECKSUM_INTERVAL,
    ROLLNET_PARAM_PLAYERS, /**< the peer claims players that are not remote here */
    /** A running peer's game ends episodes at other frames (values: the
     * episodes each side has completed); see ROLLNET_EVENT_EPISODE_MISMATCH. */
    ROLLNET_PARAM_EPISODE_ENDS
} rollnet_param;

const char *rollnet_param_string(rollnet_param p);

typedef enum rollnet_stall_reason {
    ROLLNET_STALL_PREDICTION_LIMIT = 0,
    ROLLNET_STALL_EPISODE_BARRIER,
    ROLLNET_STALL_LEDGER_FULL /**< read records with rollnet_session_next_record */
} rollnet_stall_reason;

typedef struct rollnet_event {
    rollnet_event_type type;
    int player; /**< the remote player concerned (lowest handle of its peer), or -1 */
    union {
        struct { int done, total; } synchronizing;
        /** From `frame` on the player's input is neutral (and confirmed). With 3+
         * players the survivors first agree on that frame (one round trip). */
        struct { rollnet_disconnect_reason reason; int32_t frame; } disconnected;
        struct { rollnet_param param; int64_t local_value, remote_value; } refused;
        struct { int32_t frame; uint64_t local_checksum, remote_checksum; } desync;
        struct { int frames; } wait;
        struct { rollnet_stall_reason reason; int32_t frame; } stall;
        struct { int32_t episode; int32_t end_frame; } episode;
    } u;
} rollnet_event;

/** Pop the oldest event; false when the queue is empty. The queue holds 256
 * events and never allocates. When it is full, a new event makes room by
 * dropping, in this order: the oldest advice or progress event
 * (SYNCHRONIZING, INTERRUPTED, RESUMED, WAIT_RECOMMENDED, STALLED,
 * STALL_ENDED, LOADING, LOADING_ENDED: what they report the stats and
 * advance's result report too); else the new event itself if it is one of
 * those; else a repeat that says nothing new (a later DESYNC about the same
 * player, or an event equal to one still queued); else the oldest
 * EPISODE_COMPLETE (the records' episode_end says the same); else the oldest
 * event. These last two are logged as errors. What stays keeps its order, and
 * every drop is counted in events_dropped. So SYNCHRONIZED, RUNNING,
 * DISCONNECTED, REFUSED, DESYNC, EPISODE_TIMEOUT and EPISODE_MISMATCH are
 * lost only when 256 of them, no two alike, wait unread. */
bool rollnet_session_next_event(rollnet_session *s, rollnet_event *out);

/* ---- Loading grace (P2P) ---- */

/** Tell every peer (reliably) that this client is about to block. They keep it
 * for up to loading_grace_ms of silence instead of disconnect_timeout_ms. */
rollnet_error rollnet_session_begin_loading(rollnet_session *s, uint64_t now_ms);
/** Back from loading: every peer restores the normal timeout. Any traffic after
 * loading also restores it. */
rollnet_error rollnet_session_end_loading(rollnet_session *s, uint64_t now_ms);

/* ---- Ledger ---- */

typedef struct rollnet_record {
    int32_t frame;
    int32_t episode;        /**< 0-based; derived from confirmed episode ends */
    int32_t step;           /**< 0-based frame index within the episode */
    bool episode_end;       /**< this frame ended its episode */
    const uint8_t *inputs;  /**< num_players * input_size confirmed inputs */
    const uint8_t *data;    /**< the record the game wrote (may be empty) */
    size_t size;
} rollnet_record;

/** Pop the next confirmed record, in frame order, each exactly once. The
 * pointers stay valid until the next call. False when none is ready. */
bool rollnet_session_next_record(rollnet_session *s, rollnet_record *out);

/* ---- Inspection ---- */

typedef struct rollnet_session_stats {
    int32_t frame;              /**< next frame to run */
    int32_t confirmed_frame;    /**< last frame whose every input is confirmed, or -1 */
    int32_t episode;            /**< current episode */
    uint64_t rollbacks;
    uint64_t frames_resimulated;
    int32_t max_rollback_depth;
    uint64_t stalls;
    uint64_t events_dropped;
    uint64_t records_promoted;
    int recommended_wait;       /**< frames; 0 when in balance */
    bool running;
    /** P2P: incoming connections that never claimed a player (strangers, or a
     * joiner with other parameters): refused at their HELLO, or dropped
     * (silent past the pending timeout, closed, or evicted for a newer one).
     * They raise no event: the log says why. */
    uint64_t handshakes_refused;
    uint64_t handshakes_dropped;
} rollnet_session_stats;

typedef struct rollnet_peer_stats {
    bool connected, synchronized, interrupted, loading, disconnected;
    uint32_t rtt_ms, jitter_ms;
    uint32_t send_queue;
    uint64_t bytes_sent, bytes_received;
    uint64_t messages_sent, messages_received;
    uint32_t bytes_sent_per_sec, bytes_received_per_sec; /**< over the last second */
    int32_t local_frames_ahead;  /**< how far this peer runs ahead of the remote */
    int32_t remote_frames_ahead; /**< what the remote reports of itself */
    int32_t last_received_frame;
    uint64_t rollbacks;          /**< rollbacks this peer's late inputs caused */
    uint64_t frames_resimulated; /**< frames those rollbacks replayed */
    int32_t max_rollback_depth;
    uint64_t dropped_malformed;  /**< failed to decode or out of range */
    uint64_t dropped_foreign;    /**< wrong nonce or from no known peer */
    uint64_t dropped_stale;      /**< from an earlier episode */
    uint64_t dropped_early;      /**< inputs that overtook the peer's handshake */
    uint64_t dropped_oversize;
} rollnet_peer_stats;

rollnet_error rollnet_session_stats_get(const rollnet_session *s, rollnet_session_stats *out);
/** Stats of the peer that hosts remote player `player`. */
rollnet_error rollnet_session_peer_stats(const rollnet_session *s, int player,
                                         rollnet_peer_stats *out);

/** The last desync a sync test (or a peer comparison) found. */
typedef struct rollnet_desync_info {
    int32_t frame;
    uint64_t first_checksum;  /**< sync test: the straight run; P2P: local */
    uint64_t second_checksum; /**< sync test: the replay; P2P: remote */
} rollnet_desync_info;

/** ROLLNET_ERR_OK and *out filled when a desync was found, else NO_SNAPSHOT. */
rollnet_error rollnet_session_desync_info(const rollnet_session *s, rollnet_desync_info *out);
/** Sync test: the two snapshots of the first mismatching frame as text
 * (which = 0: straight run, 1: replay). Writes a NUL-terminated string,
 * truncated to cap; returns BUFFER_TOO_SMALL when truncated. */
rollnet_error rollnet_session_desync_dump(const rollnet_session *s, int which, char *buf,
                                          size_t cap);
/** Any stored snapshot as text. */
rollnet_error rollnet_session_snapshot_dump(const rollnet_session *s, int32_t frame, char *buf,
                                            size_t cap);
/** Checksum of the stored snapshot of `frame`. */
rollnet_error rollnet_session_snapshot_checksum(const rollnet_session *s, int32_t frame,
                                                uint64_t *out);

/** Checksum rollnet uses for snapshots (xxHash64, seed 0). */
uint64_t rollnet_checksum(const void *data, size_t size);

/** The layout this translation unit sees (see rollnet_abi). */
static inline rollnet_abi rollnet_abi_here(void)
{
    rollnet_abi a;
    a.version = ROLLNET_ABI_VERSION;
    a.max_players = ROLLNET_MAX_PLAYERS;
    a.max_input_size = ROLLNET_MAX_INPUT_SIZE;
    a.max_prediction = ROLLNET_MAX_PREDICTION;
    a.session_desc = (uint32_t)sizeof(rollnet_session_desc);
    a.event = (uint32_t)sizeof(rollnet_event);
    a.request = (uint32_t)sizeof(rollnet_request);
    a.record = (uint32_t)sizeof(rollnet_record);
    a.session_stats = (uint32_t)sizeof(rollnet_session_stats);
    a.peer_stats = (uint32_t)sizeof(rollnet_peer_stats);
    a.desync_info = (uint32_t)sizeof(rollnet_desync_info);
    return a;
}

/** Create a session (see rollnet_session_create_checked). */
static inline rollnet_error rollnet_session_create(const rollnet_session_desc *desc,
                                                   rollnet_session **out)
{
    rollnet_abi abi = rollnet_abi_here();
    return rollnet_session_create_checked(desc, out, &abi);
}

#ifdef __cplusplus
}
#endif

#endif /* ROLLNET_H */
