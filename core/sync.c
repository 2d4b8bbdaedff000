#include <string.h>

#include "rn_alloc.h"
#include "sync.h"

static int next_pow2(int v)
{
    int p = 1;
    while (p < v) {
        p <<= 1;
    }
    return p;
}

rollnet_error rn_sync_init(rn_sync *s, const rollnet_allocator *a, const rn_sync_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->alloc = *a;
    s->cfg = *cfg;
    if (cfg->neutral) {
        memcpy(s->neutral, cfg->neutral, (size_t)cfg->input_size);
    }
    s->cfg.neutral = s->neutral;
    s->desync_frame = -1;
    s->last_replay_index = -1;
    s->end_frame = RN_IQ_CONFIRMED_FOREVER;

    /* The ring must hold every frame from the oldest unacknowledged or
     * unconfirmed input to the newest remote input a peer may send ahead
     * (each peer chooses its own input delay, and may change it). */
    s->queue_capacity = next_pow2(4 * (cfg->max_prediction + ROLLNET_MAX_INPUT_DELAY) + 64);
    size_t qbytes = (size_t)s->queue_capacity * (size_t)cfg->input_size;
    s->queue_mem = rn_calloc(a, (size_t)cfg->num_players, qbytes);
    if (!s->queue_mem) {
        goto oom;
    }
    for (int p = 0; p < cfg->num_players; p++) {
        rn_iq_init(&s->queues[p], s->queue_mem + (size_t)p * qbytes, s->queue_capacity,
                   cfg->input_size, cfg->prediction, s->neutral);
    }

    s->num_slots = cfg->max_prediction + 2;
    s->slots = rn_calloc(a, (size_t)s->num_slots, sizeof(*s->slots));
    if (!s->slots) {
        goto oom;
    }
    for (int i = 0; i < s->num_slots; i++) {
        s->slots[i].frame = -1;
        s->slots[i].buf = rn_calloc(a, 1, cfg->snapshot_capacity);
        if (!s->slots[i].buf) {
            goto oom;
        }
    }
    s->spare.frame = -1;
    s->spare.buf = rn_calloc(a, 1, cfg->snapshot_capacity);
    if (!s->spare.buf) {
        goto oom;
    }
    if (cfg->keep_desync_copies) {
        for (int i = 0; i < 2; i++) {
            s->desync_copy[i] = rn_calloc(a, 1, cfg->snapshot_capacity);
            if (!s->desync_copy[i]) {
                goto oom;
            }
        }
    }
    /* msgpack's zone allocates with malloc; this one chunk is sized so that
     * reading a snapshot never needs another. */
    if (!msgpack_zone_init(&s->zone, rn_reader_zone_size(cfg->snapshot_capacity))) {
        goto oom;
    }
    s->zone_ready = true;

    s->req_input_blocks = 2 * cfg->max_prediction + 4;
    s->req_cap = 4 * cfg->max_prediction + 12;
    s->reqs = rn_calloc(a, (size_t)s->req_cap, sizeof(*s->reqs));
    s->req_inputs = rn_calloc(a, (size_t)s->req_input_blocks,
                              (size_t)cfg->num_players * (size_t)cfg->input_size);
    if (!s->reqs || !s->req_inputs) {
        goto oom;
    }
    return ROLLNET_ERR_OK;
oom:
    rn_sync_free(s);
    return ROLLNET_ERR_OUT_OF_MEMORY;
}

void rn_sync_free(rn_sync *s)
{
    const rollnet_allocator *a = &s->alloc;
    if (!a->free) {
        return;
    }
    rn_free(a, s->queue_mem);
    if (s->slots) {
        for (int i = 0; i < s->num_slots; i++) {
            rn_free(a, s->slots[i].buf);
        }
        rn_free(a, s->slots);
    }
    rn_free(a, s->spare.buf);
    rn_free(a, s->desync_copy[0]);
    rn_free(a, s->desync_copy[1]);
    if (s->zone_ready) {
        msgpack_zone_destroy(&s->zone);
    }
    rn_free(a, s->reqs);
    rn_free(a, s->req_inputs);
    memset(s, 0, sizeof(*s));
}

bool rn_sync_rollback_in_progress(const rn_sync *s)
{
    return s->last_replay_index >= 0 && s->req_next <= s->last_replay_index;
}

