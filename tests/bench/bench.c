/*
 * rollnet-bench: what rollnet costs, one figure per line, "name value unit",
 * so two runs can be compared line by line.
 *
 *   rollnet-bench [--filter PREFIX] [--frames N]
 *
 *   --filter PREFIX  print only figures whose name starts with PREFIX (and
 *                    run only the groups that can produce one)
 *   --frames N       frames (or iterations) per measurement; default 10000
 *
 * Figures
 *   core.frame.ns            library time of one frame of one peer of a
 *                            2-player P2P session over the memnet, steady
 *                            state, predictions always right (no rollback).
 *                            The game's own step/save/load/record code is not
 *                            counted: only the rollnet calls are timed.
 *   core.rollback{1,4,8}.ns  library time of the frame that rolls back that
 *                            many frames: the remote player's input changes
 *                            and reaches the peer late through a delaying
 *                            transport; every rollnet call of that frame
 *                            (poll, add_local_input, advance, load, replayed
 *                            saves, ...) is timed, the game's code is not.
 *   snapshot.s64.roundtrip.ns, snapshot.s16k.roundtrip.ns
 *                            save + load of the test game through
 *                            rollnet_writer/rollnet_reader, with a blob sized
 *                            so the snapshot is 64 B / 16384 B (its size is
 *                            printed on stderr).
 *   snapshot.s16k.memcpy.ns  the same round trip as two memcpys of the
 *                            snapshot's bytes (out and back), same run.
 *   core.allocs_per_frame    allocator calls per frame in steady state, with
 *                            bots that force rollbacks. Must be 0.
 *
 * Timing uses CLOCK_MONOTONIC around each library call; the cost of reading
 * the clock, measured at start-up, is subtracted. Frame and rollback figures
 * are medians over frames, snapshot figures medians over batches of 100, so
 * a preempted frame on a busy machine does not move them. The rollback
 * figures come from ticks of exactly one rollback of that depth; rollbacks of
 * another depth are reported on stderr. The session's time sync is ignored
 * (WAIT_RECOMMENDED is not obeyed), as the figures are about library cost.
 *
 * Under callgrind every library call goes through a noinline bench_lib_*
 * wrapper, so collection can be limited to the library:
 *
 *   valgrind --tool=callgrind --toggle-collect='bench_lib_*' \
 *       build/tests/bench/rollnet-bench --frames 2000 --filter core.frame
 *
 * When built with <valgrind/callgrind.h>, instrumentation is also switched on
 * only while a figure is measured; add --instr-atstart=no to skip the set-up.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

#include "rollnet/rollnet.h"
#include "snapshot.h"
#include "testgame.h"

#if defined(BENCH_HAVE_CALLGRIND) && BENCH_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#define BENCH_MEASURE_BEGIN() CALLGRIND_START_INSTRUMENTATION
#define BENCH_MEASURE_END() CALLGRIND_STOP_INSTRUMENTATION
#else
#define BENCH_MEASURE_BEGIN() ((void)0)
#define BENCH_MEASURE_END() ((void)0)
#endif

#if defined(__GNUC__)
#define BENCH_NOINLINE __attribute__((noinline))
#define BENCH_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define BENCH_NOINLINE
#define BENCH_BARRIER() ((void)0)
#endif

#define BENCH_SEED 0x0b5e55edu
/* 50 fps: whole milliseconds per frame, so a delay of k frames is exact. */
#define BENCH_FPS 50
#define BENCH_WARMUP 120
#define BENCH_HANDSHAKE_TICKS 2000
#define BENCH_BATCH 100

typedef struct bench_opts {
    const char *filter;
    long frames;
    double clock_overhead_ns; /* one timed empty call, subtracted from every timed call */
} bench_opts;

/* ------------------------------------------------------------------------ */
/* Output and timing                                                         */
/* ------------------------------------------------------------------------ */

static bool bench_wants(const bench_opts *o, const char *name)
{
    return strncmp(name, o->filter, strlen(o->filter)) == 0;
}

/* A group or sub-group runs when some figure it prints could pass the
 * filter: the filter is a prefix of its prefix, or the other way round. */
static bool bench_selected(const bench_opts *o, const char *prefix)
{
    size_t n = strlen(prefix) < strlen(o->filter) ? strlen(prefix) : strlen(o->filter);
    return strncmp(prefix, o->filter, n) == 0;
}

