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
 *   p2p.<delay>.<loss>.<state>.<checksums>.<figure>
 *                            two P2P sessions over the memnet, each node's
 *                            outgoing side through a rollnet_netsim, on a
 *                            virtual 60 fps clock (workload, delay rule and
 *                            wire model at "P2P group" below). delay d0|d3|d6
 *                            (one-way, frames), loss l0|l5 (% of unreliable
 *                            messages), state s64|s16k (snapshot bytes),
 *                            checksums csdefault|csevery|csoff (interval 16, 1,
 *                            off). Figures, per session-frame (totals of both
 *                            sessions over the frames both went ahead):
 *       lib_ns        mean library time (rollnet calls only; the transport
 *                     under them, memnet + netsim, is inside those calls)
 *       payload_bytes bytes the session handed its transport, per peer
 *       msgs          messages it sent, per peer
 *       wire_bytes    payload plus modelled ENet and UDP/IPv4 headers and
 *                     ENet acknowledgements, per peer
 *       rollbacks     rollbacks per frame
 *       resim         frames resimulated per frame
 *       mean_depth    frames resimulated / rollbacks
 *       max_depth     deepest rollback
 *       agree         1 when both confirmed ledgers hold the same records
 *                     over their common prefix and that prefix covers at
 *                     least 90 % of the frames run
 *   sweep.<condition>.<figure>
 *                            Fortress Rollback's published network sweep
 *                            (2 and 4 players, LAN to 15 % loss at 200 ms):
 *                            payload KiB/s per player, stalls per minute,
 *                            rollbacks per 100 frames, confirmation lag. A
 *                            mesh of P2P sessions over the memnet and netsim
 *                            on a virtual clock; conditions and definitions
 *                            in sweep.c.
 *   p2p.allocs_per_frame     calls to the session allocator during the
 *                            counted frames of every P2P configuration run,
 *                            per session-frame. Must be 0. Asked for alone, it
 *                            runs d0/d3/d6 with l5.s16k.csevery.
 *
 * Timing uses CLOCK_MONOTONIC around each library call; the cost of reading
 * the clock, measured at start-up, is subtracted. Frame and rollback figures
 * are medians over frames, snapshot figures medians over batches of 100, so
 * a preempted frame on a busy machine does not move them. The rollback
 * figures come from ticks of exactly one rollback of that depth; rollbacks of
 * another depth are reported on stderr. p2p.*.lib_ns is a mean instead: its
 * frames differ on purpose (rollbacks, checksums) and a median would hide the
 * dear ones; the spread of ticks is printed on stderr. On a busy machine it
 * moves with the load; the instruction count below does not. The session's
 * time sync is ignored (WAIT_RECOMMENDED is not obeyed), as the figures are
 * about library cost.
 *
 * Under callgrind every library call goes through a noinline bench_lib_*
 * wrapper, so collection can be limited to the library:
 *
 *   valgrind --tool=callgrind --toggle-collect='bench_lib_*' \
 *       build/tests/bench/rollnet-bench --frames 2000 --filter core.frame
 *
 * When built with <valgrind/callgrind.h>, instrumentation is also switched on
 * only while a figure is measured; add --instr-atstart=no to skip the set-up.
 *
 * Library instructions per session-frame of one P2P configuration: the P2P
 * handshake calls rollnet directly (no wrapper), so only counted frames are
 * collected, and the bench prints the number of session-frames on stderr:
 *
 *   valgrind --tool=callgrind --toggle-collect='bench_lib_*' \
 *       build/tests/bench/rollnet-bench --frames 2000 \
 *       --filter p2p.d3.l0.s64.csdefault
 *
 *   Ir per session-frame = "Collected" / the session-frames on stderr.
 *
 * That includes the test transport running inside the calls (the counting
 * decorator, netsim and memnet). Add --toggle-collect='bench_wire_*' to leave
 * it out: collection then switches off inside the decorator's vtable
 * functions and back on when they return.
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
#include "sweep.h"
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
    /* As a session's LOAD reads its own snapshots: the writer made these bytes. */
    rn_reader_init_trusted(&r, zone, buf, len);
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

static rollnet_error bench_delay_connect(void *self, const char *address, uint64_t now_ms,
                                         int *peer_out)
{
    bench_delay *d = self;
    return d->inner.vtable->connect(d->inner.self, address, now_ms, peer_out);
}

static rollnet_error bench_delay_send(void *self, int peer, rollnet_channel channel,
                                      const void *data, size_t size, uint64_t now_ms)
{
    bench_delay *d = self;
    bench_delay_flush(d, now_ms);
    if (channel == ROLLNET_CHANNEL_RELIABLE || d->delay_ms == 0) {
        return d->inner.vtable->send(d->inner.self, peer, channel, data, size, now_ms);
    }
    if (d->count == BENCH_DELAY_SLOTS || size > BENCH_DELAY_MAX_MSG) {
        d->dropped++;
        return ROLLNET_ERR_OK; /* lost on an unreliable channel */
    }
    bench_delay_msg *m = &d->slots[(d->head + d->count) % BENCH_DELAY_SLOTS];
    m->due_ms = now_ms + d->delay_ms;
    m->peer = peer;
    m->size = size;
    memcpy(m->data, data, size);
    d->count++;
    return ROLLNET_ERR_OK;
}

