/* Network simulator: a transport decorator that delays, jitters, drops,
 * duplicates and reorders the messages this side sends, over any inner
 * transport (memnet in tests, ENet in the e2e tests and the sample).
 *
 * A message that send accepts is copied into a fixed pool with a due time;
 * receive(now) first hands every copy due by `now` to the inner transport, in
 * due-time order with ties in send order, then returns the inner transport's
 * next event. A copy that is due at once (no delay drawn) goes straight to
 * the inner transport from send, after any copies already due, so a
 * simulator with every condition at zero adds no latency.
 *
 * The reliable channel is never lossy nor duplicated: a message the loss roll
 * would drop is delivered one extra round trip (2 * delay_ms + 10 ms) later,
 * and each reliable message is due no earlier than the previous reliable one
 * to the same peer, so reliable order holds under jitter and reordering.
 *
 * Every random draw comes from this simulator's own xorshift64* generator,
 * so a given seed, sequence of calls and clock values give the same
 * schedule. The loss and duplication rolls are drawn for every message and
 * the jitter and reorder rolls for every copy, whatever the rates, so a rate
 * of zero does not shift the draws of the other conditions.
 *
 * Errors: send refuses what it can never carry (INVALID_ARGUMENT: a bad
 * channel, a message over RN_NETSIM_MAX_MESSAGE; UNKNOWN_PEER: a negative
 * peer id) and a reliable message it has no room to hold (TRANSPORT); an
 * unreliable copy with no room is lost instead, as on a congested link. The
 * simulator does not know the inner transport's connections: a message held
 * for later that the inner transport refuses when it falls due is counted
 * (inner_failed), since its send has long returned. A message due at once
 * goes straight through and send returns the inner transport's error.
 * Everything else (connect, receive, peer_info, check_address) returns what
 * the inner transport returns.
 *
 * Ownership: the simulator owns the inner transport from create on, also when
 * create fails (it is then destroyed at once). */
#include <string.h>

#include "netsim_internal.h"
#include "rn_alloc.h"

typedef struct rn_netsim_msg {
    uint64_t due_ms;
    uint64_t seq; /* send order, for ties */
    int32_t peer;
    uint8_t channel;
    uint32_t size;
} rn_netsim_msg;

typedef struct rn_netsim {
    rollnet_allocator alloc;
    rollnet_transport inner;
    rollnet_netsim_desc desc; /* current conditions */
    uint64_t rng;
    uint64_t next_seq;
    uint32_t capacity;
    rn_netsim_msg *msgs;   /* capacity slots */
    uint8_t *data;         /* capacity * RN_NETSIM_MAX_MESSAGE bytes */
    uint32_t *free_slots;  /* stack of unused slot indices */
    uint32_t free_count;
    uint32_t *heap;        /* min-heap of held slot indices by (due_ms, seq) */
    uint32_t heap_count;
    /* Due time of the last reliable copy per peer; the last entry is shared
     * by peers >= RN_NETSIM_PEER_SLOTS. */
    uint64_t last_reliable_due[RN_NETSIM_PEER_SLOTS + 1];
    rn_netsim_counters counters;
} rn_netsim;

static const rollnet_transport_vtable netsim_vtable;

/* ---- RNG ---- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static void rng_seed(rn_netsim *ns, uint64_t seed)
{
    ns->rng = splitmix64(seed == 0 ? 1 : seed);
    if (ns->rng == 0) {
        ns->rng = 1; /* xorshift never leaves zero */
    }
}

static uint64_t rng_next(rn_netsim *ns)
{
    uint64_t x = ns->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    ns->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n), n > 0. The modulo bias is below 2^-32 for the n used here. */
static uint64_t rng_below(rn_netsim *ns, uint64_t n)
{
    return rng_next(ns) % n;
}

static bool rng_permille(rn_netsim *ns, uint32_t permille)
{
    return rng_below(ns, 1000) < permille;
}

