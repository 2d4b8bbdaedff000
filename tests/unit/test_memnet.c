/* The in-memory network: connection events, ordered delivery, cuts, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "counting_alloc.h"

#include "memnet_internal.h"
#include "rollnet/rollnet.h"


/* The peer id connect gives, or -1 when it fails (the error must say so too). */
static int tx_connect(rollnet_transport t, const char *address)
{
    int peer = 12345;
    rollnet_error err = t.vtable->connect(t.self, address, 0, &peer);
    assert_true((err == ROLLNET_ERR_OK) == (peer >= 0));
    assert_true(err == ROLLNET_ERR_OK || peer == -1);
    return peer;
}

static rollnet_error tx_send(rollnet_transport t, int peer, rollnet_channel ch, const void *data,
                             size_t size)
{
    return t.vtable->send(t.self, peer, ch, data, size, 0);
}

/* 1 and *ev filled when an event was ready, 0 when none (receive must succeed). */
static int tx_receive(rollnet_transport t, rollnet_transport_event *ev)
{
    memset(ev, 0xAB, sizeof *ev); /* receive must set the type even when nothing is ready */
    assert_int_equal(t.vtable->receive(t.self, 0, ev), ROLLNET_ERR_OK);
    return ev->type != ROLLNET_TRANSPORT_NONE;
}

