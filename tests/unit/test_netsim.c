/* The network simulator: delay, jitter, loss, duplication, reordering, the
 * reliable channel's guarantees, live changes, bounds and ownership. The
 * inner transport is a recorder (netsim_recorder.h) that notes when each
 * message reaches it, so every schedule is read off a virtual clock. Errors:
 * test_netsim_errors.c; the spec parser: test_netsim_parse.c. */
#include "netsim_recorder.h"

#include "counting_alloc.h"
#include "memnet_internal.h"

/* Send n unreliable messages, one per ms from t = 0, ticking every ms, until
 * nothing is held; arrival[i] = when message i first reached the inner
 * transport (UINT64_MAX: never). */
static void run_schedule(rollnet_netsim_desc desc, uint32_t n, uint64_t *arrival)
{
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, desc);
    for (uint32_t i = 0; i < n; i++) {
        arrival[i] = UINT64_MAX;
    }
    uint64_t now = 0;
    for (; now < n || counters_of(t).held > 0; now++) {
        sim_tick(t, now);
        if (now < n) {
            assert_int_equal(sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, (uint32_t)now, now), 0);
        }
    }
    for (size_t k = 0; k < r->count; k++) {
        uint32_t id = r->msgs[k].id;
        assert_true(id < n);
        if (arrival[id] == UINT64_MAX) {
            arrival[id] = r->msgs[k].at;
        }
    }
    rollnet_transport_destroy(&t);
    assert_true(r->destroyed);
    free(r);
}

/* ---- Delay and jitter ---- */

static void delay_holds_a_message_until_its_due_time_exactly(void **state)
{
    (void)state;
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){.delay_ms = 50});
    assert_int_equal(sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, 1, 100), 0);
    assert_int_equal(sim_send(t, 3, ROLLNET_CHANNEL_RELIABLE, 2, 100), 0);
    uint64_t due = 0;
    assert_true(rollnet_netsim_next_due(&t, &due));
    assert_int_equal(due, 150);

    sim_tick(t, 149);
    assert_int_equal(r->count, 0);
    sim_tick(t, 150);
    assert_int_equal(r->count, 2);
    assert_int_equal(r->msgs[0].at, 150);
    assert_int_equal(r->msgs[0].id, 1); /* ties go in send order */
    assert_int_equal(r->msgs[1].id, 2);
    assert_int_equal(r->msgs[1].channel, ROLLNET_CHANNEL_RELIABLE);
    assert_false(rollnet_netsim_next_due(&t, &due));
    rollnet_transport_destroy(&t);
    free(r);
}

static void zero_conditions_pass_messages_through_at_once(void **state)
{
    (void)state;
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){0});
    for (uint32_t i = 0; i < 100; i++) {
        assert_int_equal(sim_send(t, 3, (rollnet_channel)(i % 2), i, 7), 0);
        assert_int_equal(r->count, i + 1); /* without waiting for a receive */
        assert_int_equal(r->msgs[i].id, i);
        assert_int_equal(r->msgs[i].at, 7);
    }
    assert_int_equal(counters_of(t).held, 0);
    rollnet_transport_destroy(&t);
    free(r);
}

static void jitter_stays_within_delay_plus_minus_jitter_and_spans_it(void **state)
{
    (void)state;
    enum { N = 3000 };
    static uint64_t arrival[N];
    run_schedule((rollnet_netsim_desc){.delay_ms = 50, .jitter_ms = 20, .seed = 11}, N, arrival);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint32_t i = 0; i < N; i++) {
        assert_true(arrival[i] != UINT64_MAX);
        uint64_t d = arrival[i] - i;
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    assert_int_equal(lo, 30);
    assert_int_equal(hi, 70);
}

static void jitter_larger_than_delay_never_goes_below_zero(void **state)
{
    (void)state;
    enum { N = 2000 };
    static uint64_t arrival[N];
    run_schedule((rollnet_netsim_desc){.delay_ms = 5, .jitter_ms = 20, .seed = 3}, N, arrival);
    int immediate = 0;
    for (uint32_t i = 0; i < N; i++) {
        assert_true(arrival[i] >= i);
        assert_true(arrival[i] - i <= 25);
        immediate += arrival[i] == i;
    }
    /* Draws of -20..-5 all clamp to 0: 16 of 41 values. */
    assert_in_range(immediate, N * 16 / 41 - 100, N * 16 / 41 + 100);
}