static rollnet_error bench_delay_receive(void *self, uint64_t now_ms, rollnet_transport_event *out)
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

static rollnet_error bench_delay_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    bench_delay *d = self;
    if (!d->inner.vtable->peer_info) {
        memset(out, 0, sizeof *out); /* nothing measured: every field 0 */
        return ROLLNET_ERR_OK;
    }
    return d->inner.vtable->peer_info(d->inner.self, peer, out);
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
    .flush = NULL,
};

/* ------------------------------------------------------------------------ */
/* A transport that counts what a session sends and what it would cost      */
/* on ENet                                                                   */
/* ------------------------------------------------------------------------ */

/* Wire model of ENet 1.3.17 over UDP/IPv4 (sizes from <enet/protocol.h>;
 * checked below when that header is installed). No ENet checksum, no range
 * coder: the ENet adapter enables neither.
 *
 *   BENCH_WIRE_UDP_IP        28  IPv4 header 20 + UDP header 8, per datagram
 *   BENCH_WIRE_ENET_HEADER    2  ENetProtocolHeader.peerID, per datagram
 *   BENCH_WIRE_SENT_TIME      2  ENetProtocolHeader.sentTime, per datagram that
 *                                carries a reliable command
 *   BENCH_WIRE_CMD_UNRELIABLE 8  ENetProtocolSendUnsequenced (the adapter's
 *                                unreliable flags) = SendUnreliable: command
 *                                header 4 + group/sequence 2 + dataLength 2
 *   BENCH_WIRE_CMD_RELIABLE   6  ENetProtocolSendReliable: header 4 + dataLength 2
 *   BENCH_WIRE_CMD_ACK        8  ENetProtocolAcknowledge, sent back by the
 *                                receiver of every reliable command, in its
 *                                next datagram to that peer
 *   BENCH_WIRE_MTU         1400  ENET_HOST_DEFAULT_MTU: a datagram's ENet bytes
 *
 * Datagrams: what a session sends to one peer within one rollnet call (poll,
 * advance, save_end, ...) goes in one datagram, as if the transport flushed
 * once per call; a datagram that would pass the MTU starts another one. No
 * message needs fragmenting (RN_MAX_MESSAGE is 1200 bytes). Not modelled:
 * ENet's pings, which it sends only after 500 ms without reliable traffic
 * received (inputs flow every frame), and connection set-up.
 *
 * The ENet adapter as written flushes after every send and acknowledges from
 * inside enet_host_service, so each message and each acknowledgement is a
 * datagram of its own; that variant ("per-send flush") is reported on stderr
 * next to the figure. */
#define BENCH_WIRE_UDP_IP 28
#define BENCH_WIRE_ENET_HEADER 2
#define BENCH_WIRE_SENT_TIME 2
#define BENCH_WIRE_CMD_UNRELIABLE 8
#define BENCH_WIRE_CMD_RELIABLE 6
#define BENCH_WIRE_CMD_ACK 8
#define BENCH_WIRE_MTU 1400
#define BENCH_WIRE_PEERS 8 /* transport peer ids tracked; higher ids share the last slot */

#if defined(__has_include)
#if __has_include(<enet/protocol.h>)
#include <enet/protocol.h>
_Static_assert(sizeof(ENetProtocolHeader) == BENCH_WIRE_ENET_HEADER + BENCH_WIRE_SENT_TIME,
               "ENet protocol header");
_Static_assert(sizeof(ENetProtocolSendUnsequenced) == BENCH_WIRE_CMD_UNRELIABLE,
               "ENet unsequenced send command");
_Static_assert(sizeof(ENetProtocolSendUnreliable) == BENCH_WIRE_CMD_UNRELIABLE,
               "ENet unreliable send command");
_Static_assert(sizeof(ENetProtocolSendReliable) == BENCH_WIRE_CMD_RELIABLE,
               "ENet reliable send command");
_Static_assert(sizeof(ENetProtocolAcknowledge) == BENCH_WIRE_CMD_ACK, "ENet acknowledge");
#endif
#endif

/* This side's datagram being filled for one transport peer. */
typedef struct bench_wire_link {
    uint64_t dgram_call; /* the call that opened it; 0 = none open */
    size_t dgram_enet;   /* its ENet bytes so far */
    bool dgram_reliable; /* it carries sentTime */
    uint64_t acks_owed;  /* reliable commands received, not yet acknowledged */
} bench_wire_link;

/* Totals over the frames being counted. */
typedef struct bench_wire_count {
    uint64_t payload, msgs, reliable_msgs;
    uint64_t wire, datagrams;
    uint64_t flush_wire, flush_datagrams; /* the per-send-flush variant */
} bench_wire_count;

/* Decorates the transport a session gets (here a netsim over the memnet).
 * The vtable functions are named bench_wire_* so callgrind can leave them
 * out (--toggle-collect='bench_wire_*' switches collection off inside them
 * when they run within a bench_lib_* call); their helpers are named
 * otherwise so they do not toggle it back. The decorator owns `inner`; the
 * bench owns the decorator's memory and frees it after the session. */
