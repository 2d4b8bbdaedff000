/* Wire messages: msgpack encode and validating decode. Internal.
 *
 * Every message is one msgpack array whose first element is the type. The
 * decoder checks every type, length and range it can check without session
 * state; the session checks frames against its window. */
#ifndef RN_PROTOCOL_H
#define RN_PROTOCOL_H

#include <msgpack.h>

#include "rollnet/rollnet.h"

/* 2: HELLO lost its trailing `reply` bool (12 elements).
 * 3: INPUT carries the sender's input delay.
 * 4: FINISH; LEAVE says whether the departure was announced.
 * 5: HELLO carries the game parameters (13 elements), REFUSE the key that
 *    differs (5 elements).
 * 6: LEAVE carries the departed peer's FINISH as the sender heard it.
 * 7: HELLO says whether the sender has a session key (14 elements); AUTH.
 * 8: READY: peers start together.
 * 9: INTRO, INTRO_ASK (a host introduces the peers it accepted that asked
 *    for each other); RESUME (a lost connection regained); the ENet
 *    transport opens a third channel (busy reports).
 * 10: HELLO says rejoin (15 elements); STATE_HEAD, STATE_CHUNK, WATCH,
 *    WATCH_ACK.
 * 11: ABSENT (3+ players: the survivors agree on a lost peer's last frame
 *    before playing on without it or giving its state to a rejoin); LEAVE
 *    says from which frame the sender played the departed players neutral. */
#define RN_PROTOCOL_VERSION 11
#define RN_MAX_MESSAGE 1200       /* bytes; larger messages are dropped as oversize */
#define RN_INPUT_ELEMENTS 8       /* an INPUT's array length (a fixarray: 0x90 | 8) */
#define RN_MAX_INPUT_FRAMES 128   /* frames one INPUT message may carry */
#define RN_MAX_FRAME 0x3fffffff   /* frames beyond this are out of range */
#define RN_AUTH_BYTES 32          /* an AUTH's proof: one crypto_auth tag (auth.h) */

typedef enum rn_msg_type {
    RN_MSG_HELLO = 1,    /* reliable: session parameters, nonce, the sender's players */
    RN_MSG_REFUSE = 2,   /* reliable: parameters differ; which one (and which game parameter) */
    RN_MSG_INPUT = 3,    /* unreliable: unacked inputs, ack, frame advantage */
    RN_MSG_CHECKSUM = 4, /* reliable: checksum of a confirmed frame */
    RN_MSG_LOADING = 5,  /* reliable: begin / end loading, with the sender's newest input frame */
    RN_MSG_LEAVE = 6,    /* reliable: a peer left; the sender's last inputs of its players */
    RN_MSG_FINISH = 7,   /* reliable: the sender finishes the session; later, that it is done */
    RN_MSG_AUTH = 8,     /* reliable: with a session key, the sender's proof that it holds it */
    RN_MSG_READY = 9,    /* reliable: the sender has accepted the receiver (its HELLO, its AUTH) */
    RN_MSG_INTRO = 10,   /* reliable: the sender (a host) introduces another peer it accepted */
    RN_MSG_INTRO_ASK = 11, /* reliable: the sender has no address for these players (to its host) */
    RN_MSG_RESUME = 12,      /* reliable: a lost connection regained: claim, challenge, proof, accept */
    RN_MSG_STATE_HEAD = 13,  /* reliable: a state transfer begins (state_transfer.h) */
    RN_MSG_STATE_CHUNK = 14, /* reliable: the transfer's next bytes */
    RN_MSG_WATCH = 15,       /* reliable: to a spectator, confirmed inputs of every player */
    RN_MSG_WATCH_ACK = 16,   /* reliable: from a spectator, the next frame it needs */
    RN_MSG_ABSENT = 17       /* reliable: 3+ players, a lost peer: the sender's note (p2p_absent.c) */
} rn_msg_type;

/* Bytes one STATE_CHUNK carries at most, and the largest state a transfer
 * may announce (a receiver also bounds it by its snapshot_capacity). */
#define RN_STATE_CHUNK_BYTES 1024u
#define RN_STATE_MAX_BYTES (64u << 20)

/* Longest address an INTRO carries, bytes (without a NUL): what a peer's
 * address holds. */
#define RN_INTRO_ADDRESS_MAX 127