static void same_seed_gives_same_schedule_and_other_seed_another(void **state)
{
    (void)state;
    enum { N = 1000 };
    static uint64_t a[N], b[N], c[N];
    rollnet_netsim_desc d = {
        .delay_ms = 40, .jitter_ms = 30, .loss_permille = 50, .dup_permille = 20,
        .reorder_permille = 30, .seed = 7,
    };
    run_schedule(d, N, a);
    run_schedule(d, N, b);
    d.seed = 8;
    run_schedule(d, N, c);
    assert_memory_equal(a, b, sizeof a);
    int differ = 0;
    for (int i = 0; i < N; i++) {
        differ += a[i] != c[i];
    }
    assert_true(differ > N / 2);
}

/* ---- Loss, duplication, reordering ---- */

static void loss_rate_matches_the_setting_within_one_percent(void **state)
{
    (void)state;
    enum { N = 10000 };
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){.loss_permille = 50, .seed = 99});
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, i, i), 0);
    }
    rn_netsim_counters c = counters_of(t);
    assert_int_equal(r->count + c.lost, N);
    assert_in_range(c.lost, 400, 600);
    rollnet_transport_destroy(&t);
    free(r);
}

static void duplication_rate_matches_the_setting_and_copies_are_identical(void **state)
{
    (void)state;
    enum { N = 10000 };
    static uint8_t seen[N];
    memset(seen, 0, sizeof seen);
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){.dup_permille = 100, .seed = 5});
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, i, i), 0);
    }
    int twice = 0;
    for (size_t k = 0; k < r->count; k++) {
        assert_int_equal(r->msgs[k].size, 4);
        seen[r->msgs[k].id]++;
    }
    for (uint32_t i = 0; i < N; i++) {
        assert_in_range(seen[i], 1, 2);
        twice += seen[i] == 2;
    }
    assert_int_equal(r->count, N + (size_t)twice);
    assert_int_equal(counters_of(t).duplicated, twice);
    assert_in_range(twice, 900, 1100);
    rollnet_transport_destroy(&t);
    free(r);
}

static int count_inversions(const recorder *r, rollnet_channel ch)
{
    int inversions = 0;
    int64_t max_id = -1;
    for (size_t k = 0; k < r->count; k++) {
        if (r->msgs[k].channel != ch) {
            continue;
        }
        if ((int64_t)r->msgs[k].id < max_id) {
            inversions++;
        } else {
            max_id = r->msgs[k].id;
        }
    }
    return inversions;
}

static void reordering_holds_some_unreliable_messages_back_past_later_ones(void **state)
{
    (void)state;
    enum { N = 1000 };
    for (int pass = 0; pass < 2; pass++) {
        uint32_t reorder = pass == 0 ? 0 : 100;
        recorder *r = rec_new();
        rollnet_transport t =
            sim_over(r, (rollnet_netsim_desc){.delay_ms = 10, .reorder_permille = reorder});
        for (uint64_t now = 0; now < N + 100; now++) {
            sim_tick(t, now);
            if (now < N) {
                sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, (uint32_t)now, now);
            }
        }
        assert_int_equal(r->count, N);
        int held_back = 0;
        for (size_t k = 0; k < r->count; k++) {
            uint64_t d = r->msgs[k].at - r->msgs[k].id;
            /* Default reorder_ms is 2 * delay + 10 = 30 on top of the delay. */
            assert_true(d == 10 || d == 40);
            held_back += d == 40;
        }
        if (pass == 0) {
            assert_int_equal(count_inversions(r, ROLLNET_CHANNEL_UNRELIABLE), 0);
            assert_int_equal(held_back, 0);
        } else {
            assert_true(count_inversions(r, ROLLNET_CHANNEL_UNRELIABLE) > 50);
            assert_in_range(held_back, 70, 130);
            assert_int_equal(counters_of(t).reordered, held_back);
        }
        rollnet_transport_destroy(&t);
        free(r);
    }
}