/* Connect a to b and consume the CONNECTED events on both sides. */
static void link_nodes(rollnet_memnet *net, int a, int b)
{
    char address[16] = "mem:";
    address[4] = (char)('0' + b);
    rollnet_transport ta = rollnet_memnet_transport(net, a);
    rollnet_transport tb = rollnet_memnet_transport(net, b);
    rollnet_transport_event ev;
    assert_int_equal(tx_connect(ta, address), b);
    assert_int_equal(tx_receive(ta, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);
    assert_int_equal(tx_receive(tb, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);
}

static void connect_raises_connected_on_both_sides_with_node_index_peer_ids(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(3, NULL);
    assert_non_null(net);
    rollnet_transport t0 = rollnet_memnet_transport(net, 0);
    rollnet_transport t2 = rollnet_memnet_transport(net, 2);
    rollnet_transport_event ev;

    assert_int_equal(tx_connect(t2, "mem:0"), 0);
    assert_int_equal(tx_receive(t2, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);
    assert_int_equal(ev.peer, 0);
    assert_int_equal(tx_receive(t2, &ev), 0);

    assert_int_equal(tx_receive(t0, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);
    assert_int_equal(ev.peer, 2);
    assert_int_equal(tx_receive(t0, &ev), 0);

    /* Node 1 took no part. */
    assert_int_equal(tx_receive(rollnet_memnet_transport(net, 1), &ev), 0);
    rollnet_memnet_destroy(net);
}

static void connecting_an_existing_link_again_announces_nothing_new(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    rollnet_transport t0 = rollnet_memnet_transport(net, 0);
    rollnet_transport t1 = rollnet_memnet_transport(net, 1);
    rollnet_transport_event ev;

    link_nodes(net, 0, 1);
    /* Both sides dialling each other end up on the one link. */
    assert_int_equal(tx_connect(t1, "mem:0"), 0);
    assert_int_equal(tx_connect(t0, "mem:1"), 1);
    assert_int_equal(tx_receive(t0, &ev), 0);
    assert_int_equal(tx_receive(t1, &ev), 0);
    rollnet_memnet_destroy(net);
}

static void messages_arrive_in_send_order_across_both_channels(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    rollnet_transport t0 = rollnet_memnet_transport(net, 0);
    rollnet_transport t1 = rollnet_memnet_transport(net, 1);
    rollnet_transport_event ev;
    link_nodes(net, 0, 1);

    for (uint8_t i = 0; i < 50; i++) {
        uint8_t msg[3] = {i, (uint8_t)(i * 7), (uint8_t)(255 - i)};
        rollnet_channel ch = (i % 3 == 0) ? ROLLNET_CHANNEL_RELIABLE : ROLLNET_CHANNEL_UNRELIABLE;
        assert_int_equal(tx_send(t0, 1, ch, msg, sizeof msg), 0);
    }
    /* Nothing leaks back to the sender. */
    assert_int_equal(tx_receive(t0, &ev), 0);
    for (uint8_t i = 0; i < 50; i++) {
        assert_int_equal(tx_receive(t1, &ev), 1);
        assert_int_equal(ev.type, ROLLNET_TRANSPORT_RECEIVE);
        assert_int_equal(ev.peer, 0);
        assert_int_equal(ev.channel,
                         (i % 3 == 0) ? ROLLNET_CHANNEL_RELIABLE : ROLLNET_CHANNEL_UNRELIABLE);
        assert_int_equal(ev.size, 3);
        assert_int_equal(ev.data[0], i);
        assert_int_equal(ev.data[1], (uint8_t)(i * 7));
        assert_int_equal(ev.data[2], (uint8_t)(255 - i));
    }
    assert_int_equal(tx_receive(t1, &ev), 0);
    rollnet_memnet_destroy(net);
}

static void received_data_stays_valid_until_the_next_receive(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    rollnet_transport t0 = rollnet_memnet_transport(net, 0);
    rollnet_transport t1 = rollnet_memnet_transport(net, 1);
    rollnet_transport_event ev;
    link_nodes(net, 0, 1);

    uint8_t first[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_UNRELIABLE, first, sizeof first), 0);
    assert_int_equal(tx_receive(t1, &ev), 1);
    const uint8_t *held = ev.data;
    /* The sender fills the inbox to the brim while the receiver holds the event. */
    uint8_t junk[8];
    memset(junk, 0xEE, sizeof junk);
    for (int i = 0; i < RN_MEMNET_INBOX_SLOTS + 10; i++) {
        assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_UNRELIABLE, junk, sizeof junk), 0);
        if (i % 2 == 0) {
            tx_connect(t0, "mem:1"); /* no-op on a standing link */
        }
    }
    assert_memory_equal(held, first, sizeof first);
    rollnet_memnet_destroy(net);
}

static void cut_node_loses_messages_both_ways_until_restored(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(3, NULL);
    rollnet_transport t0 = rollnet_memnet_transport(net, 0);
    rollnet_transport t1 = rollnet_memnet_transport(net, 1);
    rollnet_transport t2 = rollnet_memnet_transport(net, 2);
    rollnet_transport_event ev;
    link_nodes(net, 0, 1);
    link_nodes(net, 2, 1);
    uint8_t b = 42;

    rollnet_memnet_set_cut(net, 1, true);
    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_RELIABLE, &b, 1), 0);
    assert_int_equal(tx_send(t1, 0, ROLLNET_CHANNEL_UNRELIABLE, &b, 1), 0);
    assert_int_equal(tx_send(t2, 1, ROLLNET_CHANNEL_UNRELIABLE, &b, 1), 0);
    assert_int_equal(tx_receive(t0, &ev), 0);
    assert_int_equal(tx_receive(t1, &ev), 0);
    rn_memnet_counters c1, c0;
    assert_true(rn_memnet_counters_get(net, 1, &c1));
    assert_true(rn_memnet_counters_get(net, 0, &c0));
    assert_int_equal(c1.lost_cut, 2);
    assert_int_equal(c0.lost_cut, 1);

    /* Cutting the sender loses its messages too. */
    rollnet_memnet_set_cut(net, 1, false);
    rollnet_memnet_set_cut(net, 0, true);
    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_RELIABLE, &b, 1), 0);
    assert_int_equal(tx_receive(t1, &ev), 0);

    rollnet_memnet_set_cut(net, 0, false);
    b = 43;
    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_RELIABLE, &b, 1), 0);
    assert_int_equal(tx_receive(t1, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_RECEIVE);
    assert_int_equal(ev.data[0], 43);
    assert_int_equal(tx_receive(t1, &ev), 0);
    rollnet_memnet_destroy(net);
}

static void bad_addresses_are_refused(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(3, NULL);
    rollnet_transport t1 = rollnet_memnet_transport(net, 1);
    rollnet_transport_event ev;
    const char *bad[] = {
        "mem:1",  /* itself */
        "mem:3",  /* no such node */
        "mem:",   "mem:x", "mem:2x", "mem:-1", "mem: 2", "mem:+2", "Mem:2", "mem2",
        "udp:2",  "",      "mem:99999999999999999999999",
    };
    char why[64];
    int peer = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tx_connect(t1, bad[i]), -1);
        assert_int_equal(t1.vtable->connect(t1.self, bad[i], 0, &peer), ROLLNET_ERR_BAD_ADDRESS);
        why[0] = '\0';
        assert_int_equal(t1.vtable->check_address(t1.self, bad[i], why, sizeof why),
                         ROLLNET_ERR_BAD_ADDRESS);
        assert_true(strlen(why) > 0); /* says why */
    }
    assert_int_equal(t1.vtable->connect(t1.self, NULL, 0, &peer), ROLLNET_ERR_BAD_ADDRESS);
    assert_int_equal(t1.vtable->connect(t1.self, "mem:2", 0, NULL), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(t1.vtable->check_address(t1.self, "mem:1", NULL, 0), ROLLNET_ERR_BAD_ADDRESS);
    assert_int_equal(t1.vtable->check_address(t1.self, "mem:2", why, sizeof why), ROLLNET_ERR_OK);
    /* A refused connect leaves no trace. */
    assert_int_equal(tx_receive(t1, &ev), 0);
    assert_int_equal(tx_receive(rollnet_memnet_transport(net, 2), &ev), 0);
    assert_int_equal(tx_connect(t1, "mem:2"), 2);
    rollnet_memnet_destroy(net);
}

