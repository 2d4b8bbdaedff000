/* Host introduction: every joiner knows only the host's address (node 0);
 * the host introduces the joiners to each other (INTRO), the higher handle
 * dials the lower, and the mesh then runs like one whose peers were all given
 * every address: the same ledger on every node. */
#include "p2p_fixture.h"
#include "protocol.h"

/* Each node's statistics for every remote player: the peer is there, and
 * traffic flowed both ways on that link (so the joiners did meet). */
static void assert_full_mesh(fx *f, uint64_t min_messages)
{
    for (int i = 0; i < f->n; i++) {
        for (int p = 0; p < f->n; p++) {
            rollnet_peer_stats ps;
            rollnet_error want = p == i ? ROLLNET_ERR_INVALID_PLAYER : ROLLNET_ERR_OK;
            assert_int_equal(rollnet_session_peer_stats(f->s[i], p, &ps), want);
            if (p != i) {
                assert_true(ps.synchronized);
                assert_true(ps.messages_received > min_messages);
                assert_true(ps.messages_sent > min_messages);
            }
        }
    }
}

/* Frames (of the virtual 60 fps clock) until every node runs, at most `max`. */
static uint64_t run_until_all_running(fx *f, uint64_t max)
{
    uint64_t t = 0;
    while (t < max && !fx_all_running(f)) {
        fx_run(f, 1);
        t++;
    }
    return t;
}

static void run_via_host(int n, rollnet_netsim_desc link, const char *key, uint64_t seed)
{
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = n;
    o.seed = seed;
    o.write_records = true;
    o.via_host = true;
    for (int i = 0; i < n; i++) {
        o.sim[i] = link;
        o.sim[i].delay_ms += 5u * (uint32_t)i; /* unequal links */
        o.key[i] = key;
    }
    static fx f;
    /* For the log: how much later the mesh starts than one whose peers were
     * given every address (one more round trip to the host, then a
     * handshake between the joiners). */
    o.via_host = false;
    fx_init(&f, &o);
    uint64_t direct = run_until_all_running(&f, 2500);
    fx_free(&f);
    o.via_host = true;
    fx_init(&f, &o);
    uint64_t via = run_until_all_running(&f, 2500);
    fprintf(stderr, "%d players, %u ms links%s%s: all running after %llu frames via the host, "
                    "%llu with every address\n",
            n, (unsigned)link.delay_ms, link.loss_permille ? ", lossy" : "", key ? ", keyed" : "",
            (unsigned long long)via, (unsigned long long)direct);
    fx_run(&f, 2500 - via);
    assert_true(fx_all_running(&f));
    fx_assert_ledgers_agree(&f, 2000);
    fx_assert_states_agree(&f);
    assert_full_mesh(&f, 1000);
    for (int i = 0; i < n; i++) {
        assert_true(fx_stats(&f, i).frame > 2000);
    }
    fx_free(&f);
}

static rollnet_netsim_desc plain_link(void)
{
    rollnet_netsim_desc d;
    memset(&d, 0, sizeof d);
    d.delay_ms = 30;
    d.jitter_ms = 5;
    return d;
}

static void test_three_players_know_only_the_host(void **state)
{
    (void)state;
    run_via_host(3, plain_link(), NULL, 61);
}

static void test_four_players_know_only_the_host(void **state)
{
    (void)state;
    run_via_host(4, plain_link(), NULL, 62);
}

/* 15% loss, duplicates and reordering from the first datagram on: the
 * handshakes, the INTROs and the joiners' own handshakes all cross it. */
static void test_four_players_via_the_host_over_lossy_links(void **state)
{
    (void)state;
    run_via_host(4, fx_lossy(), NULL, 63);
}

static void test_three_players_via_the_host_over_lossy_links(void **state)
{
    (void)state;
    run_via_host(3, fx_lossy(), NULL, 64);
}

/* A private session: the joiners prove the key to each other too. */
static void test_introduced_joiners_prove_the_key_to_each_other(void **state)
{
    (void)state;
    if (!ROLLNET_HAVE_SESSION_KEY) {
        skip();
    }
    run_via_host(4, plain_link(), "invite-7f3a", 65);
}

/* Joiners configured unevenly: node 1 also has node 2's address (and dials
 * it, as configured: the lower handle dials), nodes 2 and 3 only the host's.
 * The host introduces only the pairs that asked for each other (1-3, 2-3),
 * not 1-2 (node 1 dials node 2 as configured; introduced, node 2 would dial
 * node 1 as well). The mesh runs, and no INTRO is out of place. */
static void test_only_joiners_that_lack_each_others_address_are_introduced(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 4;
    o.seed = 68;
    o.write_records = true;
    o.via_host = true;
    o.knows[1] = 1u << 2;
    for (int i = 0; i < 4; i++) {
        o.sim[i] = fx_lossy();
    }
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 2500);
    assert_true(fx_all_running(&f));
    fx_assert_ledgers_agree(&f, 2000);
    assert_full_mesh(&f, 1000);
    for (int i = 0; i < 4; i++) {
        for (int p = 0; p < 4; p++) {
            rollnet_peer_stats ps;
            if (p != i) {
                assert_int_equal(rollnet_session_peer_stats(f.s[i], p, &ps), ROLLNET_ERR_OK);
                assert_int_equal(ps.dropped_malformed, 0); /* no INTRO was out of place */
            }
        }
    }
    fx_free(&f);
}