static void bench_report_fmt(const bench_opts *o, const char *fmt, const char *name, double value,
                             const char *unit)
{
    if (bench_wants(o, name)) {
        printf(fmt, name, value, unit);
        fflush(stdout);
    }
}

static void bench_report(const bench_opts *o, const char *name, double value, const char *unit)
{
    bench_report_fmt(o, "%s %.1f %s\n", name, value, unit);
}

static uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Library time accumulated over timed calls. */
typedef struct bench_meter {
    uint64_t ns;
    uint64_t calls;
} bench_meter;

#define BENCH_TIMED(meter, expr)                \
    do {                                        \
        uint64_t bench_t0_ = bench_now_ns();    \
        expr;                                   \
        (meter)->ns += bench_now_ns() - bench_t0_; \
        (meter)->calls++;                       \
    } while (0)

/* Samples of one figure; the median keeps a preempted tick from moving it. */
typedef struct bench_samples {
    double *v;
    size_t n, cap;
} bench_samples;

static void bench_samples_init(bench_samples *s, size_t cap)
{
    s->v = malloc((cap ? cap : 1) * sizeof *s->v);
    s->n = 0;
    s->cap = cap;
    if (!s->v) {
        fprintf(stderr, "rollnet-bench: out of memory\n");
        exit(1);
    }
}