/* ---- Held copies ---- */

static bool msg_before(const rn_netsim *ns, uint32_t a, uint32_t b)
{
    const rn_netsim_msg *ma = &ns->msgs[a];
    const rn_netsim_msg *mb = &ns->msgs[b];
    return ma->due_ms < mb->due_ms || (ma->due_ms == mb->due_ms && ma->seq < mb->seq);
}

static void heap_sift_down(rn_netsim *ns, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < ns->heap_count && msg_before(ns, ns->heap[l], ns->heap[m])) {
            m = l;
        }
        if (r < ns->heap_count && msg_before(ns, ns->heap[r], ns->heap[m])) {
            m = r;
        }
        if (m == i) {
            return;
        }
        uint32_t t = ns->heap[i];
        ns->heap[i] = ns->heap[m];
        ns->heap[m] = t;
        i = m;
    }
}

static void heap_push(rn_netsim *ns, uint32_t slot)
{
    uint32_t i = ns->heap_count++;
    ns->heap[i] = slot;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!msg_before(ns, ns->heap[i], ns->heap[parent])) {
            break;
        }
        uint32_t t = ns->heap[i];
        ns->heap[i] = ns->heap[parent];
        ns->heap[parent] = t;
        i = parent;
    }
}

static uint32_t heap_pop(rn_netsim *ns)
{
    uint32_t top = ns->heap[0];
    ns->heap[0] = ns->heap[--ns->heap_count];
    heap_sift_down(ns, 0);
    return top;
}

static void slot_release(rn_netsim *ns, uint32_t slot)
{
    ns->free_slots[ns->free_count++] = slot;
}

static uint8_t *slot_data(rn_netsim *ns, uint32_t slot)
{
    return ns->data + (size_t)slot * RN_NETSIM_MAX_MESSAGE;
}

/* Hand every copy due by now_ms to the inner transport. */
static void flush_due(rn_netsim *ns, uint64_t now_ms)
{
    while (ns->heap_count > 0 && ns->msgs[ns->heap[0]].due_ms <= now_ms) {
        uint32_t slot = heap_pop(ns);
        const rn_netsim_msg *m = &ns->msgs[slot];
        if (ns->inner.vtable->send(ns->inner.self, m->peer, (rollnet_channel)m->channel,
                                   slot_data(ns, slot), m->size, now_ms) != ROLLNET_ERR_OK) {
            ns->counters.inner_failed++;
        }
        slot_release(ns, slot);
    }
}

static size_t peer_slot(int peer)
{
    return peer < RN_NETSIM_PEER_SLOTS ? (size_t)peer : RN_NETSIM_PEER_SLOTS;
}

/* The connection to `peer` is gone: what was in flight to it is lost. */
static void drop_peer(rn_netsim *ns, int peer)
{
    if (peer < 0) {
        return;
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < ns->heap_count; i++) {
        uint32_t slot = ns->heap[i];
        if (ns->msgs[slot].peer == peer) {
            slot_release(ns, slot);
            ns->counters.dropped_disconnect++;
        } else {
            ns->heap[kept++] = slot;
        }
    }
    ns->heap_count = kept;
    for (uint32_t i = kept / 2; i-- > 0;) {
        heap_sift_down(ns, i);
    }
    if (peer < RN_NETSIM_PEER_SLOTS) {
        ns->last_reliable_due[peer] = 0;
    }
}

/* ---- Vtable ---- */

static rollnet_error netsim_connect(void *self, const char *address, uint64_t now_ms,
                                    int *peer_out)
{
    rn_netsim *ns = self;
    return ns->inner.vtable->connect(ns->inner.self, address, now_ms, peer_out);
}

static rollnet_error netsim_check_address(void *self, const char *address, char *why,
                                          size_t cap)
{
    rn_netsim *ns = self;
    if (!ns->inner.vtable->check_address) {
        return ROLLNET_ERR_OK;
    }
    return ns->inner.vtable->check_address(ns->inner.self, address, why, cap);
}