typedef struct bench_wire {
    rollnet_transport inner;
    uint64_t call; /* bumped by the driver before each rollnet call */
    bool counting;
    bench_wire_link link[BENCH_WIRE_PEERS];
    bench_wire_count n;
} bench_wire;

static bench_wire_link *wire_link(bench_wire *w, int peer)
{
    int i = peer < 0 ? 0 : (peer >= BENCH_WIRE_PEERS ? BENCH_WIRE_PEERS - 1 : peer);
    return &w->link[i];
}

static void wire_on_send(bench_wire *w, int peer, bool reliable, size_t size)
{
    bench_wire_link *l = wire_link(w, peer);
    uint64_t cmd = reliable ? BENCH_WIRE_CMD_RELIABLE : BENCH_WIRE_CMD_UNRELIABLE;
    uint64_t acks = l->acks_owed * BENCH_WIRE_CMD_ACK;
    uint64_t add = cmd + size + acks;
    uint64_t wire = 0, datagrams = 0;
    if (l->dgram_call != w->call ||
        l->dgram_enet + add + (reliable && !l->dgram_reliable ? BENCH_WIRE_SENT_TIME : 0) >
            BENCH_WIRE_MTU) {
        l->dgram_call = w->call;
        l->dgram_enet = BENCH_WIRE_ENET_HEADER;
        l->dgram_reliable = false;
        wire += BENCH_WIRE_UDP_IP + BENCH_WIRE_ENET_HEADER;
        datagrams++;
    }
    if (reliable && !l->dgram_reliable) {
        l->dgram_reliable = true;
        l->dgram_enet += BENCH_WIRE_SENT_TIME;
        wire += BENCH_WIRE_SENT_TIME;
    }
    l->dgram_enet += add;
    wire += add;
    l->acks_owed = 0;
    if (w->counting) {
        w->n.payload += size;
        w->n.msgs++;
        w->n.reliable_msgs += reliable;
        w->n.wire += wire;
        w->n.datagrams += datagrams;
        w->n.flush_wire += BENCH_WIRE_UDP_IP + BENCH_WIRE_ENET_HEADER +
                           (reliable ? BENCH_WIRE_SENT_TIME : 0) + cmd + size;
        w->n.flush_datagrams++;
    }
}

static void wire_on_receive(bench_wire *w, const rollnet_transport_event *ev)
{
    if (ev->type != ROLLNET_TRANSPORT_RECEIVE || ev->channel != ROLLNET_CHANNEL_RELIABLE) {
        return;
    }
    wire_link(w, ev->peer)->acks_owed++;
    if (w->counting) {
        /* Per-send flush: ENet acknowledges from the service call that
         * received the command, in a datagram of its own. */
        w->n.flush_wire += BENCH_WIRE_UDP_IP + BENCH_WIRE_ENET_HEADER + BENCH_WIRE_CMD_ACK;
        w->n.flush_datagrams++;
    }
}

static rollnet_error bench_wire_connect(void *self, const char *address, uint64_t now_ms,
                                        int *peer_out)
{
    bench_wire *w = self;
    return w->inner.vtable->connect(w->inner.self, address, now_ms, peer_out);
}

static rollnet_error bench_wire_send(void *self, int peer, rollnet_channel channel,
                                     const void *data, size_t size, uint64_t now_ms)
{
    bench_wire *w = self;
    rollnet_error rc = w->inner.vtable->send(w->inner.self, peer, channel, data, size, now_ms);
    if (rc == ROLLNET_ERR_OK) {
        wire_on_send(w, peer, channel == ROLLNET_CHANNEL_RELIABLE, size);
    }
    return rc;
}

static rollnet_error bench_wire_receive(void *self, uint64_t now_ms, rollnet_transport_event *out)
{
    bench_wire *w = self;
    rollnet_error rc = w->inner.vtable->receive(w->inner.self, now_ms, out);
    if (rc == ROLLNET_ERR_OK && out->type != ROLLNET_TRANSPORT_NONE) {
        wire_on_receive(w, out);
    }
    return rc;
}

static void bench_wire_disconnect(void *self, int peer)
{
    bench_wire *w = self;
    w->inner.vtable->disconnect(w->inner.self, peer);
}

static void bench_wire_set_timeout(void *self, int peer, uint32_t timeout_ms)
{
    bench_wire *w = self;
    if (w->inner.vtable->set_timeout) {
        w->inner.vtable->set_timeout(w->inner.self, peer, timeout_ms);
    }
}

static rollnet_error bench_wire_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    bench_wire *w = self;
    if (!w->inner.vtable->peer_info) {
        memset(out, 0, sizeof *out); /* nothing measured: every field 0 */
        return ROLLNET_ERR_OK;
    }
    return w->inner.vtable->peer_info(w->inner.self, peer, out);
}

static void bench_wire_destroy(void *self)
{
    bench_wire *w = self;
    rollnet_transport_destroy(&w->inner);
}

static void bench_wire_flush(void *self, uint64_t now_ms)
{
    bench_wire *w = self;
    if (w->inner.vtable->flush) {
        w->inner.vtable->flush(w->inner.self, now_ms);
    }
}

