/* A state transfer: the game's msgpack snapshot of a confirmed frame and the
 * session state needed to go on from it (the frame, its episode and that
 * episode's first frame), sent over the reliable channel as one STATE_HEAD
 * and STATE_CHUNKs of up to RN_STATE_CHUNK_BYTES, in order. Internal.
 *
 * The receiver checks every message like any other: the announced size
 * against its own bound (its snapshot_capacity), each chunk against what
 * came before (offset, size), and, once whole, the XXH64 checksum and that
 * the bytes are whole msgpack values. A failed check ends the transfer with
 * a reason to log; nothing is read past the buffer, nothing is allocated
 * after rn_state_in_init. The spectator uses it to join late; a peer that
 * comes back after a crash can use it the same way. No I/O here: the caller
 * sends the messages and feeds the ones it receives. */
#ifndef RN_STATE_TRANSFER_H
#define RN_STATE_TRANSFER_H

#include "protocol.h"
#include "sync.h"

/* What a transfer carries besides the bytes. */
typedef struct rn_state_info {
    int32_t frame;         /* the state before this frame runs */
    int32_t episode;       /* the episode `frame` belongs to */
    int32_t episode_start; /* that episode's first frame */
} rn_state_info;

/* ---- Sending --------------------------------------------------------------
 * The head of a transfer of data[0..size), then each chunk in turn:
 * rn_state_out_chunk(o, i, &m) for i = 0 .. rn_state_out_chunks(o) - 1.
 * `data` must stay valid while chunks are made (the caller sends them all
 * at once: the transport copies). */
typedef struct rn_state_out {
    const uint8_t *data;
    uint32_t size;
    uint16_t tag;
} rn_state_out;

/* False when size exceeds RN_STATE_MAX_BYTES or the info is out of range. */
bool rn_state_out_begin(rn_state_out *o, uint16_t tag, const rn_state_info *info,
                        const uint8_t *data, size_t size, rn_msg *head);
uint32_t rn_state_out_chunks(const rn_state_out *o);
void rn_state_out_chunk(const rn_state_out *o, uint32_t index, rn_msg *chunk);

/* ---- Receiving ----------------------------------------------------------- */
typedef enum rn_state_result {
    RN_STATE_MORE = 0, /* accepted; more to come */
    RN_STATE_DONE,     /* the transfer is whole and verified: info and bytes are valid */
    RN_STATE_REFUSED   /* refused (why says so): the transfer is over */
} rn_state_result;

typedef struct rn_state_in {
    rollnet_allocator alloc;
    uint8_t *buf;      /* cap bytes, taken once */
    size_t cap;
    bool have_head, done, refused;
    rn_state_info info;
    uint32_t size;     /* announced */
    uint64_t checksum; /* announced */
    uint32_t received;
} rn_state_in;

/* `cap`: the largest state accepted (a snapshot_capacity). */
rollnet_error rn_state_in_init(rn_state_in *in, const rollnet_allocator *a, size_t cap);
void rn_state_in_free(rn_state_in *in);
/* Feed a STATE_HEAD or STATE_CHUNK (other types are refused). A refusal
 * sets *why to a static text for the log; once DONE or REFUSED, every
 * later message is refused. */
rn_state_result rn_state_in_feed(rn_state_in *in, const rn_msg *m, const char **why);
/* After DONE: the bytes. */
static inline const uint8_t *rn_state_in_data(const rn_state_in *in, size_t *size)
{
    *size = in->size;
    return in->buf;
}

/* ---- A session's side (state_session.c) ------------------------------------
 * The state this session can give away now: the snapshot of the frame
 * promotion is at (its episode known there), once no rollback is under way
 * and every input before it is confirmed; NULL when there is none yet. */
const rn_snapshot_slot *rn_state_here(const rollnet_session *s, rn_state_info *info);
/* A session that has not started yet starts from a received state: its
 * frame, its snapshot (LOADed first), its ledger and episodes from there. */
rollnet_error rn_state_start(rollnet_session *s, const rn_state_info *info,
                             const uint8_t *data, size_t size);

#endif