bool rn_sync_within_window(const rn_sync *s)
{
    return s->frame - rn_sync_confirmed_frame(s) <= s->cfg.max_prediction;
}

static rollnet_request *push(rn_sync *s, rollnet_request_type type, int32_t frame, uint32_t flags)
{
    rollnet_request *r = &s->reqs[s->req_count++];
    r->type = type;
    r->frame = frame;
    r->flags = flags;
    r->inputs = NULL;
    r->disconnected = 0;
    r->user_data = s->cfg.user_data;
    return r;
}

static void push_advance(rn_sync *s, int32_t frame, uint32_t flags, int *block)
{
    size_t bsize = (size_t)s->cfg.num_players * (size_t)s->cfg.input_size;
    uint8_t *dst = s->req_inputs + (size_t)(*block)++ * bsize;
    for (int p = 0; p < s->cfg.num_players; p++) {
        rn_iq_get(&s->queues[p], frame, dst + (size_t)p * (size_t)s->cfg.input_size);
    }
    rollnet_request *r = push(s, ROLLNET_REQUEST_ADVANCE, frame, flags);
    r->inputs = dst;
    r->disconnected = s->anyone_absent ? rn_sync_absent_at(s, frame) : 0;
}

static void push_replay(rn_sync *s, int32_t from, int32_t to, int *block)
{
    push(s, ROLLNET_REQUEST_LOAD, from, ROLLNET_REQUEST_REPLAY);
    for (int32_t g = from; g < to; g++) {
        push_advance(s, g, ROLLNET_REQUEST_REPLAY, block);
        push(s, ROLLNET_REQUEST_SAVE, g + 1, ROLLNET_REQUEST_REPLAY);
    }
    int32_t depth = to - from;
    s->rollbacks++;
    s->frames_resimulated += (uint64_t)depth;
    s->last_depth = depth;
    if (depth > s->max_depth) {
        s->max_depth = depth;
    }
    s->last_replay_index = s->req_count - 1;
}

rollnet_error rn_sync_preload(rn_sync *s, const uint8_t *data, size_t size)
{
    return rn_sync_preload_at(s, 0, data, size);
}

rollnet_error rn_sync_preload_at(rn_sync *s, int32_t frame, const uint8_t *data, size_t size)
{
    if (s->started || s->frame != 0 || frame < 0) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (size > s->cfg.snapshot_capacity) {
        return ROLLNET_ERR_SNAPSHOT_OVERFLOW;
    }
    /* LOAD reads stored snapshots without the bounds walk: these bytes come
     * from a file, so they are walked here, once. */
    for (size_t off = 0; off < size;) {
        size_t end = 0;
        if (!rn_msgpack_measure(data, size, off, &end)) {
            return ROLLNET_ERR_SNAPSHOT_INVALID;
        }
        off = end;
    }
    rn_snapshot_slot *slot = &s->slots[frame % s->num_slots];
    if (size > 0) {
        memcpy(slot->buf, data, size);
    }
    slot->frame = frame;
    s->frame = frame;
    for (int p = 0; p < s->cfg.num_players; p++) {
        rn_iq_start_at(&s->queues[p], frame);
    }
    slot->size = size;
    slot->checksum_valid = false;
    s->started = true;
    s->load_first = true;
    return ROLLNET_ERR_OK;
}

int rn_sync_build(rn_sync *s, const rn_sync_plan *plan)
{
    int block = 0;
    s->req_count = 0;
    s->req_next = 0;
    s->last_replay_index = -1;

    if (s->load_first) {
        push(s, ROLLNET_REQUEST_LOAD, s->frame, 0);
        s->load_first = false;
    } else if (!s->started) {
        push(s, ROLLNET_REQUEST_SAVE, s->frame, 0);
        s->started = true;
    }
    int32_t fi = rn_sync_first_incorrect(s);
    if (fi >= 0) {
        push_replay(s, fi, s->frame, &block);
    }
    for (int p = 0; p < s->cfg.num_players; p++) {
        rn_iq_clear_incorrect(&s->queues[p]);
    }
    if (plan->validate) {
        push(s, ROLLNET_REQUEST_LOAD, s->frame, ROLLNET_REQUEST_VALIDATE_);
        push(s, ROLLNET_REQUEST_SAVE, s->frame, ROLLNET_REQUEST_VALIDATE_);
    }
    if (plan->advance) {
        push_advance(s, s->frame, plan->advance_flags, &block);
        push(s, ROLLNET_REQUEST_SAVE, s->frame + 1, 0);
        s->frame++;
        int d = plan->force_rollback;
        if (d > 0 && s->frame - d >= 0) {
            push_replay(s, s->frame - d, s->frame, &block);
        }
    }
    return s->req_count;
}