typedef struct rn_hello {
    uint32_t version;
    uint64_t nonce;
    int32_t num_players, input_size, input_delay, fps, max_prediction, checksum_interval;
    uint64_t game_id, seed;
    uint32_t player_mask; /* players local to the sender */
    /* The sender's rollnet_session_desc::game_params: a map that
     * rn_game_params_parse accepts (size 0: none). Decode: points into the
     * decoded data. */
    const uint8_t *game_params;
    size_t game_params_size;
    bool keyed;           /* the sender has a session key: AUTH follows a matching HELLO */
    bool rejoin;          /* the sender takes the place of a crashed peer (p2p_rejoin.c) */
} rn_hello;

typedef struct rn_refuse {
    uint32_t param; /* rollnet_param */
    int64_t local_value, remote_value; /* as seen by the sender */
    /* ROLLNET_PARAM_GAME_PARAMS: the key that differs (values: 1 when that
     * side has it, 0 when not); empty for every other parameter. */
    char key[ROLLNET_GAME_PARAM_KEY_SIZE];
} rn_refuse;

typedef struct rn_input {
    uint16_t tag;            /* rn_nonce_tag(sender's nonce) */
    int32_t episode;         /* sender's current episode */
    int32_t ack_frame;       /* last receiver-input frame the sender has confirmed, -1 none */
    int32_t start_frame;     /* first frame carried; decoded as ack_frame when count is 0 */
    int32_t count;           /* frames carried, 0..RN_MAX_INPUT_FRAMES */
    int8_t frame_advantage;  /* sender's local frame advantage, clamped */
    int8_t delay;            /* sender's input delay, 0..ROLLNET_MAX_INPUT_DELAY: its newest
                                input frame is its next frame + delay - 1 */
    /* count * block_size bytes, frame-major; a block is the inputs of all the
     * sender's players (handle order), block_size = players * input_size.
     * Encode: read from here. Decode: points into the decoder's buffer. */
    const uint8_t *inputs;
} rn_input;

typedef struct rn_checksum {
    uint16_t tag;
    int32_t episode;
    int32_t frame;
    uint64_t checksum;
} rn_checksum;

typedef struct rn_loading {
    uint16_t tag;
    bool loading;       /* true: begins; false: ends */
    uint32_t grace_ms;  /* the sender's requested grace (informational) */
    int32_t frame;      /* newest input frame the sender had sent, -1 none: inputs
                         * up to it may still arrive after the notice */
} rn_loading;

/* A peer left (3+ players): every survivor tells the others the last frame
 * it holds of the departed players and those inputs, so all of them switch
 * the players to neutral after the same frame, with the same inputs before. */
typedef struct rn_leave {
    uint16_t tag;
    uint32_t player_mask;  /* the departed peer's players */
    int32_t last_frame;    /* the sender's last confirmed frame of them, -1 none */
    int32_t count;         /* frames last_frame-count+1 .. last_frame carried, 0..RN_MAX_INPUT_FRAMES */
    const uint8_t *data;   /* rn_inputs_compress of those frames (blocks of the players, handle order) */
    size_t size;
    bool left;             /* it left on purpose (rollnet_session_leave): the sender is it, or heard it */
    int32_t fin_stop, fin_end; /* its FINISH as the sender heard it (rn_finish), -1 -1 none */
    int32_t neutral_from;  /* the first frame the sender played them neutral in an absence that
                            * lasted until the departure (absent_play NEUTRAL), -1 none */
} rn_leave;

/* A peer whose connection is lost, in a session of 3+ players that takes
 * rejoins (p2p_absent.c): the sender's note about it, so that every survivor
 * holds the same inputs of its players before playing on without it or
 * giving its state to the process that rejoins. */
typedef struct rn_absent {
    uint16_t tag;
    uint32_t player_mask;  /* the lost peer's players */
    uint64_t nonce;        /* 0: the sender lost it; else the rejoining process it accepted */
    int32_t last_frame;    /* the sender's last confirmed frame of them, -1 none */
    int32_t neutral_from;  /* the first of those frames played neutral (absent_play), -1 none */
    int32_t count;         /* frames carried, ending at the last before neutral_from (or last_frame) */
    const uint8_t *data;   /* rn_inputs_compress of those frames, as in LEAVE */
    size_t size;
    uint32_t survivors;    /* the players of the survivors whose notes the sender's agreement
                            * takes (its own included): they must all name the same set */
} rn_absent;