static void explicit_reorder_ms_sets_the_hold_back(void **state)
{
    (void)state;
    recorder *r = rec_new();
    rollnet_transport t = sim_over(
        r, (rollnet_netsim_desc){.delay_ms = 10, .reorder_permille = 1000, .reorder_ms = 5});
    sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, 1, 0);
    sim_tick(t, 14);
    assert_int_equal(r->count, 0);
    sim_tick(t, 15);
    assert_int_equal(r->count, 1);
    rollnet_transport_destroy(&t);
    free(r);
}

/* ---- Reliable channel ---- */

static void reliable_channel_loses_nothing_duplicates_nothing_and_keeps_order(void **state)
{
    (void)state;
    enum { N = 4000 };
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){
                                          .delay_ms = 20, .jitter_ms = 15, .loss_permille = 300,
                                          .dup_permille = 300, .reorder_permille = 200, .seed = 42,
                                      });
    uint64_t now = 0;
    for (; now < N || counters_of(t).held > 0; now++) {
        sim_tick(t, now);
        if (now < N) {
            /* Reliable and unreliable interleaved, to two peers. */
            int peer = (now / 2) % 2 == 0 ? 3 : 5;
            sim_send(t, peer, (rollnet_channel)(now % 2), (uint32_t)now, now);
        }
    }
    uint32_t next_id[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t reliable = 0;
    for (size_t k = 0; k < r->count; k++) {
        const rec_msg *m = &r->msgs[k];
        if (m->channel != ROLLNET_CHANNEL_RELIABLE) {
            continue;
        }
        reliable++;
        /* Reliable ids per peer arrive strictly increasing and without gaps. */
        uint32_t expect = next_id[m->peer];
        while (expect % 2 != 0 || ((expect / 2) % 2 == 0 ? 3 : 5) != m->peer) {
            expect++;
        }
        assert_int_equal(m->id, expect);
        next_id[m->peer] = expect + 1;
    }
    assert_int_equal(reliable, N / 2);
    rn_netsim_counters c = counters_of(t);
    assert_true(c.reliable_late > 200);
    assert_true(c.lost > 200); /* the unreliable half did lose */
    assert_true(count_inversions(r, ROLLNET_CHANNEL_UNRELIABLE) > 0);
    rollnet_transport_destroy(&t);
    free(r);
}

static void lost_reliable_message_arrives_one_round_trip_late(void **state)
{
    (void)state;
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){.delay_ms = 10, .loss_permille = 1000});
    sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, 1, 0);
    sim_send(t, 3, ROLLNET_CHANNEL_RELIABLE, 2, 0);
    /* 10 ms delay + one extra round trip of 2 * 10 + 10 ms. */
    sim_tick(t, 39);
    assert_int_equal(r->count, 0);
    sim_tick(t, 40);
    assert_int_equal(r->count, 1);
    assert_int_equal(r->msgs[0].id, 2);
    sim_tick(t, 1000);
    assert_int_equal(r->count, 1);
    rollnet_transport_destroy(&t);
    free(r);
}

/* ---- Live changes ---- */

