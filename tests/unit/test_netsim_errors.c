/* The network simulator's errors: create refuses and runs out of memory
 * without leaking its inner transport, send names why it refuses, and the
 * inner transport's errors (the recorder's, the memnet's) come through. */
#include "netsim_recorder.h"

#include "counting_alloc.h"
#include "memnet_internal.h"

/* An inner transport that owns heap memory (the recorder itself): if the
 * simulator failed to destroy it, ASan would report the leak. */
static void rec_destroy_owned(void *self)
{
    free(self);
}

static const rollnet_transport_vtable rec_vtable_owned = {
    .connect = rec_connect,
    .send = rec_send,
    .receive = rec_receive,
    .destroy = rec_destroy_owned,
};

static void create_out_of_memory_destroys_inner_and_leaks_nothing(void **state)
{
    (void)state;
    counting_alloc counts = {0};
    rollnet_allocator a = {count_alloc, count_free, &counts};
    /* How many allocations a successful create makes. */
    rollnet_transport t;
    assert_int_equal(rollnet_netsim_create((rollnet_transport){&rec_vtable_owned, rec_new()}, NULL,
                                           &a, &t),
                     ROLLNET_ERR_OK);
    int needed = counts.allocs;
    assert_true(needed >= 2);
    rollnet_transport_destroy(&t);
    assert_int_equal(counts.frees, counts.allocs);

    for (int fail = 1; fail <= needed; fail++) {
        counts = (counting_alloc){.fail_at = fail};
        recorder *r = rec_new();
        r->destroyed = false;
        t = (rollnet_transport){&rec_vtable, r};
        assert_int_equal(rollnet_netsim_create((rollnet_transport){&rec_vtable, r},
                                               &(rollnet_netsim_desc){.delay_ms = 5}, &a, &t),
                         ROLLNET_ERR_OUT_OF_MEMORY);
        assert_null(t.vtable); /* *out is zero, not the inner transport */
        assert_null(t.self);
        assert_true(r->destroyed);
        assert_int_equal(counts.frees, counts.allocs);
        free(r);
        /* The same with an inner transport that frees itself: ASan sees a leak if not. */
        counts = (counting_alloc){.fail_at = fail};
        assert_int_equal(rollnet_netsim_create((rollnet_transport){&rec_vtable_owned, rec_new()},
                                               NULL, &a, &t),
                         ROLLNET_ERR_OUT_OF_MEMORY);
        assert_int_equal(counts.frees, counts.allocs);
    }
}