rollnet_error rn_sync_check_next(rn_sync *s, const rollnet_request *req, rollnet_request_type type)
{
    if (!rn_sync_is_request(s, req, s->req_next) || req->type != type) {
        return ROLLNET_ERR_WRONG_REQUEST;
    }
    return ROLLNET_ERR_OK;
}

/* A SAVE right after an ADVANCE the game did not end explicitly ends it. */
static rollnet_error check_save(rn_sync *s, const rollnet_request *req)
{
    if (s->req_next + 1 < s->req_count && rn_sync_is_request(s, req, s->req_next + 1) &&
        s->reqs[s->req_next].type == ROLLNET_REQUEST_ADVANCE && req->type == ROLLNET_REQUEST_SAVE) {
        s->req_next++;
    }
    return rn_sync_check_next(s, req, ROLLNET_REQUEST_SAVE);
}

rollnet_writer *rn_sync_save_begin(rn_sync *s, const rollnet_request *req)
{
    if (s->writing || s->reading || check_save(s, req) != ROLLNET_ERR_OK) {
        return NULL;
    }
    rn_writer_init(&s->writer, s->spare.buf, s->cfg.snapshot_capacity);
    s->writing = true;
    return &s->writer;
}

static uint64_t slot_checksum(rn_snapshot_slot *slot)
{
    if (!slot->checksum_valid) {
        slot->checksum = rollnet_checksum(slot->buf, slot->size);
        slot->checksum_valid = true;
    }
    return slot->checksum;
}

static void keep_desync(rn_sync *s, rn_snapshot_slot *first, int32_t frame)
{
    if (s->desync_found) {
        return;
    }
    s->desync_found = true;
    s->desync_frame = frame;
    s->desync_first = slot_checksum(first);
    s->desync_second = rollnet_checksum(s->spare.buf, s->writer.len);
    if (s->desync_copy[0]) {
        memcpy(s->desync_copy[0], first->buf, first->size);
        memcpy(s->desync_copy[1], s->spare.buf, s->writer.len);
    }
    s->desync_size[0] = first->size;
    s->desync_size[1] = s->writer.len;
}

static bool same_bytes(const rn_snapshot_slot *slot, const uint8_t *buf, size_t size)
{
    return slot->size == size && memcmp(slot->buf, buf, size) == 0;
}

rollnet_error rn_sync_save_end(rn_sync *s, const rollnet_request *req)
{
    if (!s->writing || rn_sync_check_next(s, req, ROLLNET_REQUEST_SAVE) != ROLLNET_ERR_OK) {
        return ROLLNET_ERR_WRONG_REQUEST;
    }
    s->writing = false;
    s->req_next++;
    if (s->writer.overflow) {
        return ROLLNET_ERR_SNAPSHOT_OVERFLOW;
    }
    /* The game writes container headers itself: one that announces more
     * values than follow would, at a LOAD, make msgpack-c reserve zone space
     * for all of them (gigabytes, outside the allocator). Refused here, at
     * the frame that wrote it, before it can enter a slot, so every stored
     * snapshot is whole and LOAD may skip the bounds walk. */
    if (!rn_writer_complete(&s->writer)) {
        return ROLLNET_ERR_SNAPSHOT_INVALID;
    }
    size_t size = s->writer.len;
    rn_snapshot_slot *slot = &s->slots[req->frame % s->num_slots];

    /* Comparisons are byte for byte; checksums are made only for a report. */
    if (req->flags & ROLLNET_REQUEST_VALIDATE_) {
        if (slot->frame != req->frame) {
            return ROLLNET_ERR_NO_SNAPSHOT;
        }
        if (!same_bytes(slot, s->spare.buf, size)) {
            s->validation_failed = true;
            keep_desync(s, slot, req->frame);
            return ROLLNET_ERR_SNAPSHOT_UNSTABLE;
        }
        return ROLLNET_ERR_OK;
    }

    rollnet_error err = ROLLNET_ERR_OK;
    if (s->cfg.keep_desync_copies && (req->flags & ROLLNET_REQUEST_REPLAY) &&
        slot->frame == req->frame && !same_bytes(slot, s->spare.buf, size)) {
        keep_desync(s, slot, req->frame);
        err = ROLLNET_ERR_DESYNC;
    }
    uint8_t *old = slot->buf;
    slot->buf = s->spare.buf;
    s->spare.buf = old;
    slot->frame = req->frame;
    slot->size = size;
    slot->checksum_valid = false;
    return err;
}