/* The sender finishes the session (rollnet_session_finish): it stopped
 * before frame `stop` and its players' inputs end before `inputs_end`. Sent
 * again with done = true once every frame before the session's end is
 * confirmed (and recorded) there. */
typedef struct rn_finish {
    uint16_t tag;
    int32_t stop;       /* the sender's next frame when it began finishing */
    int32_t inputs_end; /* first frame without an input of the sender's players, >= stop */
    bool done;
} rn_finish;

/* With a session key, once the HELLOs match: the sender's rn_auth_proof,
 * over its nonce, the receiver's and both peers' player masks. */
typedef struct rn_auth {
    uint8_t proof[RN_AUTH_BYTES];
} rn_auth;

/* The sender has accepted the receiver, elapsed_ms ago (sent once reliably
 * on accepting, then unreliably every poll until the sender runs). */
typedef struct rn_ready {
    uint32_t elapsed_ms;
} rn_ready;

/* The sender accepted, and handshook with, the peer that hosts `player_mask`
 * and sees it at `address`: the receiver may dial it (p2p_intro.c). */
typedef struct rn_intro {
    uint16_t tag;
    uint32_t player_mask;
    /* address_len bytes, 1..RN_INTRO_ADDRESS_MAX, no NUL among them (none
     * needed after them). Encode: read from here. Decode: points into the
     * decoded data. */
    const char *address;
    uint32_t address_len;
} rn_intro;

/* The sender (a joiner) has no address for `player_mask`: the peer it
 * dialled (its host) may introduce them, if they ask for the sender too. */
typedef struct rn_intro_ask {
    uint16_t tag;
    uint32_t player_mask;
} rn_intro_ask;
/* Reconnecting a lost connection (p2p_reconnect.c). The side that dialled
 * connects again and CLAIMs the peer it was; the accepting side answers
 * with a CHALLENGE (a value it never used before in this session); the
 * dialler answers with a PROOF over the challenge (in a private session an
 * HMAC with the session key, else empty); the accepting side ACCEPTs and
 * both go on. Nonces are those of the first handshake. */
typedef enum rn_resume_kind {
    RN_RESUME_CLAIM = 0,
    RN_RESUME_CHALLENGE,
    RN_RESUME_PROOF,
    RN_RESUME_ACCEPT,
    RN_RESUME_PLAYED_ON, /* instead of ACCEPT: the frames since the loss were played without it */
    RN_RESUME_KINDS_
} rn_resume_kind;

typedef struct rn_resume {
    uint8_t kind;          /* rn_resume_kind */
    uint64_t nonce;        /* the sender's session nonce */
    uint64_t peer_nonce;   /* the receiver's session nonce, as the sender knows it */
    uint32_t player_mask;  /* the sender's players, non-zero */
    uint64_t challenge;    /* CHALLENGE, PROOF: the challenge; else 0 */
    uint8_t proof[RN_AUTH_BYTES];
    bool has_proof;        /* PROOF in a private session: proof holds an HMAC */
} rn_resume;

/* A state transfer begins (state_transfer.h): the game's snapshot of
 * `frame` (the state before it runs) and what a session needs to go on from
 * there: the episode that frame belongs to and that episode's first frame. */
typedef struct rn_state_head {
    uint16_t tag;
    int32_t frame;         /* 0..RN_MAX_FRAME */
    int32_t episode;       /* episodes completed before `frame`, 0..frame */
    int32_t episode_start; /* first frame of that episode, 0..frame */
    uint32_t size;         /* snapshot bytes, 0..RN_STATE_MAX_BYTES */
    uint64_t checksum;     /* XXH64 (seed 0) of all of them */
} rn_state_head;

/* The bytes at `offset` of the transfer the last STATE_HEAD announced. */
typedef struct rn_state_chunk {
    uint16_t tag;
    uint32_t offset;
    const uint8_t *data; /* size bytes, 1..RN_STATE_CHUNK_BYTES; decode: into the data */
    uint32_t size;
} rn_state_chunk;

/* Host to spectator: the confirmed inputs of every player for frames
 * start_frame .. start_frame + count - 1, and, once known, where the
 * session ends. */