static const rollnet_transport_vtable bench_wire_vtable = {
    .connect = bench_wire_connect,
    .send = bench_wire_send,
    .receive = bench_wire_receive,
    .disconnect = bench_wire_disconnect,
    .set_timeout = bench_wire_set_timeout,
    .peer_info = bench_wire_peer_info,
    .destroy = bench_wire_destroy,
    .flush = bench_wire_flush,
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
    bench_wire *wire;   /* P2P group: the counting transport this session sends through */
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

/* A timed library call of peer p. Each call is also one "flush" for the
 * wire model of the P2P group: what a session sends to a peer within one
 * call shares a datagram. */
#define BENCH_LIB(p, expr)                   \
    do {                                     \
        if ((p)->wire) {                     \
            (p)->wire->call++;               \
        }                                    \
        BENCH_TIMED(&(p)->lib, expr);        \
    } while (0)

/* Carry out requests with the game, timing only the library calls. */
static rollnet_error bench_execute(bench_peer *p, const rollnet_request *reqs, int n)
{
    rollnet_error err = ROLLNET_ERR_OK;
    for (int i = 0; i < n && err == ROLLNET_ERR_OK; i++) {
        const rollnet_request *r = &reqs[i];
        switch (r->type) {
        case ROLLNET_REQUEST_SAVE: {
            rollnet_writer *w;
            BENCH_LIB(p, w = bench_lib_save_begin(p->s, r));
            if (!w) {
                return ROLLNET_ERR_WRONG_REQUEST;
            }
            tg_save(p->g, w);
            BENCH_LIB(p, err = bench_lib_save_end(p->s, r));
            break;
        }
        case ROLLNET_REQUEST_LOAD: {
            rollnet_reader *rd;
            BENCH_LIB(p, rd = bench_lib_load_begin(p->s, r));
            if (!rd) {
                return ROLLNET_ERR_WRONG_REQUEST;
            }
            bool ok = tg_load(p->g, rd);
            BENCH_LIB(p, err = bench_lib_load_end(p->s, r));
            if (!ok && err == ROLLNET_ERR_OK) {
                err = ROLLNET_ERR_SNAPSHOT_READ;
            }
            break;
        }
        case ROLLNET_REQUEST_ADVANCE: {
            tg_step(p->g, r->inputs);
            rollnet_writer *w;
            BENCH_LIB(p, w = bench_lib_record_begin(p->s, r));
            if (w) {
                tg_write_record(p->g, w, r->inputs);
            }
            uint32_t flags = tg_episode_over(p->g) ? ROLLNET_STEP_EPISODE_END : 0u;
            BENCH_LIB(p, err = bench_lib_advance_end(p->s, r, flags));
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
    BENCH_LIB(p, err = bench_lib_poll(p->s, now_ms));
    if (err == ROLLNET_ERR_OK) {
        BENCH_LIB(p, err = bench_lib_add_local_input(p->s, p->local, &input, 1));
    }
    if (err == ROLLNET_ERR_OK) {
        const rollnet_request *reqs = NULL;
        int n = 0;
        BENCH_LIB(p, err = bench_lib_advance(p->s, &reqs, &n));
        if (err == ROLLNET_ERR_OK) {
            err = bench_execute(p, reqs, n);
        }
    }
    /* Events and confirmed records are drained every tick, as a game would. */
    bool more;
    rollnet_event ev;
    do {
        BENCH_LIB(p, more = bench_lib_next_event(p->s, &ev));
    } while (more);
    rollnet_record rec;
    do {
        BENCH_LIB(p, more = bench_lib_next_record(p->s, &rec));
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
/* P2P group: two sessions over the network simulator                       */
/* ------------------------------------------------------------------------ */

/* Workload (fixed, so figures compare across libraries): 2 players, 1-byte
 * inputs, 60 fps, input delay 0; each player's tg_bot holds a seeded random
 * input for 1..19 frames. Node i hosts player i; node 0 connects, node 1
 * accepts. Each node sends through bench_wire -> rollnet_netsim -> memnet.
 *
 * Clock: tick k is at floor(k * 1000 / 60) ms (kept exact in integers, as
 * the harness's microsecond clock does). Delay rule: one-way delay d frames
 * = netsim delay_ms d * 16, no jitter. A message sent at tick t is due at
 * t's time + 16d, and the first tick at or after that is t + d, because d
 * frames span at least floor(16.67d) >= 16d ms and d - 1 frames at most
 * ceil(16.67(d - 1)) < 16d ms (true for d < 23; p2p_check_delay_rule
 * checks it for the delays used). The simulated wire does not wait for its
 * sender: at the start of every tick both simulators hand over what is due
 * (rollnet_netsim_flush), so either direction takes exactly d ticks. Node 0
 * runs first in a tick, so at d = 0 node 1 gets node 0's input of tick t in
 * tick t and node 0 gets node 1's in tick t + 1.
 *
 * Loss: 0 or 5 % of unreliable messages (reliable ones arrive late instead).
 * State: the test game's blob sized so a snapshot is 64 B or 16 KiB.
 * Checksums: checksum_interval 0 (default, 16), 1, or ROLLNET_CHECKSUMS_OFF.
 *
 * Counting starts right after the handshake (both sessions running) and
 * runs until each session has gone ahead --frames frames; every tick in
 * between counts, stalled ones too. Per session-frame figures are totals
 * over both sessions divided by the frames both went ahead. Time sync is
 * ignored (both nodes tick once per frame, as two processes at the same
 * rate would). */
#define P2P_FPS 60
#define P2P_HANDSHAKE_TICKS 2000
#define P2P_LOSS_PERMILLE 50
#define P2P_AGREE_FRACTION 0.9

typedef struct p2p_config {
    int delay;              /* frames, one way */
    int loss_pct;
    const char *state_label;
    size_t state_bytes;
    const char *cs_label;
    int checksum_interval;
} p2p_config;

static const int p2p_delays[] = {0, 3, 6};
static const int p2p_losses[] = {0, 5};
static const struct {
    const char *label;
    size_t bytes;
} p2p_states[] = {{"s64", 64}, {"s16k", 16384}};
static const struct {
    const char *label;
    int interval;
} p2p_checksums[] = {{"csdefault", 0}, {"csevery", 1}, {"csoff", ROLLNET_CHECKSUMS_OFF}};

typedef struct p2p_node {
    bench_peer bp;
    bench_wire *wire;
    tg_bot bot;
    uint8_t pending;  /* input drawn for the next frame, kept while refused */
    bool has_pending;
    uint64_t *hash;   /* confirmed records, in frame order */
    int32_t *hash_frame;
    size_t nrec, cap;
    uint64_t desync_events;
} p2p_node;

/* Allocations and frames over every configuration run, for
 * p2p.allocs_per_frame. */
typedef struct p2p_totals {
    uint64_t allocs, frames;
} p2p_totals;

static uint64_t p2p_now_ms(uint64_t tick)
{
    return tick * 1000u / P2P_FPS;
}

static uint64_t p2p_delay_ms(int delay_frames)
{
    return (uint64_t)delay_frames * 16u;
}

static bool p2p_check_delay_rule(int d)
{
    uint64_t delay = p2p_delay_ms(d);
    for (uint64_t t = 0; t < 3 * P2P_FPS; t++) {
        uint64_t due = p2p_now_ms(t) + delay;
        uint64_t k = t;
        while (p2p_now_ms(k) < due) {
            k++;
        }
        if (k != t + (uint64_t)d) {
            return false;
        }
    }
    return true;
}

/* The record as the integration fixture hashes it: frame, episode, step,
 * every player's input, the game's bytes. */
static uint64_t p2p_record_hash(const rollnet_record *r)
{
    uint8_t buf[3 * sizeof(int32_t) + 2 + 4096];
    size_t n = 0;
    memcpy(buf + n, &r->frame, sizeof r->frame);
    n += sizeof r->frame;
    memcpy(buf + n, &r->episode, sizeof r->episode);
    n += sizeof r->episode;
    memcpy(buf + n, &r->step, sizeof r->step);
    n += sizeof r->step;
    memcpy(buf + n, r->inputs, 2);
    n += 2;
    size_t data = r->size < sizeof buf - n ? r->size : sizeof buf - n;
    if (data) {
        memcpy(buf + n, r->data, data);
        n += data;
    }
    return rollnet_checksum(buf, n);
}

static bool p2p_runs_new_frame(const rollnet_request *reqs, int n)
{
    for (int i = 0; i < n; i++) {
        if (reqs[i].type == ROLLNET_REQUEST_ADVANCE && !(reqs[i].flags & ROLLNET_REQUEST_REPLAY)) {
            return true;
        }
    }
    return false;
}

/* One tick of one node: poll, add the bot's input, advance, carry out the
 * requests, drain events and records. Only the rollnet calls are timed;
 * hashing the records is not. */
static rollnet_error p2p_tick(p2p_node *n, uint64_t now_ms)
{
    bench_peer *p = &n->bp;
    rollnet_error err;
    bool new_frame = false;
    BENCH_LIB(p, err = bench_lib_poll(p->s, now_ms));
    if (err == ROLLNET_ERR_OK) {
        if (!n->has_pending) {
            n->pending = *tg_bot_next(&n->bot);
            n->has_pending = true;
        }
        BENCH_LIB(p, err = bench_lib_add_local_input(p->s, p->local, &n->pending, 1));
    }
    if (err == ROLLNET_ERR_OK) {
        const rollnet_request *reqs = NULL;
        int count = 0;
        BENCH_LIB(p, err = bench_lib_advance(p->s, &reqs, &count));
        if (err == ROLLNET_ERR_OK) {
            /* A stalled session may hand out a pending rollback alone; the
             * input then waits for the frame that goes ahead. */
            new_frame = p2p_runs_new_frame(reqs, count);
            err = bench_execute(p, reqs, count);
        }
    }
    bool more;
    rollnet_event ev;
    for (;;) {
        BENCH_LIB(p, more = bench_lib_next_event(p->s, &ev));
        if (!more) {
            break;
        }
        n->desync_events += ev.type == ROLLNET_EVENT_DESYNC;
    }
    rollnet_record rec;
    for (;;) {
        BENCH_LIB(p, more = bench_lib_next_record(p->s, &rec));
        if (!more) {
            break;
        }
        if (n->nrec < n->cap) {
            n->hash[n->nrec] = p2p_record_hash(&rec);
            n->hash_frame[n->nrec] = rec.frame;
            n->nrec++;
        }
    }
    if (err == ROLLNET_ERR_OK) {
        if (new_frame) {
            n->has_pending = false;
            p->frames++;
        }
    } else if (bench_is_skip(err)) {
        p->skips++;
    }
    return err;
}

static void p2p_report(const bench_opts *o, const char *prefix, const char *figure,
                       const char *fmt, double value, const char *unit)
{
    char name[96];
    snprintf(name, sizeof name, "%s%s", prefix, figure);
    bench_report_fmt(o, fmt, name, value, unit);
}

static void p2p_run_config(const bench_opts *o, const p2p_config *c, p2p_totals *totals)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "p2p.d%d.l%d.%s.%s.", c->delay, c->loss_pct, c->state_label,
             c->cs_label);
    if (!p2p_check_delay_rule(c->delay)) {
        fprintf(stderr, "rollnet-bench: %s: delay_ms %" PRIu64 " does not arrive %d ticks late\n",
                prefix, p2p_delay_ms(c->delay), c->delay);
        exit(1);
    }

    bench_alloc_count allocs = {0};
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    if (!net) {
        bench_fail("memnet", ROLLNET_ERR_OUT_OF_MEMORY);
    }
    size_t blob = tg_blob_size_for_snapshot(2, c->state_bytes);
    size_t cap = (size_t)o->frames + 1024;
    p2p_node node[2];
    memset(node, 0, sizeof node);
    for (int i = 0; i < 2; i++) {
        p2p_node *n = &node[i];
        n->wire = calloc(1, sizeof *n->wire);
        n->bp.g = calloc(1, sizeof *n->bp.g);
        n->hash = malloc(cap * sizeof *n->hash);
        n->hash_frame = malloc(cap * sizeof *n->hash_frame);
        n->cap = cap;
        if (!n->wire || !n->bp.g || !n->hash || !n->hash_frame ||
            !tg_init(n->bp.g, BENCH_SEED, 2, 1, blob, 0)) {
            bench_fail("p2p set-up", ROLLNET_ERR_OUT_OF_MEMORY);
        }
        n->bp.g->write_records = true;
        n->bp.local = i;
        n->bp.wire = n->wire;
        tg_bot_init(&n->bot, BENCH_SEED * 1000003u + (uint64_t)i, 1);

        rollnet_netsim_desc sd;
        memset(&sd, 0, sizeof sd);
        sd.delay_ms = (uint32_t)p2p_delay_ms(c->delay);
        sd.loss_permille = c->loss_pct > 0 ? (uint32_t)c->loss_pct * 10u : 0u;
        sd.seed = BENCH_SEED * 31u + (uint64_t)i + 1u;
        rollnet_error nerr =
            rollnet_netsim_create(rollnet_memnet_transport(net, i), &sd, NULL, &n->wire->inner);
        if (nerr != ROLLNET_ERR_OK) {
            bench_fail("netsim", nerr);
        }

        rollnet_session_desc d;
        memset(&d, 0, sizeof d);
        d.kind = ROLLNET_SESSION_P2P;
        d.num_players = 2;
        d.input_size = 1;
        d.input_delay = 0;
        d.fps = P2P_FPS;
        d.seed = BENCH_SEED;
        d.nonce = 0x1000u + (uint64_t)i;
        d.checksum_interval = c->checksum_interval;
        d.players[i].kind = ROLLNET_PLAYER_LOCAL;
        d.players[1 - i].kind = ROLLNET_PLAYER_REMOTE;
        d.players[1 - i].address = i == 0 ? "mem:1" : NULL;
        d.transport = (rollnet_transport){&bench_wire_vtable, n->wire};
        d.allocator = (rollnet_allocator){bench_alloc, bench_free, &allocs};
        rollnet_error err = rollnet_session_create(&d, &n->bp.s);
        if (err != ROLLNET_ERR_OK) {
            bench_fail("session create", err);
        }
    }

    /* Handshake, not counted: direct calls, so callgrind's toggle on
     * bench_lib_* leaves it out. */
    uint64_t tick = 0;
    for (;; tick++) {
        if (tick == P2P_HANDSHAKE_TICKS) {
            bench_fail("p2p handshake", ROLLNET_ERR_NOT_RUNNING);
        }
        uint64_t now = p2p_now_ms(tick);
        bool running = true;
        for (int i = 0; i < 2; i++) {
            rollnet_netsim_flush(&node[i].wire->inner, now);
        }
        for (int i = 0; i < 2; i++) {
            node[i].wire->call++;
            rollnet_error err = rollnet_session_poll(node[i].bp.s, now);
            if (err != ROLLNET_ERR_OK) {
                bench_fail("p2p handshake poll", err);
            }
            rollnet_event ev;
            while (rollnet_session_next_event(node[i].bp.s, &ev)) {
            }
            running = running && bench_stats(&node[i].bp).running;
        }
        if (running) {
            break;
        }
    }

    rollnet_session_stats st0[2];
    for (int i = 0; i < 2; i++) {
        st0[i] = bench_stats(&node[i].bp);
        node[i].wire->counting = true;
    }
    uint64_t allocs0 = allocs.allocs;
    uint64_t first_tick = tick;
    uint64_t max_ticks = 4 * (uint64_t)o->frames + 1000;
    /* Library time of each node's ticks, for the spread printed on stderr. */
    bench_samples tick_ns;
    bench_samples_init(&tick_ns, 2 * (size_t)max_ticks);
    BENCH_MEASURE_BEGIN();
    while (node[0].bp.frames < (uint64_t)o->frames || node[1].bp.frames < (uint64_t)o->frames) {
        if (tick - first_tick >= max_ticks) {
            BENCH_MEASURE_END();
            fprintf(stderr, "rollnet-bench: %s: %" PRIu64 "/%" PRIu64 " frames after %" PRIu64
                            " ticks\n", prefix, node[0].bp.frames, node[1].bp.frames, max_ticks);
            bench_fail("p2p run", ROLLNET_ERR_PREDICTION_LIMIT);
        }
        uint64_t now = p2p_now_ms(tick);
        for (int i = 0; i < 2; i++) {
            rollnet_netsim_flush(&node[i].wire->inner, now);
        }
        for (int i = 0; i < 2; i++) {
            bench_meter before = node[i].bp.lib;
            rollnet_error err = p2p_tick(&node[i], now);
            bench_meter m = bench_meter_since(&node[i].bp.lib, &before);
            bench_samples_add(&tick_ns, bench_meter_ns(o, &m));
            if (err != ROLLNET_ERR_OK && !bench_is_skip(err)) {
                BENCH_MEASURE_END();
                bench_fail("p2p tick", err);
            }
        }
        tick++;
    }
    BENCH_MEASURE_END();
    uint64_t ticks = tick - first_tick;
    double tick_median = bench_samples_median(&tick_ns); /* sorts */
    double tick_p99 = tick_ns.v[tick_ns.n * 99 / 100];
    double tick_max = tick_ns.v[tick_ns.n - 1];
    uint64_t alloc_count = allocs.allocs - allocs0;
    for (int i = 0; i < 2; i++) {
        node[i].wire->counting = false;
    }

    /* Totals over both sessions. */
    double frames = (double)(node[0].bp.frames + node[1].bp.frames);
    double lib_ns = 0;
    bench_wire_count w = {0};
    uint64_t rollbacks = 0, resim = 0, stats_bytes = 0, stats_msgs = 0;
    int32_t max_depth = 0;
    for (int i = 0; i < 2; i++) {
        p2p_node *n = &node[i];
        rollnet_session_stats st = bench_stats(&n->bp);
        lib_ns += bench_meter_ns(o, &n->bp.lib);
        w.payload += n->wire->n.payload;
        w.msgs += n->wire->n.msgs;
        w.reliable_msgs += n->wire->n.reliable_msgs;
        w.wire += n->wire->n.wire;
        w.datagrams += n->wire->n.datagrams;
        w.flush_wire += n->wire->n.flush_wire;
        w.flush_datagrams += n->wire->n.flush_datagrams;
        rollbacks += st.rollbacks - st0[i].rollbacks;
        resim += st.frames_resimulated - st0[i].frames_resimulated;
        if (st.max_rollback_depth > max_depth) {
            max_depth = st.max_rollback_depth;
        }
        rollnet_peer_stats ps;
        if (rollnet_session_peer_stats(n->bp.s, 1 - i, &ps) == ROLLNET_ERR_OK) {
            stats_bytes += ps.bytes_sent;
            stats_msgs += ps.messages_sent;
        }
    }

    /* The confirmed ledgers agree over their common prefix, which covers at
     * least P2P_AGREE_FRACTION of the frames run. */
    size_t common = node[0].nrec < node[1].nrec ? node[0].nrec : node[1].nrec;
    uint64_t min_frames = node[0].bp.frames < node[1].bp.frames ? node[0].bp.frames
                                                                : node[1].bp.frames;
    bool agree = (double)common >= P2P_AGREE_FRACTION * (double)min_frames;
    for (size_t k = 0; k < common && agree; k++) {
        if (node[0].hash[k] != node[1].hash[k] || node[0].hash_frame[k] != (int32_t)k ||
            node[1].hash_frame[k] != (int32_t)k) {
            fprintf(stderr, "rollnet-bench: %s: confirmed row %zu differs\n", prefix, k);
            agree = false;
        }
    }

    p2p_report(o, prefix, "lib_ns", "%s %.1f %s\n", lib_ns / frames, "ns");
    p2p_report(o, prefix, "payload_bytes", "%s %.2f %s\n", (double)w.payload / frames, "B");
    p2p_report(o, prefix, "msgs", "%s %.3f %s\n", (double)w.msgs / frames, "msgs");
    p2p_report(o, prefix, "wire_bytes", "%s %.2f %s\n", (double)w.wire / frames, "B");
    p2p_report(o, prefix, "rollbacks", "%s %.4f %s\n", (double)rollbacks / frames,
               "rollbacks/frame");
    p2p_report(o, prefix, "resim", "%s %.4f %s\n", (double)resim / frames, "frames/frame");
    p2p_report(o, prefix, "mean_depth", "%s %.3f %s\n",
               rollbacks ? (double)resim / (double)rollbacks : 0.0, "frames");
    p2p_report(o, prefix, "max_depth", "%s %.0f %s\n", (double)max_depth, "frames");
    p2p_report(o, prefix, "agree", "%s %.0f %s\n", agree ? 1.0 : 0.0, "bool");

    if (bench_selected(o, prefix)) {
        fprintf(stderr,
                "rollnet-bench: %s: %.0f session-frames (%" PRIu64 " + %" PRIu64 ") in %" PRIu64
                " ticks, %" PRIu64 " skipped ticks; %.3f datagrams/frame; %.3f reliable "
                "msgs/frame; per-send-flush wire %.2f B/frame in %.3f datagrams/frame; "
                "%zu common confirmed rows; %" PRIu64 " desync events; %" PRIu64 " allocs; "
                "library ns per tick: median %.0f, p99 %.0f, max %.0f\n",
                prefix, frames, node[0].bp.frames, node[1].bp.frames, ticks,
                node[0].bp.skips + node[1].bp.skips, (double)w.datagrams / frames,
                (double)w.reliable_msgs / frames, (double)w.flush_wire / frames,
                (double)w.flush_datagrams / frames, common,
                node[0].desync_events + node[1].desync_events, alloc_count, tick_median,
                tick_p99, tick_max);
    }
    bench_samples_free(&tick_ns);
    /* The session's own count covers the handshake too: it may only exceed
     * what was seen while counting. */
    if (stats_bytes < w.payload || stats_msgs < w.msgs) {
        fprintf(stderr, "rollnet-bench: %s: peer stats (%" PRIu64 " B, %" PRIu64
                        " msgs) below what the transport saw (%" PRIu64 " B, %" PRIu64 " msgs)\n",
                prefix, stats_bytes, stats_msgs, w.payload, w.msgs);
    }

    totals->allocs += alloc_count;
    totals->frames += node[0].bp.frames + node[1].bp.frames;

    for (int i = 0; i < 2; i++) {
        rollnet_session_destroy(node[i].bp.s); /* destroys the wire's netsim */
        free(node[i].wire);
        free(node[i].bp.g);
        free(node[i].hash);
        free(node[i].hash_frame);
    }
    rollnet_memnet_destroy(net);
}

/* Runs every configuration `want` accepts. */
static void p2p_for_each(const bench_opts *o, p2p_totals *totals,
                         bool (*want)(const bench_opts *o, const p2p_config *c,
                                      const char *prefix))
{
    for (size_t di = 0; di < sizeof p2p_delays / sizeof p2p_delays[0]; di++) {
        for (size_t li = 0; li < sizeof p2p_losses / sizeof p2p_losses[0]; li++) {
            for (size_t si = 0; si < sizeof p2p_states / sizeof p2p_states[0]; si++) {
                for (size_t ci = 0; ci < sizeof p2p_checksums / sizeof p2p_checksums[0]; ci++) {
                    p2p_config c = {
                        .delay = p2p_delays[di],
                        .loss_pct = p2p_losses[li],
                        .state_label = p2p_states[si].label,
                        .state_bytes = p2p_states[si].bytes,
                        .cs_label = p2p_checksums[ci].label,
                        .checksum_interval = p2p_checksums[ci].interval,
                    };
                    char prefix[64];
                    snprintf(prefix, sizeof prefix, "p2p.d%d.l%d.%s.%s.", c.delay, c.loss_pct,
                             c.state_label, c.cs_label);
                    if (want(o, &c, prefix)) {
                        p2p_run_config(o, &c, totals);
                    }
                }
            }
        }
    }
}

/* A configuration runs only when the filter can match one of its figures. */
static bool p2p_want_filtered(const bench_opts *o, const p2p_config *c, const char *prefix)
{
    (void)c;
    return bench_selected(o, prefix);
}

/* The lossy, 16 KiB, checksum-every-frame configuration at every delay: it
 * goes through rollbacks, resends and checksums. */
static bool p2p_want_alloc_check(const bench_opts *o, const p2p_config *c, const char *prefix)
{
    (void)o;
    (void)prefix;
    return c->loss_pct == 5 && strcmp(c->state_label, "s16k") == 0 && c->checksum_interval == 1;
}

static void bench_p2p(const bench_opts *o)
{
    p2p_totals totals = {0};
    p2p_for_each(o, &totals, p2p_want_filtered);
    if (totals.frames == 0 && bench_wants(o, "p2p.allocs_per_frame")) {
        p2p_for_each(o, &totals, p2p_want_alloc_check);
    }
    if (totals.frames > 0) {
        bench_report_fmt(o, "%s %g %s\n", "p2p.allocs_per_frame",
                         (double)totals.allocs / (double)totals.frames, "allocs");
    }
}

/* ------------------------------------------------------------------------ */
/* Driver                                                                    */
/* ------------------------------------------------------------------------ */

static void bench_sweep_group(const bench_opts *o)
{
    bench_sweep(o->filter); /* virtual time: --frames does not apply */
}

/* Figure groups by name prefix. */
static const struct {
    const char *prefix;
    void (*run)(const bench_opts *o);
} bench_groups[] = {
    {"core.frame.", bench_core_frame},
    {"core.rollback", bench_core_rollback},
    {"snapshot.", bench_snapshot},
    {"core.allocs_per_frame", bench_core_allocs},
    {"p2p.", bench_p2p},
    {"sweep.", bench_sweep_group},
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