/* Delay of one copy, in ms from now; draws jitter and reorder. */
static uint64_t copy_delay(rn_netsim *ns, bool reliable_late)
{
    const rollnet_netsim_desc *d = &ns->desc;
    uint64_t jitter_span = 2 * (uint64_t)d->jitter_ms + 1;
    int64_t offset = (int64_t)rng_below(ns, jitter_span) - (int64_t)d->jitter_ms;
    int64_t delay = (int64_t)d->delay_ms + offset;
    if (delay < 0) {
        delay = 0;
    }
    if (rng_permille(ns, d->reorder_permille)) {
        delay += d->reorder_ms != 0 ? (int64_t)d->reorder_ms : 2 * (int64_t)d->delay_ms + 10;
        ns->counters.reordered++;
    }
    if (reliable_late) {
        delay += 2 * (int64_t)d->delay_ms + 10;
    }
    return (uint64_t)delay;
}

/* Hold one copy until due_ms, or send it now when it is already due: the
 * inner transport's error then. TRANSPORT, with *full set, when the pool has
 * no room to hold it. */
static rollnet_error place_copy(rn_netsim *ns, int peer, rollnet_channel channel,
                                const void *data, size_t size, uint64_t due_ms, uint64_t now_ms,
                                bool *full)
{
    *full = false;
    if (due_ms <= now_ms) {
        flush_due(ns, now_ms);
        return ns->inner.vtable->send(ns->inner.self, peer, channel, data, size, now_ms);
    }
    if (ns->free_count == 0) {
        ns->counters.dropped_full++;
        *full = true;
        return ROLLNET_ERR_TRANSPORT;
    }
    uint32_t slot = ns->free_slots[--ns->free_count];
    rn_netsim_msg *m = &ns->msgs[slot];
    m->due_ms = due_ms;
    m->seq = ns->next_seq++;
    m->peer = peer;
    m->channel = (uint8_t)channel;
    m->size = (uint32_t)size;
    if (size > 0) {
        memcpy(slot_data(ns, slot), data, size);
    }
    heap_push(ns, slot);
    return ROLLNET_ERR_OK;
}

static rollnet_error netsim_send(void *self, int peer, rollnet_channel channel,
                                 const void *data, size_t size, uint64_t now_ms)
{
    rn_netsim *ns = self;
    if (size > RN_NETSIM_MAX_MESSAGE || (size > 0 && !data)) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (channel != ROLLNET_CHANNEL_RELIABLE && channel != ROLLNET_CHANNEL_UNRELIABLE) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (peer < 0) {
        return ROLLNET_ERR_UNKNOWN_PEER;
    }
    bool lost = rng_permille(ns, ns->desc.loss_permille);
    bool dup = rng_permille(ns, ns->desc.dup_permille);
    ns->counters.sent++;

    if (channel == ROLLNET_CHANNEL_RELIABLE) {
        if (lost) {
            ns->counters.reliable_late++;
        }
        uint64_t due = now_ms + copy_delay(ns, lost);
        uint64_t *last = &ns->last_reliable_due[peer_slot(peer)];
        if (due < *last) {
            due = *last;
        }
        /* A reliable message that cannot be held is refused rather than lost. */
        bool full;
        rollnet_error err = place_copy(ns, peer, channel, data, size, due, now_ms, &full);
        if (err != ROLLNET_ERR_OK) {
            return err;
        }
        *last = due;
        return ROLLNET_ERR_OK;
    }

    if (lost) {
        ns->counters.lost++;
        return ROLLNET_ERR_OK;
    }
    if (dup) {
        ns->counters.duplicated++;
    }
    rollnet_error rc = ROLLNET_ERR_OK;
    for (int c = 0; c < (dup ? 2 : 1); c++) {
        uint64_t due = now_ms + copy_delay(ns, false);
        /* An unreliable copy with no room to wait in is lost, as on a congested link. */
        bool full;
        rollnet_error err = place_copy(ns, peer, channel, data, size, due, now_ms, &full);
        if (err != ROLLNET_ERR_OK && !full && rc == ROLLNET_ERR_OK) {
            rc = err;
        }
    }
    return rc;
}