static void send_refuses_oversize_unknown_and_unconnected_peers(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(3, NULL);
    rollnet_transport t0 = rollnet_memnet_transport(net, 0);
    rollnet_transport t1 = rollnet_memnet_transport(net, 1);
    rollnet_transport_event ev;
    static uint8_t big[RN_MEMNET_MAX_MESSAGE + 1];
    big[0] = 9;
    big[RN_MEMNET_MAX_MESSAGE - 1] = 10;
    link_nodes(net, 0, 1);

    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_UNRELIABLE, big, sizeof big),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(tx_send(t0, 1, (rollnet_channel)2, big, 1), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_RELIABLE, NULL, 1),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    /* not connected, no such node, none, itself */
    assert_int_equal(tx_send(t0, 2, ROLLNET_CHANNEL_UNRELIABLE, big, 1), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(tx_send(t0, 3, ROLLNET_CHANNEL_UNRELIABLE, big, 1), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(tx_send(t0, -1, ROLLNET_CHANNEL_UNRELIABLE, big, 1), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(tx_send(t0, 0, ROLLNET_CHANNEL_UNRELIABLE, big, 1), ROLLNET_ERR_UNKNOWN_PEER);
    rollnet_transport_peer_info info = {.rtt_ms = 5};
    assert_int_equal(t0.vtable->peer_info(t0.self, 2, &info), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(t0.vtable->peer_info(t0.self, 3, &info), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(t0.vtable->peer_info(t0.self, -1, &info), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(info.rtt_ms, 5); /* left alone */
    assert_int_equal(t0.vtable->peer_info(t0.self, 1, NULL), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(t0.vtable->receive(t0.self, 0, NULL), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(tx_receive(t1, &ev), 0);

    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_UNRELIABLE, big, RN_MEMNET_MAX_MESSAGE), 0);
    assert_int_equal(tx_receive(t1, &ev), 1);
    assert_int_equal(ev.size, RN_MEMNET_MAX_MESSAGE);
    assert_int_equal(ev.data[0], 9);
    assert_int_equal(ev.data[RN_MEMNET_MAX_MESSAGE - 1], 10);
    rollnet_memnet_destroy(net);
}

static void full_inbox_drops_unreliable_refuses_reliable_keeps_connection_events(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(3, NULL);
    rollnet_transport t0 = rollnet_memnet_transport(net, 0);
    rollnet_transport t1 = rollnet_memnet_transport(net, 1);
    rollnet_transport t2 = rollnet_memnet_transport(net, 2);
    rollnet_transport_event ev;
    link_nodes(net, 0, 1);
    const int room = RN_MEMNET_INBOX_SLOTS - RN_MEMNET_CONTROL_RESERVE;

    for (int i = 0; i < room + 5; i++) {
        uint32_t v = (uint32_t)i;
        assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_UNRELIABLE, &v, sizeof v), 0);
    }
    rn_memnet_counters c;
    assert_true(rn_memnet_counters_get(net, 1, &c));
    assert_int_equal(c.dropped_full, 5);
    assert_int_equal(c.queued, room);
    /* A reliable message must not vanish unannounced: refused, and counted. */
    uint32_t r = 0xFFFF;
    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_RELIABLE, &r, sizeof r), ROLLNET_ERR_TRANSPORT);
    assert_true(rn_memnet_counters_get(net, 1, &c));
    assert_int_equal(c.dropped_full, 6);

    /* A new connection still gets through to the full inbox. */
    assert_int_equal(tx_connect(t2, "mem:1"), 1);

    for (int i = 0; i < room; i++) {
        assert_int_equal(tx_receive(t1, &ev), 1);
        assert_int_equal(ev.type, ROLLNET_TRANSPORT_RECEIVE);
        uint32_t v;
        memcpy(&v, ev.data, sizeof v);
        assert_int_equal(v, (uint32_t)i); /* the oldest are kept, the newest dropped */
    }
    assert_int_equal(tx_receive(t1, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);
    assert_int_equal(ev.peer, 2);
    assert_int_equal(tx_receive(t1, &ev), 0);
    assert_true(rn_memnet_counters_get(net, 1, &c));
    assert_int_equal(c.delivered, room + 2); /* + the CONNECTED from node 0 and node 2 */
    assert_int_equal(c.queued, 0);
    rollnet_memnet_destroy(net);
}

static void disconnect_notifies_the_other_side_after_what_was_sent_before(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    rollnet_transport t0 = rollnet_memnet_transport(net, 0);
    rollnet_transport t1 = rollnet_memnet_transport(net, 1);
    rollnet_transport_event ev;
    link_nodes(net, 0, 1);
    uint8_t b = 7;

    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_RELIABLE, &b, 1), 0);
    assert_int_equal(tx_send(t1, 0, ROLLNET_CHANNEL_RELIABLE, &b, 1), 0);
    t0.vtable->disconnect(t0.self, 1);

    /* The closing side hears nothing more from the closed link. */
    assert_int_equal(tx_receive(t0, &ev), 0);
    /* The other side gets what was sent before, then DISCONNECTED. */
    assert_int_equal(tx_receive(t1, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_RECEIVE);
    assert_int_equal(tx_receive(t1, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_DISCONNECTED);
    assert_int_equal(ev.peer, 0);
    assert_int_equal(tx_receive(t1, &ev), 0);

    /* Closed on both sides: no such peer any more. */
    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_RELIABLE, &b, 1), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(tx_send(t1, 0, ROLLNET_CHANNEL_RELIABLE, &b, 1), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(tx_send(t1, 0, ROLLNET_CHANNEL_UNRELIABLE, &b, 1), ROLLNET_ERR_UNKNOWN_PEER);
    rollnet_transport_peer_info info;
    assert_int_equal(t0.vtable->peer_info(t0.self, 1, &info), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(t1.vtable->peer_info(t1.self, 0, &info), ROLLNET_ERR_UNKNOWN_PEER);

    /* Reconnecting works and traffic flows again. */
    link_nodes(net, 1, 0);
    assert_int_equal(t0.vtable->peer_info(t0.self, 1, &info), 0);
    assert_int_equal(info.rtt_ms, 0);
    assert_string_equal(info.address, "mem:1"); /* what node 0 would dial */
    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_UNRELIABLE, &b, 1), 0);
    assert_int_equal(tx_receive(t1, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_RECEIVE);
    rollnet_memnet_destroy(net);
}

/* A NAT that rebinds: node 1 sees node 0 under a new id, announced; what
 * node 1 sends to the old id is lost and closing it closes nothing. */
static void rebind_gives_the_peer_a_new_id_and_loses_the_old_one(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    rollnet_transport t0 = rollnet_memnet_transport(net, 0);
    rollnet_transport t1 = rollnet_memnet_transport(net, 1);
    rollnet_transport_event ev;
    link_nodes(net, 0, 1);
    uint8_t b = 7;
    rollnet_memnet_rebind(net, 1, 0);
    assert_int_equal(tx_receive(t1, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);
    int alias = ev.peer;
    assert_int_equal(alias, 2); /* 0 + 2 nodes * one rebinding */
    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_UNRELIABLE, &b, 1), 0);
    assert_int_equal(tx_receive(t1, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_RECEIVE);
    assert_int_equal(ev.peer, alias);
    /* To the old id: accepted and lost. */
    assert_int_equal(tx_send(t1, 0, ROLLNET_CHANNEL_RELIABLE, &b, 1), 0);
    assert_int_equal(tx_receive(t0, &ev), 0);
    t1.vtable->disconnect(t1.self, 0);
    assert_int_equal(tx_receive(t0, &ev), 0);
    /* To the new one: delivered; an id never given is unknown. */
    assert_int_equal(tx_send(t1, alias, ROLLNET_CHANNEL_RELIABLE, &b, 1), 0);
    assert_int_equal(tx_receive(t0, &ev), 1);
    assert_int_equal(ev.peer, 1);
    assert_int_equal(tx_send(t1, alias + 2, ROLLNET_CHANNEL_RELIABLE, &b, 1),
                     ROLLNET_ERR_UNKNOWN_PEER);
    /* Closing the new id closes the link, announced under the old id there. */
    t1.vtable->disconnect(t1.self, alias);
    assert_int_equal(tx_receive(t0, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_DISCONNECTED);
    assert_int_equal(ev.peer, 1);
    rollnet_memnet_destroy(net);
}

/* Node 0 closes and connects again before node 1 reads: node 1 closing what
 * it read as closed does not close the new connection it has not heard of. */
static void closing_an_old_connection_keeps_a_newer_one(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    rollnet_transport t0 = rollnet_memnet_transport(net, 0);
    rollnet_transport t1 = rollnet_memnet_transport(net, 1);
    rollnet_transport_event ev;
    link_nodes(net, 0, 1);
    t0.vtable->disconnect(t0.self, 1);
    assert_int_equal(tx_connect(t0, "mem:1"), 1);
    assert_int_equal(tx_receive(t1, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_DISCONNECTED);
    t1.vtable->disconnect(t1.self, 0); /* the old one, as node 1 knows it */
    assert_int_equal(tx_receive(t1, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);
    uint8_t b = 7;
    assert_int_equal(tx_send(t1, 0, ROLLNET_CHANNEL_RELIABLE, &b, 1), 0);
    assert_int_equal(tx_receive(t0, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_CONNECTED);
    assert_int_equal(tx_receive(t0, &ev), 1);
    assert_int_equal(ev.type, ROLLNET_TRANSPORT_RECEIVE);
    rollnet_memnet_destroy(net);
}

static void memory_comes_from_the_allocator_at_creation_only(void **state)
{
    (void)state;
    counting_alloc counts = {0};
    rollnet_allocator a = {count_alloc, count_free, &counts};
    rollnet_memnet *net = rollnet_memnet_create(2, &a);
    assert_non_null(net);
    int after_create = counts.allocs;
    assert_true(after_create > 0);

    rollnet_transport t0 = rollnet_memnet_transport(net, 0);
    rollnet_transport t1 = rollnet_memnet_transport(net, 1);
    rollnet_transport_event ev;
    link_nodes(net, 0, 1);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_UNRELIABLE, &i, sizeof i), 0);
        assert_int_equal(tx_receive(t1, &ev), 1);
    }
    /* A node's transport destroy is a no-op: the memnet still works. */
    rollnet_transport copy = t1;
    rollnet_transport_destroy(&copy);
    assert_int_equal(tx_send(t0, 1, ROLLNET_CHANNEL_UNRELIABLE, &counts, 1), 0);
    assert_int_equal(tx_receive(t1, &ev), 1);

    assert_int_equal(counts.allocs, after_create);
    assert_int_equal(counts.frees, 0);
    rollnet_memnet_destroy(net);
    assert_int_equal(counts.frees, counts.allocs);
}

static void invalid_creation_and_node_indices_are_refused(void **state)
{
    (void)state;
    assert_null(rollnet_memnet_create(0, NULL));
    assert_null(rollnet_memnet_create(-2, NULL));
    assert_null(rollnet_memnet_create(RN_MEMNET_MAX_NODES + 1, NULL));
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    assert_null(rollnet_memnet_transport(net, 2).vtable);
    assert_null(rollnet_memnet_transport(net, -1).vtable);
    assert_null(rollnet_memnet_transport(NULL, 0).vtable);
    assert_non_null(rollnet_memnet_transport(net, 1).vtable);
    rollnet_memnet_set_cut(net, 5, true); /* ignored */
    rn_memnet_counters c;
    assert_false(rn_memnet_counters_get(net, 2, &c));
    rollnet_memnet_destroy(net);
    rollnet_memnet_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connect_raises_connected_on_both_sides_with_node_index_peer_ids),
        cmocka_unit_test(connecting_an_existing_link_again_announces_nothing_new),
        cmocka_unit_test(messages_arrive_in_send_order_across_both_channels),
        cmocka_unit_test(received_data_stays_valid_until_the_next_receive),
        cmocka_unit_test(cut_node_loses_messages_both_ways_until_restored),
        cmocka_unit_test(bad_addresses_are_refused),
        cmocka_unit_test(send_refuses_oversize_unknown_and_unconnected_peers),
        cmocka_unit_test(full_inbox_drops_unreliable_refuses_reliable_keeps_connection_events),
        cmocka_unit_test(disconnect_notifies_the_other_side_after_what_was_sent_before),
        cmocka_unit_test(rebind_gives_the_peer_a_new_id_and_loses_the_old_one),
        cmocka_unit_test(closing_an_old_connection_keeps_a_newer_one),
        cmocka_unit_test(memory_comes_from_the_allocator_at_creation_only),
        cmocka_unit_test(invalid_creation_and_node_indices_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