static void set_changes_conditions_mid_run_and_keeps_reliable_order(void **state)
{
    (void)state;
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){.seed = 1});
    sim_send(t, 3, ROLLNET_CHANNEL_RELIABLE, 1, 0);
    assert_int_equal(r->count, 1);

    assert_int_equal(rollnet_netsim_set(&t, &(rollnet_netsim_desc){.delay_ms = 100}),
                     ROLLNET_ERR_OK);
    sim_send(t, 3, ROLLNET_CHANNEL_RELIABLE, 2, 1);
    sim_tick(t, 100);
    assert_int_equal(r->count, 1);

    /* Back to no delay: a later reliable message still waits for the earlier one. */
    assert_int_equal(rollnet_netsim_set(&t, &(rollnet_netsim_desc){0}), ROLLNET_ERR_OK);
    sim_send(t, 3, ROLLNET_CHANNEL_RELIABLE, 3, 2);
    sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, 4, 2); /* unreliable goes at once */
    assert_int_equal(r->count, 2);
    assert_int_equal(r->msgs[1].id, 4);
    sim_tick(t, 101);
    assert_int_equal(r->count, 4);
    assert_int_equal(r->msgs[2].id, 2);
    assert_int_equal(r->msgs[3].id, 3);

    assert_int_equal(rollnet_netsim_set(&t, &(rollnet_netsim_desc){.loss_permille = 1000}),
                     ROLLNET_ERR_OK);
    for (uint32_t i = 0; i < 50; i++) {
        sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, 100 + i, 200);
    }
    sim_tick(t, 1000);
    assert_int_equal(r->count, 4);

    /* Rejected changes leave the conditions as they were. */
    assert_int_equal(rollnet_netsim_set(&t, &(rollnet_netsim_desc){.loss_permille = 1001}),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_netsim_set(&t, &(rollnet_netsim_desc){.dup_permille = 2000}),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_netsim_set(&t, NULL), ROLLNET_ERR_INVALID_ARGUMENT);
    sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, 5, 1000);
    assert_int_equal(r->count, 4);

    rollnet_memnet *net = rollnet_memnet_create(1, NULL);
    rollnet_transport mem = rollnet_memnet_transport(net, 0);
    assert_int_equal(rollnet_netsim_set(&mem, &(rollnet_netsim_desc){0}),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_netsim_set(NULL, &(rollnet_netsim_desc){0}),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    rollnet_memnet_destroy(net);
    rollnet_transport_destroy(&t);
    free(r);
}

/* ---- Bounds and ownership ---- */

static void oversize_messages_are_refused(void **state)
{
    (void)state;
    static uint8_t big[RN_NETSIM_MAX_MESSAGE + 1];
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (uint8_t)i;
    }
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){.delay_ms = 5});
    assert_int_equal(t.vtable->send(t.self, 3, ROLLNET_CHANNEL_RELIABLE, big, sizeof big, 0),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(t.vtable->send(t.self, 3, ROLLNET_CHANNEL_UNRELIABLE, big, sizeof big, 0),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(
        t.vtable->send(t.self, 3, ROLLNET_CHANNEL_UNRELIABLE, big, RN_NETSIM_MAX_MESSAGE, 0), 0);
    assert_int_equal(counters_of(t).sent, 1);
    sim_tick(t, 5);
    assert_int_equal(r->count, 1);
    assert_int_equal(r->msgs[0].size, RN_NETSIM_MAX_MESSAGE);
    assert_memory_equal(r->last_data, big, RN_NETSIM_MAX_MESSAGE);
    rollnet_transport_destroy(&t);
    free(r);
}

static void full_pool_drops_unreliable_and_refuses_reliable(void **state)
{
    (void)state;
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){.delay_ms = 100, .max_queued = 8});
    for (uint32_t i = 0; i < 10; i++) {
        assert_int_equal(sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, i, 0), 0);
    }
    rn_netsim_counters c = counters_of(t);
    assert_int_equal(c.held, 8);
    assert_int_equal(c.dropped_full, 2);
    assert_int_equal(sim_send(t, 3, ROLLNET_CHANNEL_RELIABLE, 99, 0), ROLLNET_ERR_TRANSPORT);
    assert_int_equal(counters_of(t).dropped_full, 3);
    sim_tick(t, 100);
    assert_int_equal(r->count, 8);
    for (uint32_t i = 0; i < 8; i++) {
        assert_int_equal(r->msgs[i].id, i);
    }
    /* The pool has room again. */
    assert_int_equal(sim_send(t, 3, ROLLNET_CHANNEL_RELIABLE, 100, 100), 0);
    rollnet_transport_destroy(&t);
    free(r);
}