static rollnet_error netsim_receive(void *self, uint64_t now_ms, rollnet_transport_event *out)
{
    rn_netsim *ns = self;
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    flush_due(ns, now_ms);
    out->type = ROLLNET_TRANSPORT_NONE;
    rollnet_error err = ns->inner.vtable->receive(ns->inner.self, now_ms, out);
    if (err != ROLLNET_ERR_OK) {
        out->type = ROLLNET_TRANSPORT_NONE; /* whatever the inner transport left there */
    } else if (out->type == ROLLNET_TRANSPORT_DISCONNECTED) {
        drop_peer(ns, out->peer);
    }
    return err;
}

/* Due copies go to the inner transport, which then puts them on the wire. */
static void netsim_flush(void *self, uint64_t now_ms)
{
    rn_netsim *ns = self;
    flush_due(ns, now_ms);
    if (ns->inner.vtable->flush) {
        ns->inner.vtable->flush(ns->inner.self, now_ms);
    }
}

static void netsim_disconnect(void *self, int peer)
{
    rn_netsim *ns = self;
    drop_peer(ns, peer);
    if (ns->inner.vtable->disconnect) {
        ns->inner.vtable->disconnect(ns->inner.self, peer);
    }
}

static void netsim_set_timeout(void *self, int peer, uint32_t timeout_ms)
{
    rn_netsim *ns = self;
    if (ns->inner.vtable->set_timeout) {
        ns->inner.vtable->set_timeout(ns->inner.self, peer, timeout_ms);
    }
}

/* The inner transport's view plus this side's added one-way delay counted
 * both ways: an estimate, since the other side's delay is unknown here. An
 * inner transport without peer_info measures nothing and knows no peers to
 * refuse: its fields count as 0, so only the added delay is reported. */
static rollnet_error netsim_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    rn_netsim *ns = self;
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (peer < 0) {
        return ROLLNET_ERR_UNKNOWN_PEER;
    }
    rollnet_transport_peer_info info = {0};
    if (ns->inner.vtable->peer_info) {
        rollnet_error err = ns->inner.vtable->peer_info(ns->inner.self, peer, &info);
        if (err != ROLLNET_ERR_OK) {
            return err;
        }
    }
    uint64_t rtt = (uint64_t)info.rtt_ms + 2 * (uint64_t)ns->desc.delay_ms;
    info.rtt_ms = rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
    *out = info;
    return ROLLNET_ERR_OK;
}

static void netsim_free(rn_netsim *ns)
{
    rollnet_allocator alloc = ns->alloc;
    rn_free(&alloc, ns->msgs);
    rn_free(&alloc, ns->data);
    rn_free(&alloc, ns->free_slots);
    rn_free(&alloc, ns->heap);
    rn_free(&alloc, ns);
}

static void netsim_destroy(void *self)
{
    rn_netsim *ns = self;
    rollnet_transport_destroy(&ns->inner);
    netsim_free(ns);
}

static const rollnet_transport_vtable netsim_vtable = {
    .connect = netsim_connect,
    .send = netsim_send,
    .receive = netsim_receive,
    .disconnect = netsim_disconnect,
    .set_timeout = netsim_set_timeout,
    .peer_info = netsim_peer_info,
    .destroy = netsim_destroy,
    .flush = netsim_flush,
    .check_address = netsim_check_address,
};

/* ---- Public ---- */

static uint32_t clamp_permille(uint32_t v)
{
    return v > 1000 ? 1000 : v;
}

