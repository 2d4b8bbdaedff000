#include <string.h>

#include "input_queue.h"

static uint8_t *slot(const rn_input_queue *q, int32_t frame)
{
    return q->buf + (size_t)(frame & (q->capacity - 1)) * (size_t)q->input_size;
}

void rn_iq_init(rn_input_queue *q, uint8_t *mem, int capacity, int input_size,
                rollnet_prediction mode, const uint8_t *neutral)
{
    memset(q, 0, sizeof(*q));
    q->buf = mem;
    q->capacity = capacity;
    q->input_size = input_size;
    q->mode = mode;
    if (neutral) {
        memcpy(q->neutral, neutral, (size_t)input_size);
    }
    q->last_confirmed = -1;
    q->last_given = -1;
    q->first_incorrect = -1;
    q->tail = 0;
    q->disconnected_from = -1;
    q->absent_from = INT32_MAX;
    q->absent_to = INT32_MAX;
    memset(mem, 0, (size_t)capacity * (size_t)input_size);
}

void rn_iq_start_at(rn_input_queue *q, int32_t frame)
{
    q->last_confirmed = frame - 1;
    q->last_given = frame - 1;
    q->tail = frame;
}

void rn_iq_prefill(rn_input_queue *q, int delay)
{
    for (int32_t f = 0; f < delay; f++) {
        memcpy(slot(q, f), q->neutral, (size_t)q->input_size);
    }
    q->last_confirmed = delay - 1;
}

void rn_iq_prefill_at(rn_input_queue *q, int32_t frame, int delay)
{
    for (int32_t f = frame; f < frame + delay; f++) {
        memcpy(slot(q, f), q->neutral, (size_t)q->input_size);
    }
    q->last_confirmed = frame + delay - 1;
}

static void mark_incorrect(rn_input_queue *q, int32_t frame)
{
    if (q->first_incorrect < 0 || frame < q->first_incorrect) {
        q->first_incorrect = frame;
    }
}

rn_iq_add_result rn_iq_add(rn_input_queue *q, int32_t frame, const uint8_t *input)
{
    if (q->disconnected_from >= 0 || frame <= q->last_confirmed) {
        return RN_IQ_DUPLICATE;
    }
    if (frame != q->last_confirmed + 1) {
        return RN_IQ_GAP;
    }
    if (!rn_iq_has_room(q, frame)) {
        return RN_IQ_FULL;
    }
    uint8_t *s = slot(q, frame);
    if (frame <= q->last_given && memcmp(s, input, (size_t)q->input_size) != 0) {
        mark_incorrect(q, frame);
    }
    memcpy(s, input, (size_t)q->input_size);
    q->last_confirmed = frame;
    return RN_IQ_ADDED;
}

bool rn_iq_get(rn_input_queue *q, int32_t frame, uint8_t *out)
{
    size_t n = (size_t)q->input_size;
    if (frame > q->last_given) {
        q->last_given = frame;
    }
    if (q->disconnected_from >= 0 && frame >= q->disconnected_from) {
        memcpy(out, q->neutral, n);
        return true;
    }
    if (frame <= q->last_confirmed) {
        memcpy(out, slot(q, frame), n);
        return true;
    }
    /* Predict, and remember the prediction for the comparison in rn_iq_add. */
    const uint8_t *pred = q->neutral;
    if (q->mode == ROLLNET_PREDICT_REPEAT_LAST && q->last_confirmed >= 0 &&
        q->last_confirmed >= q->tail) {
        pred = slot(q, q->last_confirmed);
    }
    uint8_t *s = slot(q, frame);
    if (s != pred) {
        memcpy(s, pred, n);
    }
    memcpy(out, s, n);
    return false;
}

void rn_iq_clear_incorrect(rn_input_queue *q)
{
    q->first_incorrect = -1;
}

void rn_iq_discard_before(rn_input_queue *q, int32_t frame)
{
    /* Keep the last confirmed input: predictions repeat it. */
    if (frame > q->last_confirmed) {
        frame = q->last_confirmed;
    }
    if (frame > q->tail) {
        q->tail = frame;
    }
}

void rn_iq_disconnect(rn_input_queue *q, int32_t frame)
{
    if (q->disconnected_from >= 0) {
        return;
    }
    if (frame <= q->last_confirmed) {
        frame = q->last_confirmed + 1;
    }
    /* Frames already handed out as predictions that differ from neutral must be replayed. */
    for (int32_t f = frame; f <= q->last_given; f++) {
        if (memcmp(slot(q, f), q->neutral, (size_t)q->input_size) != 0) {
            mark_incorrect(q, f);
            break;
        }
    }
    q->disconnected_from = frame;
}