static void calls_pass_through_and_peer_info_adds_the_round_trip(void **state)
{
    (void)state;
    recorder *r = rec_new();
    r->info = (rollnet_transport_peer_info){.rtt_ms = 10, .rtt_variance_ms = 3, .send_queue = 2};
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){.delay_ms = 50});
    assert_int_equal(sim_connect(t, "peer:3", 0), 3);
    int peer = 7;
    assert_int_equal(t.vtable->connect(t.self, "nowhere", 0, &peer), ROLLNET_ERR_BAD_ADDRESS);
    assert_int_equal(peer, -1);
    char why[32] = "";
    assert_int_equal(t.vtable->check_address(t.self, "peer:3", why, sizeof why), ROLLNET_ERR_OK);
    assert_int_equal(t.vtable->check_address(t.self, "nowhere", why, sizeof why),
                     ROLLNET_ERR_BAD_ADDRESS);
    assert_string_equal(why, "is not peer:3");
    t.vtable->set_timeout(t.self, 3, 60000);
    assert_int_equal(r->timeout_peer, 3);
    assert_int_equal(r->timeout_ms, 60000);

    rollnet_transport_peer_info info;
    assert_int_equal(t.vtable->peer_info(t.self, 3, &info), ROLLNET_ERR_OK);
    assert_int_equal(info.rtt_ms, 110);
    assert_int_equal(info.rtt_variance_ms, 3);
    assert_int_equal(info.send_queue, 2);
    info.rtt_ms = 77;
    assert_int_equal(t.vtable->peer_info(t.self, 4, &info), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(info.rtt_ms, 77); /* left alone on failure */
    rollnet_transport_destroy(&t);
    free(r);

    /* An inner transport without the optional calls. */
    r = rec_new();
    rollnet_transport inner = {&rec_vtable_minimal, r};
    assert_int_equal(rollnet_netsim_create(inner, &(rollnet_netsim_desc){.delay_ms = 20}, NULL, &t),
                     ROLLNET_ERR_OK);
    /* Nothing measured below: only the simulator's own delay, both ways. */
    assert_int_equal(t.vtable->peer_info(t.self, 3, &info), ROLLNET_ERR_OK);
    assert_int_equal(info.rtt_ms, 40);
    assert_int_equal(info.send_queue, 0);
    /* Without check_address below, every address is tried at connect. */
    assert_int_equal(t.vtable->check_address(t.self, "nowhere", why, sizeof why), ROLLNET_ERR_OK);
    t.vtable->set_timeout(t.self, 3, 5);
    t.vtable->disconnect(t.self, 3);
    rollnet_transport_destroy(&t);
    assert_true(r->destroyed);
    free(r);
}

static void disconnect_discards_what_is_in_flight_to_that_peer_only(void **state)
{
    (void)state;
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){.delay_ms = 30});
    for (uint32_t i = 0; i < 6; i++) {
        sim_send(t, (i % 2) ? 3 : 4, (rollnet_channel)((i / 2) % 2), i, 0);
    }
    t.vtable->disconnect(t.self, 3);
    assert_int_equal(r->disconnected_peer, 3);
    assert_int_equal(counters_of(t).dropped_disconnect, 3);

    /* A DISCONNECTED event from the inner transport does the same. */
    sim_send(t, 5, ROLLNET_CHANNEL_RELIABLE, 10, 1);
    r->pending = (rollnet_transport_event){.type = ROLLNET_TRANSPORT_DISCONNECTED, .peer = 5};
    rollnet_transport_event ev;
    assert_int_equal(sim_next(t, 2, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_DISCONNECTED);
    assert_int_equal(counters_of(t).dropped_disconnect, 4);

    sim_tick(t, 100);
    assert_int_equal(r->count, 3);
    for (size_t k = 0; k < r->count; k++) {
        assert_int_equal(r->msgs[k].peer, 4);
    }
    rollnet_transport_destroy(&t);
    free(r);
}