rollnet_error rollnet_netsim_create(rollnet_transport inner, const rollnet_netsim_desc *desc,
                                    const rollnet_allocator *allocator, rollnet_transport *out)
{
    if (out) {
        *out = (rollnet_transport){0};
    }
    if (!out || !inner.vtable || !inner.vtable->connect || !inner.vtable->send ||
        !inner.vtable->receive) {
        rollnet_transport_destroy(&inner);
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    rollnet_allocator alloc;
    rn_allocator_resolve(allocator, &alloc);
    rn_netsim *ns = rn_calloc(&alloc, 1, sizeof *ns);
    if (!ns) {
        rollnet_transport_destroy(&inner);
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    ns->alloc = alloc;
    if (desc) {
        ns->desc = *desc;
    }
    /* Out-of-range rates are clamped here; rollnet_netsim_set reports them instead. */
    ns->desc.loss_permille = clamp_permille(ns->desc.loss_permille);
    ns->desc.dup_permille = clamp_permille(ns->desc.dup_permille);
    ns->desc.reorder_permille = clamp_permille(ns->desc.reorder_permille);
    ns->capacity = ns->desc.max_queued != 0 ? ns->desc.max_queued : RN_NETSIM_DEFAULT_MAX_QUEUED;
    rng_seed(ns, ns->desc.seed);
    ns->msgs = rn_calloc(&alloc, ns->capacity, sizeof *ns->msgs);
    ns->data = rn_calloc(&alloc, ns->capacity, RN_NETSIM_MAX_MESSAGE);
    ns->free_slots = rn_calloc(&alloc, ns->capacity, sizeof *ns->free_slots);
    ns->heap = rn_calloc(&alloc, ns->capacity, sizeof *ns->heap);
    if (!ns->msgs || !ns->data || !ns->free_slots || !ns->heap) {
        netsim_free(ns);
        rollnet_transport_destroy(&inner);
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    /* Slot 0 on top of the stack first keeps slot use (and so memory traces) predictable. */
    for (uint32_t i = 0; i < ns->capacity; i++) {
        ns->free_slots[i] = ns->capacity - 1 - i;
    }
    ns->free_count = ns->capacity;
    ns->inner = inner;
    out->vtable = &netsim_vtable;
    out->self = ns;
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_netsim_set(rollnet_transport *netsim, const rollnet_netsim_desc *desc)
{
    if (!netsim || netsim->vtable != &netsim_vtable || !netsim->self || !desc) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (desc->loss_permille > 1000 || desc->dup_permille > 1000 ||
        desc->reorder_permille > 1000) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    rn_netsim *ns = netsim->self;
    /* The seed keeps the running generator; max_queued keeps the pool sized at creation. */
    uint64_t seed = ns->desc.seed;
    uint32_t max_queued = ns->desc.max_queued;
    ns->desc = *desc;
    ns->desc.seed = seed;
    ns->desc.max_queued = max_queued;
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_netsim_flush(rollnet_transport *netsim, uint64_t now_ms)
{
    if (!netsim || netsim->vtable != &netsim_vtable || !netsim->self) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    netsim_flush(netsim->self, now_ms);
    return ROLLNET_ERR_OK;
}

bool rollnet_netsim_next_due(const rollnet_transport *netsim, uint64_t *due_ms)
{
    return rn_netsim_next_due(netsim, due_ms);
}

bool rn_netsim_counters_get(const rollnet_transport *t, rn_netsim_counters *out)
{
    if (!t || t->vtable != &netsim_vtable || !t->self || !out) {
        return false;
    }
    const rn_netsim *ns = t->self;
    *out = ns->counters;
    out->held = ns->heap_count;
    return true;
}

bool rn_netsim_next_due(const rollnet_transport *t, uint64_t *out)
{
    if (!t || t->vtable != &netsim_vtable || !t->self || !out) {
        return false;
    }
    const rn_netsim *ns = t->self;
    if (ns->heap_count == 0) {
        return false;
    }
    *out = ns->msgs[ns->heap[0]].due_ms;
    return true;
}