static void bench_samples_add(bench_samples *s, double v)
{
    if (s->n < s->cap) {
        s->v[s->n++] = v;
    }
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, or -1 without samples. Sorts the samples. */
static double bench_samples_median(bench_samples *s)
{
    if (s->n == 0) {
        return -1;
    }
    qsort(s->v, s->n, sizeof *s->v, bench_cmp_double);
    return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

static void bench_samples_free(bench_samples *s)
{
    free(s->v);
    s->v = NULL;
}

/* Median cost of one timed empty call. */
static double bench_calibrate(void)
{
    bench_samples s;
    bench_samples_init(&s, 20001);
    for (size_t i = 0; i < s.cap; i++) {
        bench_meter m = {0};
        BENCH_TIMED(&m, BENCH_BARRIER());
        bench_samples_add(&s, (double)m.ns);
    }
    double v = bench_samples_median(&s);
    bench_samples_free(&s);
    return v;
}

/* Library time of a meter's calls without the clock's own cost. */
static double bench_meter_ns(const bench_opts *o, const bench_meter *m)
{
    double v = (double)m->ns - o->clock_overhead_ns * (double)m->calls;
    return v > 0 ? v : 0;
}

static bench_meter bench_meter_since(const bench_meter *now, const bench_meter *before)
{
    return (bench_meter){now->ns - before->ns, now->calls - before->calls};
}

/* ------------------------------------------------------------------------ */
/* Library calls: one noinline wrapper each, for callgrind's toggle-collect  */
/* ------------------------------------------------------------------------ */

BENCH_NOINLINE static rollnet_error bench_lib_poll(rollnet_session *s, uint64_t now)
{
    return rollnet_session_poll(s, now);
}

BENCH_NOINLINE static rollnet_error bench_lib_add_local_input(rollnet_session *s, int player,
                                                              const void *in, size_t size)
{
    return rollnet_session_add_local_input(s, player, in, size);
}

BENCH_NOINLINE static rollnet_error bench_lib_advance(rollnet_session *s,
                                                      const rollnet_request **reqs, int *n)
{
    return rollnet_session_advance(s, reqs, n);
}

BENCH_NOINLINE static rollnet_writer *bench_lib_save_begin(rollnet_session *s,
                                                           const rollnet_request *r)
{
    return rollnet_session_save_begin(s, r);
}

BENCH_NOINLINE static rollnet_error bench_lib_save_end(rollnet_session *s,
                                                       const rollnet_request *r)
{
    return rollnet_session_save_end(s, r);
}

BENCH_NOINLINE static rollnet_reader *bench_lib_load_begin(rollnet_session *s,
                                                           const rollnet_request *r)
{
    return rollnet_session_load_begin(s, r);
}

BENCH_NOINLINE static rollnet_error bench_lib_load_end(rollnet_session *s,
                                                       const rollnet_request *r)
{
    return rollnet_session_load_end(s, r);
}

BENCH_NOINLINE static rollnet_writer *bench_lib_record_begin(rollnet_session *s,
                                                             const rollnet_request *r)
{
    return rollnet_session_record_begin(s, r);
}

BENCH_NOINLINE static rollnet_error bench_lib_advance_end(rollnet_session *s,
                                                          const rollnet_request *r,
                                                          uint32_t flags)
{
    return rollnet_session_advance_end(s, r, flags);
}

BENCH_NOINLINE static bool bench_lib_next_event(rollnet_session *s, rollnet_event *ev)
{
    return rollnet_session_next_event(s, ev);
}

BENCH_NOINLINE static bool bench_lib_next_record(rollnet_session *s, rollnet_record *rec)
{
    return rollnet_session_next_record(s, rec);
}

/* Snapshot round trip of the test game through the library's writer and
 * reader: the game's save/load code is part of what this figure measures. */
BENCH_NOINLINE static size_t bench_lib_snapshot_save(const tg_game *g, uint8_t *buf, size_t cap)
{
    rollnet_writer w;
    rn_writer_init(&w, buf, cap);
    tg_save(g, &w);
    return rollnet_writer_error(&w) == ROLLNET_ERR_OK ? w.len : 0;
}

BENCH_NOINLINE static bool bench_lib_snapshot_load(tg_game *g, msgpack_zone *zone,
                                                   const uint8_t *buf, size_t len)
{
    rollnet_reader r;
    rn_reader_init(&r, zone, buf, len);
    return tg_load(g, &r);
}

/* ------------------------------------------------------------------------ */
/* Counting allocator                                                        */
/* ------------------------------------------------------------------------ */

typedef struct bench_alloc_count {
    uint64_t allocs, frees;
} bench_alloc_count;

static void *bench_alloc(size_t size, void *user_data)
{
    ((bench_alloc_count *)user_data)->allocs++;
    return malloc(size);
}

static void bench_free(void *ptr, void *user_data)
{
    ((bench_alloc_count *)user_data)->frees++;
    free(ptr);
}

/* ------------------------------------------------------------------------ */
/* A transport that holds this side's unreliable messages back              */
/* ------------------------------------------------------------------------ */

/* Wraps a memnet transport and delays unreliable messages by delay_ms so a
 * remote input reaches the other peer a known number of frames late. Reliable
 * messages go straight through (the handshake and checksums are not what is
 * measured). Fixed storage: no allocation while frames run. */
#define BENCH_DELAY_SLOTS 256
#define BENCH_DELAY_MAX_MSG 2048

typedef struct bench_delay_msg {
    uint64_t due_ms;
    int peer;
    size_t size;
    uint8_t data[BENCH_DELAY_MAX_MSG];
} bench_delay_msg;

typedef struct bench_delay {
    rollnet_transport inner;
    uint64_t delay_ms;
    bench_delay_msg slots[BENCH_DELAY_SLOTS];
    int head, count;
    uint64_t dropped;
} bench_delay;

static void bench_delay_flush(bench_delay *d, uint64_t now_ms)
{
    while (d->count > 0 && d->slots[d->head].due_ms <= now_ms) {
        bench_delay_msg *m = &d->slots[d->head];
        d->inner.vtable->send(d->inner.self, m->peer, ROLLNET_CHANNEL_UNRELIABLE, m->data,
                              m->size, now_ms);
        d->head = (d->head + 1) % BENCH_DELAY_SLOTS;
        d->count--;
    }
}

static int bench_delay_connect(void *self, const char *address, uint64_t now_ms)
{
    bench_delay *d = self;
    return d->inner.vtable->connect(d->inner.self, address, now_ms);
}

static int bench_delay_send(void *self, int peer, rollnet_channel channel, const void *data,
                            size_t size, uint64_t now_ms)
{
    bench_delay *d = self;
    bench_delay_flush(d, now_ms);
    if (channel == ROLLNET_CHANNEL_RELIABLE || d->delay_ms == 0) {
        return d->inner.vtable->send(d->inner.self, peer, channel, data, size, now_ms);
    }
    if (d->count == BENCH_DELAY_SLOTS || size > BENCH_DELAY_MAX_MSG) {
        d->dropped++;
        return 0; /* lost on an unreliable channel */
    }
    bench_delay_msg *m = &d->slots[(d->head + d->count) % BENCH_DELAY_SLOTS];
    m->due_ms = now_ms + d->delay_ms;
    m->peer = peer;
    m->size = size;
    memcpy(m->data, data, size);
    d->count++;
    return 0;
}

static int bench_delay_receive(void *self, uint64_t now_ms, rollnet_transport_event *out)
{
    bench_delay *d = self;
    bench_delay_flush(d, now_ms);
    return d->inner.vtable->receive(d->inner.self, now_ms, out);
}

static void bench_delay_disconnect(void *self, int peer)
{
    bench_delay *d = self;
    d->inner.vtable->disconnect(d->inner.self, peer);
}

static void bench_delay_set_timeout(void *self, int peer, uint32_t timeout_ms)
{
    bench_delay *d = self;
    if (d->inner.vtable->set_timeout) {
        d->inner.vtable->set_timeout(d->inner.self, peer, timeout_ms);
    }
}

static int bench_delay_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    bench_delay *d = self;
    return d->inner.vtable->peer_info ? d->inner.vtable->peer_info(d->inner.self, peer, out) : -1;
}

/* The bench owns the bench_delay itself; the memnet owns the inner transport. */
static void bench_delay_destroy(void *self)
{
    bench_delay *d = self;
    rollnet_transport_destroy(&d->inner);
}

static const rollnet_transport_vtable bench_delay_vtable = {
    .connect = bench_delay_connect,
    .send = bench_delay_send,
    .receive = bench_delay_receive,
    .disconnect = bench_delay_disconnect,
    .set_timeout = bench_delay_set_timeout,
    .peer_info = bench_delay_peer_info,
    .destroy = bench_delay_destroy,
};

/* ------------------------------------------------------------------------ */
/* Two P2P peers in one process                                              */
/* ------------------------------------------------------------------------ */

typedef struct bench_peer {
    rollnet_session *s;
    tg_game *g;
    int local;          /* handle of this peer's local player */
    bench_meter lib;    /* library time of this peer's ticks */
    uint64_t frames, skips;
} bench_peer;

typedef struct bench_pair {
    rollnet_memnet *net;
    bench_delay *delay; /* on peer 1's outgoing messages */
    bench_peer peer[2];
    bench_alloc_count allocs;
    uint64_t now_ms;
    uint64_t ticks;
} bench_pair;

static void bench_fail(const char *what, rollnet_error err)
{
    fprintf(stderr, "rollnet-bench: %s: %s\n", what, rollnet_error_string(err));
    exit(1);
}

static uint64_t bench_frame_ms(uint64_t tick)
{
    return tick * 1000u / BENCH_FPS;
}

/* Carry out requests with the game, timing only the library calls. */
static rollnet_error bench_execute(bench_peer *p, const rollnet_request *reqs, int n)
{
    rollnet_error err = ROLLNET_ERR_OK;
    for (int i = 0; i < n && err == ROLLNET_ERR_OK; i++) {
        const rollnet_request *r = &reqs[i];
        switch (r->type) {
        case ROLLNET_REQUEST_SAVE: {
            rollnet_writer *w;
            BENCH_TIMED(&p->lib, w = bench_lib_save_begin(p->s, r));
            if (!w) {
                return ROLLNET_ERR_WRONG_REQUEST;
            }
            tg_save(p->g, w);
            BENCH_TIMED(&p->lib, err = bench_lib_save_end(p->s, r));
            break;
        }
        case ROLLNET_REQUEST_LOAD: {
            rollnet_reader *rd;
            BENCH_TIMED(&p->lib, rd = bench_lib_load_begin(p->s, r));
            if (!rd) {
                return ROLLNET_ERR_WRONG_REQUEST;
            }
            bool ok = tg_load(p->g, rd);
            BENCH_TIMED(&p->lib, err = bench_lib_load_end(p->s, r));
            if (!ok && err == ROLLNET_ERR_OK) {
                err = ROLLNET_ERR_SNAPSHOT_READ;
            }
            break;
        }
        case ROLLNET_REQUEST_ADVANCE: {
            tg_step(p->g, r->inputs);
            rollnet_writer *w;
            BENCH_TIMED(&p->lib, w = bench_lib_record_begin(p->s, r));
            if (w) {
                tg_write_record(p->g, w, r->inputs);
            }
            uint32_t flags = tg_episode_over(p->g) ? ROLLNET_STEP_EPISODE_END : 0u;
            BENCH_TIMED(&p->lib, err = bench_lib_advance_end(p->s, r, flags));
            break;
        }
        default:
            return ROLLNET_ERR_WRONG_REQUEST;
        }
    }
    return err;
}

static bool bench_is_skip(rollnet_error err)
{
    return err == ROLLNET_ERR_PREDICTION_LIMIT || err == ROLLNET_ERR_EPISODE_BARRIER ||
           err == ROLLNET_ERR_NOT_RUNNING;
}

/* One tick of one peer. Returns OK when a frame ran, a skip code, or an error. */
static rollnet_error bench_tick(bench_peer *p, uint64_t now_ms, uint8_t input)
{
    rollnet_error err;
    BENCH_TIMED(&p->lib, err = bench_lib_poll(p->s, now_ms));
    if (err == ROLLNET_ERR_OK) {
        BENCH_TIMED(&p->lib, err = bench_lib_add_local_input(p->s, p->local, &input, 1));
    }
    if (err == ROLLNET_ERR_OK) {
        const rollnet_request *reqs = NULL;
        int n = 0;
        BENCH_TIMED(&p->lib, err = bench_lib_advance(p->s, &reqs, &n));
        if (err == ROLLNET_ERR_OK) {
            err = bench_execute(p, reqs, n);
        }
    }
    /* Events and confirmed records are drained every tick, as a game would. */
    bool more;
    rollnet_event ev;
    do {
        BENCH_TIMED(&p->lib, more = bench_lib_next_event(p->s, &ev));
    } while (more);
    rollnet_record rec;
    do {
        BENCH_TIMED(&p->lib, more = bench_lib_next_record(p->s, &rec));
    } while (more);

    if (err == ROLLNET_ERR_OK) {
        p->frames++;
    } else if (bench_is_skip(err)) {
        p->skips++;
    }
    return err;
}

/* Peer 0 (node 0) connects to peer 1 (node 1), which accepts. Peer 1's
 * unreliable messages are delayed by delay_ms. Both sessions run ~64 B
 * states and count their allocations in pair->allocs. */
static void bench_pair_start(bench_pair *pair, uint64_t delay_ms)
{
    memset(pair, 0, sizeof *pair);
    rollnet_allocator plain = {0};
    pair->net = rollnet_memnet_create(2, &plain);
    if (!pair->net) {
        bench_fail("memnet", ROLLNET_ERR_OUT_OF_MEMORY);
    }
    pair->delay = calloc(1, sizeof *pair->delay);
    if (!pair->delay) {
        bench_fail("delay transport", ROLLNET_ERR_OUT_OF_MEMORY);
    }
    pair->delay->inner = rollnet_memnet_transport(pair->net, 1);
    pair->delay->delay_ms = delay_ms;

    size_t blob = tg_blob_size_for_snapshot(2, 64);
    for (int i = 0; i < 2; i++) {
        bench_peer *p = &pair->peer[i];
        p->local = i;
        p->g = calloc(1, sizeof *p->g);
        if (!p->g || !tg_init(p->g, BENCH_SEED, 2, 1, blob, 0)) {
            bench_fail("game", ROLLNET_ERR_OUT_OF_MEMORY);
        }
        p->g->write_records = true;

        rollnet_session_desc d = {0};
        d.kind = ROLLNET_SESSION_P2P;
        d.num_players = 2;
        d.input_size = 1;
        d.fps = BENCH_FPS;
        d.seed = BENCH_SEED;
        d.nonce = 1000u + (uint64_t)i;
        d.players[i].kind = ROLLNET_PLAYER_LOCAL;
        d.players[1 - i].kind = ROLLNET_PLAYER_REMOTE;
        d.players[1 - i].address = i == 0 ? "mem:1" : NULL;
        if (i == 0) {
            d.transport = rollnet_memnet_transport(pair->net, 0);
        } else {
            d.transport = (rollnet_transport){&bench_delay_vtable, pair->delay};
        }
        d.allocator = (rollnet_allocator){bench_alloc, bench_free, &pair->allocs};
        rollnet_error err = rollnet_session_create(&d, &p->s);
        if (err != ROLLNET_ERR_OK) {
            bench_fail("session create", err);
        }
    }

    for (int t = 0; t < BENCH_HANDSHAKE_TICKS; t++) {
        bool running = true;
        for (int i = 0; i < 2; i++) {
            rollnet_session_stats st;
            rollnet_error err = rollnet_session_poll(pair->peer[i].s, pair->now_ms);
            if (err != ROLLNET_ERR_OK) {
                bench_fail("handshake poll", err);
            }
            rollnet_event ev;
            while (rollnet_session_next_event(pair->peer[i].s, &ev)) {
            }
            rollnet_session_stats_get(pair->peer[i].s, &st);
            running = running && st.running;
        }
        if (running) {
            return;
        }
        pair->ticks++;
        pair->now_ms = bench_frame_ms(pair->ticks);
    }
    bench_fail("handshake", ROLLNET_ERR_NOT_RUNNING);
}

static void bench_pair_end(bench_pair *pair)
{
    for (int i = 0; i < 2; i++) {
        rollnet_session_destroy(pair->peer[i].s);
        free(pair->peer[i].g);
    }
    rollnet_memnet_destroy(pair->net);
    free(pair->delay);
}

/* One clock tick: peer 0, then peer 1, each with its input. When `lib` is
 * not NULL it receives each peer's library time of this tick, and `ran`
 * whether the peer's frame went ahead. */
static void bench_pair_tick(bench_pair *pair, uint8_t in0, uint8_t in1, bench_meter lib[2],
                            bool ran[2])
{
    const uint8_t in[2] = {in0, in1};
    for (int i = 0; i < 2; i++) {
        bench_peer *p = &pair->peer[i];
        bench_meter before = p->lib;
        uint64_t frames = p->frames;
        rollnet_error err = bench_tick(p, pair->now_ms, in[i]);
        if (err != ROLLNET_ERR_OK && !bench_is_skip(err)) {
            bench_fail("tick", err);
        }
        if (lib) {
            lib[i] = bench_meter_since(&p->lib, &before);
        }
        if (ran) {
            ran[i] = p->frames != frames;
        }
    }
    pair->ticks++;
    pair->now_ms = bench_frame_ms(pair->ticks);
}

static rollnet_session_stats bench_stats(const bench_peer *p)
{
    rollnet_session_stats st;
    memset(&st, 0, sizeof st);
    rollnet_session_stats_get(p->s, &st);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Figure groups                                                             */
/* ------------------------------------------------------------------------ */

static void bench_core_frame(const bench_opts *o)
{
    bench_pair pair;
    bench_pair_start(&pair, 0);
    /* Constant inputs equal to the neutral prediction: never a rollback. */
    for (int t = 0; t < BENCH_WARMUP; t++) {
        bench_pair_tick(&pair, 0, 0, NULL, NULL);
    }
    uint64_t rollbacks0 =
        bench_stats(&pair.peer[0]).rollbacks + bench_stats(&pair.peer[1]).rollbacks;

    bench_samples frame_ns;
    bench_samples_init(&frame_ns, 2 * (size_t)o->frames);
    BENCH_MEASURE_BEGIN();
    for (long t = 0; t < o->frames; t++) {
        bench_meter lib[2];
        bool ran[2];
        bench_pair_tick(&pair, 0, 0, lib, ran);
        for (int i = 0; i < 2; i++) {
            if (ran[i]) {
                bench_samples_add(&frame_ns, bench_meter_ns(o, &lib[i]));
            }
        }
    }
    BENCH_MEASURE_END();

    uint64_t rollbacks = bench_stats(&pair.peer[0]).rollbacks +
                         bench_stats(&pair.peer[1]).rollbacks - rollbacks0;
    if (rollbacks != 0) {
        fprintf(stderr, "rollnet-bench: core.frame: %" PRIu64 " unexpected rollbacks\n",
                rollbacks);
    }
    bench_report(o, "core.frame.ns", bench_samples_median(&frame_ns), "ns");
    bench_samples_free(&frame_ns);
    bench_pair_end(&pair);
}

/* Rollback figures. Peer 1's input changes every BENCH_ROLLBACK_PERIOD
 * frames; its messages are held back `lag` whole frames, so the change
 * reaches peer 0 lag + 1 frames after peer 0 ran that frame on the
 * repeat-last prediction, and peer 0 rolls back lag + 1 frames. The depth of
 * each rollback is read from peer 0's stats and only ticks with exactly one
 * rollback of the wanted depth are counted. */
#define BENCH_ROLLBACK_PERIOD 24

static void bench_core_rollback_depth(const bench_opts *o, int depth)
{
    char name[64];
    snprintf(name, sizeof name, "core.rollback%d.ns", depth);
    if (!bench_selected(o, name)) {
        return;
    }
    if (depth > ROLLNET_MAX_PREDICTION) {
        fprintf(stderr, "rollnet-bench: %s: deeper than ROLLNET_MAX_PREDICTION\n", name);
        return;
    }
    bench_pair pair;
    bench_pair_start(&pair, bench_frame_ms((uint64_t)depth - 1));
    bench_samples rollback_ns;
    bench_samples_init(&rollback_ns, (size_t)o->frames);
    uint64_t others = 0;
    uint8_t in1 = 0;
    for (long t = 0; t < BENCH_WARMUP + o->frames; t++) {
        if (t % BENCH_ROLLBACK_PERIOD == BENCH_ROLLBACK_PERIOD / 2) {
            in1 = (uint8_t)(in1 % 31u + 1u);
        }
        rollnet_session_stats st0 = bench_stats(&pair.peer[0]);
        bool measured = t >= BENCH_WARMUP;
        bench_meter lib[2];
        if (measured) {
            BENCH_MEASURE_BEGIN();
        }
        bench_pair_tick(&pair, 0, in1, lib, NULL);
        if (measured) {
            BENCH_MEASURE_END();
        }
        rollnet_session_stats st1 = bench_stats(&pair.peer[0]);
        if (!measured || st1.rollbacks == st0.rollbacks) {
            continue;
        }
        if (st1.rollbacks - st0.rollbacks == 1 &&
            st1.frames_resimulated - st0.frames_resimulated == (uint64_t)depth) {
            bench_samples_add(&rollback_ns, bench_meter_ns(o, &lib[0]));
        } else {
            others++;
        }
    }
    bench_pair_end(&pair);

    if (others > 0) {
        fprintf(stderr, "rollnet-bench: %s: %" PRIu64 " rollbacks of another depth ignored\n",
                name, others);
    }
    if (rollback_ns.n == 0) {
        fprintf(stderr, "rollnet-bench: %s: no rollback of that depth happened\n", name);
    }
    bench_report(o, name, bench_samples_median(&rollback_ns), "ns");
    bench_samples_free(&rollback_ns);
}

static void bench_core_rollback(const bench_opts *o)
{
    bench_core_rollback_depth(o, 1);
    bench_core_rollback_depth(o, 4);
    bench_core_rollback_depth(o, 8);
}

static void bench_snapshot_size(const bench_opts *o, const char *label, size_t target,
                                bool with_memcpy)
{
    tg_game *src = calloc(1, sizeof *src);
    tg_game *dst = calloc(1, sizeof *dst);
    size_t cap = TG_MAX_BLOB + 1024;
    uint8_t *buf = malloc(cap);
    uint8_t *copy = malloc(cap);
    msgpack_zone zone;
    if (!src || !dst || !buf || !copy || !msgpack_zone_init(&zone, rn_reader_zone_size(cap))) {
        bench_fail("snapshot set-up", ROLLNET_ERR_OUT_OF_MEMORY);
    }
    /* A few frames in, so the blob and the integers are not initial values;
     * the blob is then trimmed by what the grown integers added. */
    const uint8_t inputs[2] = {0x12, 0x05};
    size_t blob = tg_blob_size_for_snapshot(2, target);
    for (int pass = 0; pass < 2; pass++) {
        tg_init(src, BENCH_SEED, 2, 1, blob, 0);
        for (int i = 0; i < 100; i++) {
            tg_step(src, inputs);
        }
        size_t now = tg_snapshot_size(src);
        if (pass == 0 && now > target && now - target < blob) {
            blob -= now - target;
        } else {
            break;
        }
    }
    tg_init(dst, BENCH_SEED + 1, 2, 1, blob, 0);

    size_t len = bench_lib_snapshot_save(src, buf, cap);
    if (len == 0 || !bench_lib_snapshot_load(dst, &zone, buf, len) ||
        tg_state_hash(dst) != tg_state_hash(src)) {
        bench_fail("snapshot round trip", ROLLNET_ERR_SNAPSHOT_READ);
    }

    /* Batches of BENCH_BATCH round trips, one clock pair each; the figure
     * is the median batch divided by its size. */
    char name[64];
    long batches = (o->frames + BENCH_BATCH - 1) / BENCH_BATCH;
    bench_samples ns;
    bench_samples_init(&ns, (size_t)batches);
    bool ok = true;
    BENCH_MEASURE_BEGIN();
    for (long b = 0; b < batches; b++) {
        uint64_t t0 = bench_now_ns();
        for (int i = 0; i < BENCH_BATCH; i++) {
            size_t n = bench_lib_snapshot_save(src, buf, cap);
            ok &= bench_lib_snapshot_load(dst, &zone, buf, n);
        }
        bench_samples_add(&ns, (double)(bench_now_ns() - t0) / BENCH_BATCH);
    }
    BENCH_MEASURE_END();
    if (!ok) {
        bench_fail("snapshot round trip", ROLLNET_ERR_SNAPSHOT_READ);
    }
    snprintf(name, sizeof name, "snapshot.%s.roundtrip.ns", label);
    bench_report(o, name, bench_samples_median(&ns), "ns");

    if (with_memcpy) {
        /* The same bytes out and back with memcpy: the floor any snapshot
         * format is measured against. */
        ns.n = 0;
        for (long b = 0; b < batches; b++) {
            uint64_t t0 = bench_now_ns();
            for (int i = 0; i < BENCH_BATCH; i++) {
                memcpy(copy, buf, len);
                BENCH_BARRIER();
                memcpy(buf, copy, len);
                BENCH_BARRIER();
            }
            bench_samples_add(&ns, (double)(bench_now_ns() - t0) / BENCH_BATCH);
        }
        snprintf(name, sizeof name, "snapshot.%s.memcpy.ns", label);
        bench_report(o, name, bench_samples_median(&ns), "ns");
    }
    bench_samples_free(&ns);
    fprintf(stderr, "rollnet-bench: snapshot.%s is %zu bytes\n", label, len);

    msgpack_zone_destroy(&zone);
    free(copy);
    free(buf);
    free(dst);
    free(src);
}

static void bench_snapshot(const bench_opts *o)
{
    if (bench_selected(o, "snapshot.s64.")) {
        bench_snapshot_size(o, "s64", 64, false);
    }
    if (bench_selected(o, "snapshot.s16k.")) {
        bench_snapshot_size(o, "s16k", 16384, true);
    }
}

static void bench_core_allocs(const bench_opts *o)
{
    bench_pair pair;
    bench_pair_start(&pair, bench_frame_ms(2));
    tg_bot bots[2];
    tg_bot_init(&bots[0], BENCH_SEED, 1);
    tg_bot_init(&bots[1], BENCH_SEED + 1, 1);
    for (int t = 0; t < BENCH_WARMUP; t++) {
        bench_pair_tick(&pair, *tg_bot_next(&bots[0]), *tg_bot_next(&bots[1]), NULL, NULL);
    }
    uint64_t before = pair.allocs.allocs;
    uint64_t frames0 = pair.peer[0].frames + pair.peer[1].frames;
    for (long t = 0; t < o->frames; t++) {
        bench_pair_tick(&pair, *tg_bot_next(&bots[0]), *tg_bot_next(&bots[1]), NULL, NULL);
    }
    uint64_t frames = pair.peer[0].frames + pair.peer[1].frames - frames0;
    double per_frame = frames ? (double)(pair.allocs.allocs - before) / (double)frames : 0;
    /* %g: a rare allocation must not round to 0.0. */
    bench_report_fmt(o, "%s %g %s\n", "core.allocs_per_frame", per_frame, "allocs");
    bench_pair_end(&pair);
}

/* ------------------------------------------------------------------------ */
/* Driver                                                                    */
/* ------------------------------------------------------------------------ */

/* Figure groups by name prefix; more groups (P2P over the network simulator,
 * ...) are added here. */
static const struct {
    const char *prefix;
    void (*run)(const bench_opts *o);
} bench_groups[] = {
    {"core.frame.", bench_core_frame},
    {"core.rollback", bench_core_rollback},
    {"snapshot.", bench_snapshot},
    {"core.allocs_per_frame", bench_core_allocs},
};

static void bench_usage(FILE *to)
{
    fprintf(to, "usage: rollnet-bench [--filter PREFIX] [--frames N]\n");
}

int main(int argc, char **argv)
{
    bench_opts o = {.filter = "", .frames = 10000};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
            o.filter = argv[++i];
        } else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc) {
            char *end = NULL;
            o.frames = strtol(argv[++i], &end, 10);
            if (!end || *end != '\0' || o.frames < 1) {
                bench_usage(stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            bench_usage(stdout);
            return 0;
        } else {
            bench_usage(stderr);
            return 2;
        }
    }

    o.clock_overhead_ns = bench_calibrate();
    for (size_t i = 0; i < sizeof bench_groups / sizeof bench_groups[0]; i++) {
        if (bench_selected(&o, bench_groups[i].prefix)) {
            bench_groups[i].run(&o);
        }
    }
    return 0;
}