/* An INTRO from a peer this side did not dial (node 2 dialled node 1) is
 * ignored and counted; the mesh runs on and the ledgers agree. */
static void test_a_forged_intro_from_a_peer_we_did_not_dial_is_ignored(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 3;
    o.seed = 67;
    o.write_records = true;
    o.via_host = true;
    for (int i = 0; i < 3; i++) {
        o.sim[i] = plain_link();
    }
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    rollnet_peer_stats before;
    assert_int_equal(rollnet_session_peer_stats(f.s[1], 2, &before), ROLLNET_ERR_OK);
    /* Node 2, with its own tag, names player 0 at its own address. */
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INTRO;
    m.u.intro.tag = rn_nonce_tag(0x1000u + 2);
    m.u.intro.player_mask = 1u << 0;
    m.u.intro.address = "mem:2";
    m.u.intro.address_len = 5;
    uint8_t buf[RN_MAX_MESSAGE];
    size_t len = rn_encode(&m, 1, buf, sizeof(buf));
    assert_true(len > 0);
    rollnet_transport t2 = rollnet_memnet_transport(f.net, 2);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(t2.vtable->send(t2.self, 1, ROLLNET_CHANNEL_RELIABLE, buf, len,
                                         harness_clock_now(&f.clock)),
                         ROLLNET_ERR_OK);
    }
    fx_run(&f, 1500);
    rollnet_peer_stats after;
    assert_int_equal(rollnet_session_peer_stats(f.s[1], 2, &after), ROLLNET_ERR_OK);
    assert_int_equal(after.dropped_malformed - before.dropped_malformed, 3);
    assert_true(after.synchronized);
    assert_true(fx_all_running(&f));
    fx_assert_ledgers_agree(&f, 1500);
    fx_free(&f);
}

/* An INTRO from a peer this side dialled that is not its host (node 3
 * dialled node 1 after the host introduced them) is ignored and counted:
 * only the host this side asked introduces. Node 2 is cut off, so player 2
 * is still open at node 3 when node 1 names it at node 1's own address; a
 * joiner that trusted it would dial there in place of player 2. */
static void test_an_intro_from_a_joiner_we_dialled_is_ignored(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 4;
    o.seed = 69;
    o.write_records = true;
    o.via_host = true;
    for (int i = 0; i < 4; i++) {
        o.sim[i] = plain_link();
    }
    static fx f;
    fx_init(&f, &o);
    rollnet_memnet_set_cut(f.net, 2, true);
    fx_run(&f, 300);
    rollnet_peer_stats before;
    assert_int_equal(rollnet_session_peer_stats(f.s[3], 1, &before), ROLLNET_ERR_OK);
    assert_true(before.synchronized); /* node 3 dialled node 1 and handshook */
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INTRO;
    m.u.intro.tag = rn_nonce_tag(0x1000u + 1);
    m.u.intro.player_mask = 1u << 2;
    m.u.intro.address = "mem:1";
    m.u.intro.address_len = 5;
    uint8_t buf[RN_MAX_MESSAGE];
    size_t len = rn_encode(&m, 1, buf, sizeof(buf));
    assert_true(len > 0);
    rollnet_transport t1 = rollnet_memnet_transport(f.net, 1);
    assert_int_equal(t1.vtable->send(t1.self, 3, ROLLNET_CHANNEL_RELIABLE, buf, len,
                                     harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    fx_run(&f, 5);
    rollnet_peer_stats after;
    assert_int_equal(rollnet_session_peer_stats(f.s[3], 1, &after), ROLLNET_ERR_OK);
    assert_int_equal(after.dropped_malformed - before.dropped_malformed, 1);
    /* Node 2 comes back: the host introduces it, and the mesh runs. */
    rollnet_memnet_set_cut(f.net, 2, false);
    fx_run(&f, 2500);
    assert_true(fx_all_running(&f));
    fx_assert_ledgers_agree(&f, 1500);
    assert_full_mesh(&f, 1000);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_players_know_only_the_host),
        cmocka_unit_test(test_four_players_know_only_the_host),
        cmocka_unit_test(test_three_players_via_the_host_over_lossy_links),
        cmocka_unit_test(test_four_players_via_the_host_over_lossy_links),
        cmocka_unit_test(test_introduced_joiners_prove_the_key_to_each_other),
        cmocka_unit_test(test_only_joiners_that_lack_each_others_address_are_introduced),
        cmocka_unit_test(test_a_forged_intro_from_a_peer_we_did_not_dial_is_ignored),
        cmocka_unit_test(test_an_intro_from_a_joiner_we_dialled_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