rollnet_reader *rn_sync_load_begin(rn_sync *s, const rollnet_request *req)
{
    if (s->writing || s->reading ||
        rn_sync_check_next(s, req, ROLLNET_REQUEST_LOAD) != ROLLNET_ERR_OK) {
        return NULL;
    }
    const rn_snapshot_slot *slot = rn_sync_find_snapshot(s, req->frame);
    if (!slot) {
        return NULL;
    }
    /* Written by the session's own writer into its own buffer, and stored
     * only after save_end found every container whole. */
    rn_reader_init_trusted(&s->reader, &s->zone, slot->buf, slot->size);
    s->reading = true;
    return &s->reader;
}

rollnet_error rn_sync_load_end(rn_sync *s, const rollnet_request *req)
{
    if (!s->reading || rn_sync_check_next(s, req, ROLLNET_REQUEST_LOAD) != ROLLNET_ERR_OK) {
        return ROLLNET_ERR_WRONG_REQUEST;
    }
    s->reading = false;
    s->req_next++;
    if (rollnet_reader_error(&s->reader) != ROLLNET_ERR_OK || !rn_reader_done(&s->reader)) {
        return ROLLNET_ERR_SNAPSHOT_READ;
    }
    return ROLLNET_ERR_OK;
}

rollnet_error rn_sync_advance_done(rn_sync *s, const rollnet_request *req)
{
    rollnet_error err = rn_sync_check_next(s, req, ROLLNET_REQUEST_ADVANCE);
    if (err == ROLLNET_ERR_OK) {
        s->req_next++;
    }
    return err;
}

const rn_snapshot_slot *rn_sync_find_snapshot(const rn_sync *s, int32_t frame)
{
    if (frame < 0 || !s->slots) {
        return NULL;
    }
    const rn_snapshot_slot *slot = &s->slots[frame % s->num_slots];
    return slot->frame == frame ? slot : NULL;
}

uint64_t rn_sync_checksum(rn_sync *s, int32_t frame, bool *found)
{
    rn_snapshot_slot *slot = (rn_snapshot_slot *)rn_sync_find_snapshot(s, frame);
    if (found) {
        *found = slot != NULL;
    }
    return slot ? slot_checksum(slot) : 0;
}

void rn_sync_discard_inputs_before(rn_sync *s, int32_t frame)
{
    for (int p = 0; p < s->cfg.num_players; p++) {
        rn_iq_discard_before(&s->queues[p], frame);
    }
}

static bool away_now(const rn_input_queue *q)
{
    return q->absent_to == INT32_MAX && q->absent_from != INT32_MAX;
}

uint32_t rn_sync_absence_begin(rn_sync *s, uint32_t players, int32_t frame)
{
    uint32_t begun = 0;
    for (int p = 0; p < s->cfg.num_players; p++) {
        rn_input_queue *q = &s->queues[p];
        if ((players & (1u << p)) && !away_now(q)) {
            rn_sync_mark_absent(s);
            q->absent_from = frame;
            q->absent_to = INT32_MAX;
            begun |= 1u << p;
        }
    }
    return begun;
}

void rn_sync_absence_end(rn_sync *s, uint32_t players, int32_t frame)
{
    for (int p = 0; p < s->cfg.num_players; p++) {
        if ((players & (1u << p)) && away_now(&s->queues[p])) {
            s->queues[p].absent_to = frame;
        }
    }
}

int32_t rn_sync_absence_start(const rn_sync *s, uint32_t players)
{
    for (int p = 0; p < s->cfg.num_players; p++) {
        if ((players & (1u << p)) && away_now(&s->queues[p])) {
            return s->queues[p].absent_from;
        }
    }
    return -1;
}