static void memory_is_taken_at_creation_and_destroy_releases_inner(void **state)
{
    (void)state;
    counting_alloc counts = {0};
    rollnet_allocator a = {count_alloc, count_free, &counts};
    recorder *r = rec_new();
    rollnet_transport inner = {&rec_vtable, r};
    rollnet_transport t;
    assert_int_equal(
        rollnet_netsim_create(inner,
                              &(rollnet_netsim_desc){.delay_ms = 20, .jitter_ms = 10,
                                                     .dup_permille = 100, .loss_permille = 100,
                                                     .reorder_permille = 100},
                              &a, &t),
        ROLLNET_ERR_OK);
    assert_non_null(t.vtable);
    int after_create = counts.allocs;
    for (uint64_t now = 0; now < 3000; now++) {
        sim_send(t, 3, (rollnet_channel)(now % 2), (uint32_t)now, now);
        sim_tick(t, now);
    }
    assert_int_equal(counts.allocs, after_create);
    assert_int_equal(counts.frees, 0);
    rollnet_transport_destroy(&t);
    assert_null(t.vtable);
    assert_true(r->destroyed);
    assert_int_equal(counts.frees, counts.allocs);

    /* A zero inner transport is refused: a zero simulator, nothing allocated. */
    rollnet_transport none = {&rec_vtable, r};
    assert_int_equal(rollnet_netsim_create((rollnet_transport){0}, NULL, &a, &none),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_null(none.vtable);
    assert_null(none.self);
    assert_int_equal(counts.frees, counts.allocs);
    free(r);
}

static void works_over_the_memnet_end_to_end(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    rollnet_transport a;
    assert_int_equal(rollnet_netsim_create(rollnet_memnet_transport(net, 0),
                                           &(rollnet_netsim_desc){.delay_ms = 30}, NULL, &a),
                     ROLLNET_ERR_OK);
    rollnet_transport b = rollnet_memnet_transport(net, 1);
    rollnet_transport_event ev;
    assert_int_equal(sim_connect(a, "mem:1", 0), 1);
    assert_int_equal(sim_next(a, 0, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);
    assert_int_equal(sim_next(b, 0, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);

    uint32_t v = 0xC0FFEE;
    assert_int_equal(a.vtable->send(a.self, 1, ROLLNET_CHANNEL_UNRELIABLE, &v, sizeof v, 0), 0);
    /* Incoming traffic is not delayed. */
    assert_int_equal(b.vtable->send(b.self, 0, ROLLNET_CHANNEL_UNRELIABLE, &v, sizeof v, 0), 0);
    assert_int_equal(sim_next(a, 0, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_RECEIVE);

    for (uint64_t now = 1; now < 30; now++) {
        assert_int_equal(sim_next(a, now, &ev), 0);
        assert_int_equal(sim_next(b, now, &ev), 0);
    }
    assert_int_equal(sim_next(a, 30, &ev), 0);
    assert_int_equal(sim_next(b, 30, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_RECEIVE);
    assert_int_equal(ev.size, sizeof v);
    assert_memory_equal(ev.data, &v, sizeof v);
    rollnet_transport_destroy(&a); /* the memnet's node destroy is a no-op */
    rollnet_memnet_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delay_holds_a_message_until_its_due_time_exactly),
        cmocka_unit_test(zero_conditions_pass_messages_through_at_once),
        cmocka_unit_test(jitter_stays_within_delay_plus_minus_jitter_and_spans_it),
        cmocka_unit_test(jitter_larger_than_delay_never_goes_below_zero),
        cmocka_unit_test(same_seed_gives_same_schedule_and_other_seed_another),
        cmocka_unit_test(loss_rate_matches_the_setting_within_one_percent),
        cmocka_unit_test(duplication_rate_matches_the_setting_and_copies_are_identical),
        cmocka_unit_test(reordering_holds_some_unreliable_messages_back_past_later_ones),
        cmocka_unit_test(explicit_reorder_ms_sets_the_hold_back),
        cmocka_unit_test(reliable_channel_loses_nothing_duplicates_nothing_and_keeps_order),
        cmocka_unit_test(lost_reliable_message_arrives_one_round_trip_late),
        cmocka_unit_test(set_changes_conditions_mid_run_and_keeps_reliable_order),
        cmocka_unit_test(oversize_messages_are_refused),
        cmocka_unit_test(full_pool_drops_unreliable_and_refuses_reliable),
        cmocka_unit_test(calls_pass_through_and_peer_info_adds_the_round_trip),
        cmocka_unit_test(disconnect_discards_what_is_in_flight_to_that_peer_only),
        cmocka_unit_test(memory_is_taken_at_creation_and_destroy_releases_inner),
        cmocka_unit_test(works_over_the_memnet_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
