/* The ledger keeps two rings. The speculative ring holds the record of every
 * simulated frame (frame % spec_capacity), overwritten when a replay runs the
 * frame again. The confirmed ring holds promoted records until the game reads
 * them. Records move from the first to the second only in rn_ledger_promote(),
 * which checks the promotion guard (ARCHITECTURE invariant 1), and episode and
 * step numbers are computed there from the promoted frames alone (invariant 2),
 * so a replay can never count a step twice. */
#include <string.h>

#include "ledger.h"
#include "rn_alloc.h"

static size_t ledger_inputs_size(const rn_ledger *l)
{
    return (size_t)l->num_players * (size_t)l->input_size;
}

/* Point every slot of a ring at its share of one data block and one inputs block. */
static rollnet_error ledger_ring_alloc(rn_ledger *l, rn_ledger_slot **ring, int count)
{
    size_t rec = l->record_capacity > 0 ? l->record_capacity : 1;
    size_t in = ledger_inputs_size(l);
    rn_ledger_slot *slots = rn_calloc(&l->alloc, (size_t)count, sizeof(*slots));
    if (!slots) {
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    *ring = slots;
    uint8_t *data = rn_calloc(&l->alloc, (size_t)count, rec);
    uint8_t *inputs = rn_calloc(&l->alloc, (size_t)count, in);
    if (!data || !inputs) {
        rn_free(&l->alloc, data);
        rn_free(&l->alloc, inputs);
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    for (int i = 0; i < count; i++) {
        slots[i].frame = -1;
        slots[i].data = data + (size_t)i * rec;
        slots[i].inputs = inputs + (size_t)i * in;
    }
    return ROLLNET_ERR_OK;
}

/* Slot 0 of a ring owns the blocks every slot points into. */
static void ledger_ring_free(rn_ledger *l, rn_ledger_slot *ring)
{
    if (ring) {
        rn_free(&l->alloc, ring[0].data);
        rn_free(&l->alloc, ring[0].inputs);
        rn_free(&l->alloc, ring);
    }
}

rollnet_error rn_ledger_init(rn_ledger *l, const rollnet_allocator *a, int num_players,
                             int input_size, size_t record_capacity, int spec_capacity,
                             int conf_capacity)
{
    if (!l) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    memset(l, 0, sizeof(*l));
    rn_allocator_resolve(a, &l->alloc);
    l->writing_frame = -1;
    l->out.frame = -1;
    if (num_players < 1 || num_players > ROLLNET_MAX_PLAYERS || input_size < 1 ||
        input_size > ROLLNET_MAX_INPUT_SIZE || spec_capacity < 1 || conf_capacity < 1) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    l->num_players = num_players;
    l->input_size = input_size;
    l->record_capacity = record_capacity;
    l->spec_capacity = spec_capacity;
    l->conf_capacity = conf_capacity;

    rollnet_error err = ledger_ring_alloc(l, &l->spec, spec_capacity);
    if (err == ROLLNET_ERR_OK) {
        err = ledger_ring_alloc(l, &l->conf, conf_capacity);
    }
    if (err == ROLLNET_ERR_OK) {
        l->out.data = rn_calloc(&l->alloc, 1, record_capacity);
        l->out.inputs = rn_calloc(&l->alloc, 1, ledger_inputs_size(l));
        if (!l->out.data || !l->out.inputs) {
            err = ROLLNET_ERR_OUT_OF_MEMORY;
        }
    }
    if (err != ROLLNET_ERR_OK) {
        rn_ledger_free(l);
    }
    return err;
}

void rn_ledger_free(rn_ledger *l)
{
    if (!l || !l->alloc.free) {
        return;
    }
    ledger_ring_free(l, l->spec);
    ledger_ring_free(l, l->conf);
    rn_free(&l->alloc, l->out.data);
    rn_free(&l->alloc, l->out.inputs);
    rollnet_allocator alloc = l->alloc;
    memset(l, 0, sizeof(*l));
    l->alloc = alloc;
    l->writing_frame = -1;
    l->out.frame = -1;
}

static rn_ledger_slot *ledger_spec_slot(const rn_ledger *l, int32_t frame)
{
    return &l->spec[frame % l->spec_capacity];
}

bool rn_ledger_can_store(const rn_ledger *l, int32_t frame)
{
    if (!l || !l->spec || frame < 0 || frame < l->next_promote) {
        return false;
    }
    const rn_ledger_slot *s = ledger_spec_slot(l, frame);
    /* An older frame still waiting for promotion would be lost for good. */
    return !(s->frame >= l->next_promote && s->frame < frame);
}

rollnet_writer *rn_ledger_record_begin(rn_ledger *l, int32_t frame)
{
    if (!rn_ledger_can_store(l, frame)) {
        if (l) {
            l->writing_frame = -1;
        }
        return NULL;
    }
    rn_ledger_slot *s = ledger_spec_slot(l, frame);
    /* The record is written in place: whatever the slot held is gone from now
     * on, so it must not be promoted half-overwritten. */
    if (l->end_cache_valid && s->frame >= 0 && s->frame == l->end_cache) {
        l->end_cache_valid = false; /* the flagged record is being rewritten */
    }
    s->frame = -1;
    s->size = 0;
    rn_writer_init(&l->writer, s->data, l->record_capacity);
    l->writing_frame = frame;
    l->written = 0;
    return &l->writer;
}

rollnet_error rn_ledger_step_end(rn_ledger *l, int32_t frame, const uint8_t *inputs,
                                 uint32_t step_flags, uint32_t disconnected)
{
    if (!l || !l->spec || frame < 0 || frame < l->next_promote) {
        if (l) {
            l->writing_frame = -1;
        }
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    bool begun = l->writing_frame == frame;
    l->writing_frame = -1;
    if (!rn_ledger_can_store(l, frame)) {
        return ROLLNET_ERR_LEDGER_FULL;
    }
    rn_ledger_slot *s = ledger_spec_slot(l, frame);
    bool overflow = begun && l->writer.overflow;
    /* An overflowing record is kept empty rather than dropped: the frame's
     * inputs and episode-end flag still reach the confirmed ledger, and the
     * error tells the game its data did not fit. */
    s->size = (begun && !overflow) ? l->writer.len : 0;
    if (s->size > l->record_capacity) {
        s->size = 0;
        overflow = true;
    }
    s->disconnected = disconnected;
    if (inputs) {
        memcpy(s->inputs, inputs, ledger_inputs_size(l));
    } else {
        memset(s->inputs, 0, ledger_inputs_size(l));
    }
    if (l->end_cache_valid) {
        if (s->frame >= 0 && s->frame == l->end_cache) {
            l->end_cache_valid = false; /* its flag may change */
        } else if ((step_flags & ROLLNET_STEP_EPISODE_END) &&
                   (l->end_cache < 0 || frame < l->end_cache)) {
            l->end_cache = frame;
        }
    }
    s->step_flags = step_flags;
    s->episode = -1;
    s->step = -1;
    s->frame = frame;
    l->written = s->size;
    return overflow ? ROLLNET_ERR_SNAPSHOT_OVERFLOW : ROLLNET_ERR_OK;
}

void rn_ledger_discard_from(rn_ledger *l, int32_t frame)
{
    if (!l || !l->spec) {
        return;
    }
    for (int i = 0; i < l->spec_capacity; i++) {
        if (l->spec[i].frame >= frame) {
            l->spec[i].frame = -1;
        }
    }
    /* The cached end is the earliest flagged frame: frames before `frame`
     * hold none when it lies at or after it, and the rest are gone. */
    if (l->end_cache_valid && l->end_cache >= frame) {
        l->end_cache = -1;
    }
    if (l->writing_frame >= frame) {
        l->writing_frame = -1;
    }
}

int rn_ledger_promote(rn_ledger *l, const rn_promote_guard *g)
{
    if (!l || !l->spec || !g || g->rollback_pending || g->rollback_in_progress) {
        return 0;
    }
    int32_t last = g->confirmed_frame;
    if (g->limit_frame >= 0 && g->limit_frame < last) {
        last = g->limit_frame;
    }
    int moved = 0;
    while (l->next_promote <= last && l->conf_count < l->conf_capacity) {
        const rn_ledger_slot *s = ledger_spec_slot(l, l->next_promote);
        if (s->frame != l->next_promote) {
            break; /* not simulated yet, or discarded and not yet replayed */
        }
        rn_ledger_slot *d = &l->conf[(l->conf_head + l->conf_count) % l->conf_capacity];
        d->frame = s->frame;
        d->step_flags = s->step_flags;
        d->disconnected = g->absent_at ? g->absent_at(g->absent_ctx, s->frame) : s->disconnected;
        d->size = s->size;
        d->episode = l->episode;
        d->step = s->frame - l->episode_start;
        if (s->size > 0) {
            memcpy(d->data, s->data, s->size);
        }
        memcpy(d->inputs, s->inputs, ledger_inputs_size(l));
        l->conf_count++;
        if (s->step_flags & ROLLNET_STEP_EPISODE_END) {
            l->episode++;
            l->episode_start = s->frame + 1;
        }
        l->next_promote++;
        l->promoted++;
        moved++;
    }
    if (moved > 0 && l->end_cache_valid && l->end_cache >= 0 && l->end_cache < l->next_promote) {
        l->end_cache_valid = false; /* the end was promoted: look for the next one */
    }
    return moved;
}

int32_t rn_ledger_pending_episode_end(rn_ledger *l)
{
    if (!l || !l->spec) {
        return -1;
    }
    if (l->end_cache_valid) {
        return l->end_cache;
    }
    int32_t found = -1;
    for (int i = 0; i < l->spec_capacity; i++) {
        const rn_ledger_slot *s = &l->spec[i];
        if (s->frame >= l->next_promote && (s->step_flags & ROLLNET_STEP_EPISODE_END) &&
            (found < 0 || s->frame < found)) {
            found = s->frame;
        }
    }
    l->end_cache = found;
    l->end_cache_valid = true;
    return found;
}

bool rn_ledger_next(rn_ledger *l, rollnet_record *out)
{
    if (!l || !l->conf || !out || l->conf_count == 0) {
        return false;
    }
    /* Copied out so that the confirmed slot can be refilled by the next
     * promotion while the game still reads this record. */
    const rn_ledger_slot *s = &l->conf[l->conf_head];
    l->out.frame = s->frame;
    l->out.step_flags = s->step_flags;
    l->out.disconnected = s->disconnected;
    l->out.size = s->size;
    l->out.episode = s->episode;
    l->out.step = s->step;
    if (s->size > 0) {
        memcpy(l->out.data, s->data, s->size);
    }
    memcpy(l->out.inputs, s->inputs, ledger_inputs_size(l));
    l->conf_head = (l->conf_head + 1) % l->conf_capacity;
    l->conf_count--;

    out->frame = l->out.frame;
    out->episode = l->out.episode;
    out->step = l->out.step;
    out->episode_end = (l->out.step_flags & ROLLNET_STEP_EPISODE_END) != 0;
    out->inputs = l->out.inputs;
    out->data = l->out.data;
    out->size = l->out.size;
    out->disconnected = l->out.disconnected;
    return true;
}

void rn_ledger_start_at(rn_ledger *l, int32_t frame)
{
    if (l->promoted == 0 && frame > l->next_promote) {
        l->next_promote = frame;
        l->end_cache_valid = false;
    }
}

void rn_ledger_resume_at(rn_ledger *l, int32_t frame, int32_t episode, int32_t episode_start)
{
    l->next_promote = frame;
    l->episode = episode;
    l->episode_start = episode_start;
    l->end_cache_valid = false;
}