static void create_without_out_or_a_usable_inner_is_refused_and_destroys_inner(void **state)
{
    (void)state;
    recorder *r = rec_new();
    assert_int_equal(rollnet_netsim_create((rollnet_transport){&rec_vtable, r}, NULL, NULL, NULL),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_true(r->destroyed);

    static const rollnet_transport_vtable no_receive = {.connect = rec_connect,
                                                        .send = rec_send,
                                                        .destroy = rec_destroy};
    r->destroyed = false;
    rollnet_transport t = {&rec_vtable, r};
    assert_int_equal(rollnet_netsim_create((rollnet_transport){&no_receive, r}, NULL, NULL, &t),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_true(r->destroyed);
    assert_null(t.vtable);
    free(r);
}

static void send_refuses_bad_arguments_and_unknown_peers_by_name(void **state)
{
    (void)state;
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){0});
    uint32_t v = 1;
    assert_int_equal(t.vtable->send(t.self, 3, (rollnet_channel)7, &v, sizeof v, 0),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(t.vtable->send(t.self, 3, ROLLNET_CHANNEL_RELIABLE, NULL, 4, 0),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(sim_send(t, -1, ROLLNET_CHANNEL_RELIABLE, 1, 0), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(sim_send(t, -1, ROLLNET_CHANNEL_UNRELIABLE, 1, 0), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(counters_of(t).sent, 0);
    assert_int_equal(r->count, 0);

    /* A message due at once gets the inner transport's answer, on both channels. */
    r->fail = ROLLNET_ERR_UNKNOWN_PEER;
    assert_int_equal(sim_send(t, 3, ROLLNET_CHANNEL_RELIABLE, 2, 0), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(sim_send(t, 3, ROLLNET_CHANNEL_UNRELIABLE, 3, 0), ROLLNET_ERR_UNKNOWN_PEER);
    rollnet_transport_destroy(&t);

    /* A held one was accepted long before the inner transport refuses it: counted. */
    r->fail = ROLLNET_ERR_OK;
    t = sim_over(r, (rollnet_netsim_desc){.delay_ms = 10});
    assert_int_equal(sim_send(t, 3, ROLLNET_CHANNEL_RELIABLE, 4, 0), ROLLNET_ERR_OK);
    r->fail = ROLLNET_ERR_UNKNOWN_PEER;
    rollnet_transport_event ev;
    assert_int_equal(t.vtable->receive(t.self, 10, &ev), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(counters_of(t).inner_failed, 1);
    assert_int_equal(counters_of(t).held, 0);
    rollnet_transport_destroy(&t);
    free(r);
}

static void receive_failure_of_the_inner_transport_comes_through_with_no_event(void **state)
{
    (void)state;
    recorder *r = rec_new();
    rollnet_transport t = sim_over(r, (rollnet_netsim_desc){0});
    r->fail = ROLLNET_ERR_TRANSPORT;
    rollnet_transport_event ev = {.type = ROLLNET_TRANSPORT_CONNECTED};
    assert_int_equal(t.vtable->receive(t.self, 0, &ev), ROLLNET_ERR_TRANSPORT);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_NONE);
    r->fail = ROLLNET_ERR_OK;
    r->pending = (rollnet_transport_event){.type = ROLLNET_TRANSPORT_CONNECTED, .peer = 3};
    assert_int_equal(sim_next(t, 1, &ev), 1);
    assert_int_equal(ev.peer, 3);
    assert_int_equal(sim_next(t, 1, &ev), 0);
    assert_int_equal(t.vtable->receive(t.self, 1, NULL), ROLLNET_ERR_INVALID_ARGUMENT);
    rollnet_transport_destroy(&t);
    free(r);
}

static void over_the_memnet_its_errors_come_through(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    rollnet_transport a;
    assert_int_equal(rollnet_netsim_create(rollnet_memnet_transport(net, 0), NULL, NULL, &a),
                     ROLLNET_ERR_OK);
    char why[64] = "";
    assert_int_equal(a.vtable->check_address(a.self, "mem:9", why, sizeof why),
                     ROLLNET_ERR_BAD_ADDRESS);
    assert_non_null(strstr(why, "mem:N"));
    assert_int_equal(sim_connect(a, "mem:9", 0), -1);
    assert_int_equal(sim_connect(a, "mem:0", 0), -1); /* itself */
    int peer = 0;
    assert_int_equal(a.vtable->connect(a.self, "mem:0", 0, &peer), ROLLNET_ERR_BAD_ADDRESS);
    /* Not connected yet: no such peer for the memnet. */
    rollnet_transport_peer_info info;
    assert_int_equal(a.vtable->peer_info(a.self, 1, &info), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(sim_send(a, 1, ROLLNET_CHANNEL_RELIABLE, 1, 0), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(sim_connect(a, "mem:1", 0), 1);
    assert_int_equal(a.vtable->peer_info(a.self, 1, &info), ROLLNET_ERR_OK);
    assert_int_equal(sim_send(a, 1, ROLLNET_CHANNEL_RELIABLE, 1, 0), ROLLNET_ERR_OK);
    /* Closed: unknown again. */
    a.vtable->disconnect(a.self, 1);
    assert_int_equal(sim_send(a, 1, ROLLNET_CHANNEL_UNRELIABLE, 2, 0), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(a.vtable->peer_info(a.self, 1, &info), ROLLNET_ERR_UNKNOWN_PEER);
    rollnet_transport_destroy(&a);
    rollnet_memnet_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_out_of_memory_destroys_inner_and_leaks_nothing),
        cmocka_unit_test(create_without_out_or_a_usable_inner_is_refused_and_destroys_inner),
        cmocka_unit_test(send_refuses_bad_arguments_and_unknown_peers_by_name),
        cmocka_unit_test(receive_failure_of_the_inner_transport_comes_through_with_no_event),
        cmocka_unit_test(over_the_memnet_its_errors_come_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
