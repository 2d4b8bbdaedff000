/* Per-player input queue: confirmed inputs, predictions for missing ones, and
 * the first frame whose prediction turned out wrong. Internal.
 *
 * Frames are confirmed contiguously: input for frame f is accepted only when
 * every frame before it is confirmed. A ring of `capacity` frames holds each
 * frame's input (confirmed, or the prediction last handed out for it). */
#ifndef RN_INPUT_QUEUE_H
#define RN_INPUT_QUEUE_H

#include "rollnet/rollnet.h"

typedef struct rn_input_queue {
    uint8_t *buf;              /* capacity * input_size, frame % capacity */
    int capacity;              /* power of two */
    int input_size;
    rollnet_prediction mode;
    uint8_t neutral[ROLLNET_MAX_INPUT_SIZE];
    int32_t last_confirmed;    /* inputs of frames <= this are confirmed; -1 none */
    int32_t last_given;        /* highest frame handed out by rn_iq_get; -1 none */
    int32_t first_incorrect;   /* first frame whose prediction was wrong; -1 none */
    int32_t tail;              /* oldest frame still held */
    int32_t disconnected_from; /* frames >= this are neutral and confirmed; -1 connected */
    /* Frames absent_from..absent_to-1 were played with the neutral input
     * while the player's peer was away (absent_play NEUTRAL): flagged like
     * a departure's. INT32_MAX..: none. */
    int32_t absent_from, absent_to;
} rn_input_queue;

/* `mem` holds capacity * input_size bytes; capacity must be a power of two. */
void rn_iq_init(rn_input_queue *q, uint8_t *mem, int capacity, int input_size,
                rollnet_prediction mode, const uint8_t *neutral);
/* An empty queue starts at `frame` instead of 0: inputs from it on are
 * added; none before it exists (a session that loads a received state). */
void rn_iq_start_at(rn_input_queue *q, int32_t frame);
/* Confirm frames 0..delay-1 with the neutral input (the input delay's prefix). */
void rn_iq_prefill(rn_input_queue *q, int delay);
/* The same for a queue started at `frame` (rn_iq_start_at): frames
 * frame..frame+delay-1 are neutral. */
void rn_iq_prefill_at(rn_input_queue *q, int32_t frame, int delay);

typedef enum rn_iq_add_result {
    RN_IQ_ADDED = 0,
    RN_IQ_DUPLICATE, /* frame already confirmed: ignored */
    RN_IQ_GAP,       /* an earlier frame is missing: refused */
    RN_IQ_FULL       /* beyond the ring: refused */
} rn_iq_add_result;

/* Confirm the input of `frame` (must be last_confirmed + 1). When the frame
 * was already handed out as a prediction that differs, first_incorrect moves
 * to it (if earlier). */
rn_iq_add_result rn_iq_add(rn_input_queue *q, int32_t frame, const uint8_t *input);
/* The input for `frame` into out; returns true when it is confirmed. A
 * predicted input is remembered so a later confirmation can be compared. */
bool rn_iq_get(rn_input_queue *q, int32_t frame, uint8_t *out);
/* The stored input of an already confirmed frame (NULL when not held). */
static inline const uint8_t *rn_iq_peek(const rn_input_queue *q, int32_t frame)
{
    if (frame < q->tail || frame > q->last_confirmed) {
        return NULL;
    }
    return q->buf + (size_t)(frame & (q->capacity - 1)) * (size_t)q->input_size;
}
/* Forget the first incorrect frame: a rollback to it has been scheduled. */
void rn_iq_clear_incorrect(rn_input_queue *q);
/* Frames before `frame` are no longer needed. */
void rn_iq_discard_before(rn_input_queue *q, int32_t frame);
/* The player left at `frame`: from then on its input is neutral and confirmed. */
void rn_iq_disconnect(rn_input_queue *q, int32_t frame);
#define RN_IQ_CONFIRMED_FOREVER 0x3fffffff
/* Highest confirmed frame, treating a disconnected player as confirmed forever. */
static inline int32_t rn_iq_confirmed(const rn_input_queue *q)
{
    return q->disconnected_from >= 0 ? RN_IQ_CONFIRMED_FOREVER : q->last_confirmed;
}
/* Frames a queue can accept beyond the ring's tail. */
static inline bool rn_iq_has_room(const rn_input_queue *q, int32_t frame)
{
    return frame < q->tail + q->capacity;
}

#endif