typedef struct rn_watch {
    uint16_t tag;
    int32_t start_frame; /* >= 0 */
    int32_t count;       /* 0..RN_MAX_INPUT_FRAMES */
    int32_t end_frame;   /* -1, or the first frame the session does not run */
    /* count blocks of num_players * input_size bytes (the block_size of
     * rn_encode / rn_decode). Decode: points into the decoder's buffer. */
    const uint8_t *inputs;
} rn_watch;

/* Spectator to host: it holds every input before next_frame. */
typedef struct rn_watch_ack {
    uint16_t tag;
    int32_t next_frame; /* 0..RN_MAX_FRAME + 1 */
} rn_watch_ack;

typedef struct rn_msg {
    rn_msg_type type;
    union {
        rn_hello hello;
        rn_refuse refuse;
        rn_input input;
        rn_checksum checksum;
        rn_loading loading;
        rn_leave leave;
        rn_absent absent;
        rn_finish finish;
        rn_auth auth;
        rn_ready ready;
        rn_intro intro;
        rn_intro_ask intro_ask;
        rn_resume resume;
        rn_state_head state_head;
        rn_state_chunk state_chunk;
        rn_watch watch;
        rn_watch_ack watch_ack;
    } u;
} rn_msg;

typedef enum rn_decode_result {
    RN_DECODE_OK = 0,
    RN_DECODE_MALFORMED,  /* not msgpack, wrong types, wrong lengths, out of range */
    RN_DECODE_UNKNOWN,    /* well-formed but an unknown message type */
    RN_DECODE_OVERSIZE    /* larger than RN_MAX_MESSAGE */
} rn_decode_result;

/* Decoder state: a zone and an input buffer sized once at init. */
typedef struct rn_decoder {
    msgpack_zone zone;
    bool zone_ready;
    uint8_t *inputs; /* RN_MAX_INPUT_FRAMES * ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE */
    const rollnet_allocator *allocator;
} rn_decoder;

/* Takes the zone's one chunk and the input buffer from `a` (NULL or zero:
 * malloc/free). The decoder keeps the pointer: `a` must outlive it. */
rollnet_error rn_decoder_init(rn_decoder *d, const rollnet_allocator *a);
/* Safe on a zeroed or already freed decoder. */
void rn_decoder_free(rn_decoder *d);

/* 16-bit tag carried by per-frame messages, derived from a nonce. */
uint16_t rn_nonce_tag(uint64_t nonce);

/* Encode into out[0..cap). Returns the size, or 0 when it does not fit (in cap
 * or in RN_MAX_MESSAGE) or the message is out of the ranges rn_decode checks.
 * `block_size` is used by INPUT (bytes per frame; an INPUT with count 0 ignores
 * start_frame). Never allocates. */
size_t rn_encode(const rn_msg *m, int block_size, uint8_t *out, size_t cap);

/* Frame advantage as INPUT carries it: clamped to the int8 range. */
static inline int8_t rn_clamp_advantage(int32_t frames)
{
    return (int8_t)(frames < INT8_MIN ? INT8_MIN : frames > INT8_MAX ? INT8_MAX : frames);
}

/* The compression INPUT uses for its inputs: each block XORed with the one
 * before it (the first with zeros), then zero bytes run-length encoded (a
 * non-zero byte is itself; 0x00 n is n zero bytes, n in 1..255). Exposed so
 * the session can measure how many frames fit, and for tests.
 * Compress `count` blocks into out[0..cap); out may be NULL to measure only.
 * False when the result exceeds cap (when out is set) or arguments are invalid. */
bool rn_inputs_compress(const uint8_t *inputs, int count, int block_size, uint8_t *out,
                        size_t cap, size_t *out_len);
/* Decompress into out, which holds max_frames * block_size bytes. Returns the
 * number of blocks, or -1 when the data is malformed, would pass max_frames,
 * or does not end on a block boundary. */
int rn_inputs_decompress(const uint8_t *data, size_t len, int block_size, uint8_t *out,
                         int max_frames);

/* Decode and validate. `block_size` is the expected bytes per frame of INPUT
 * messages from this peer (0 before the handshake: INPUT is then malformed).
 * Pointers in *out refer to the decoder or to `data`, valid until the next
 * decode. Never allocates after init. */
rn_decode_result rn_decode(rn_decoder *d, const uint8_t *data, size_t len, int block_size,
                           rn_msg *out);

#endif
