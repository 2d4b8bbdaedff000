/* Three and four players in a full mesh: every peer talks to every other,
 * all order players by handle, and all end with the same ledger and state. */
#include "p2p_fixture.h"

static void run_mesh(int n, uint32_t delay_ms, uint32_t loss_permille, uint64_t seed)
{
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = n;
    o.seed = seed;
    o.write_records = true;
    for (int i = 0; i < n; i++) {
        o.sim[i].delay_ms = delay_ms + 5u * (uint32_t)i; /* unequal links */
        o.sim[i].jitter_ms = 5;
        o.sim[i].loss_permille = loss_permille;
    }
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 2500);
    assert_true(fx_all_running(&f));
    fx_assert_ledgers_agree(&f, 2000);
    fx_assert_states_agree(&f);
    uint64_t rb = 0;
    for (int i = 0; i < n; i++) {
        rollnet_session_stats st = fx_stats(&f, i);
        rb += st.rollbacks;
        assert_true(st.frame > 2000);
        /* Each peer knows every remote player's peer. */
        for (int p = 0; p < n; p++) {
            rollnet_peer_stats ps;
            rollnet_error want = p == i ? ROLLNET_ERR_INVALID_PLAYER : ROLLNET_ERR_OK;
            assert_int_equal(rollnet_session_peer_stats(f.s[i], p, &ps), want);
            if (p != i) {
                assert_true(ps.synchronized);
                assert_true(ps.messages_received > 1000);
            }
        }
    }
    assert_true(rb > 0);
    fx_free(&f);
}

static void test_three_players_mesh(void **state)
{
    (void)state;
    run_mesh(3, 30, 0, 41);
}

static void test_four_players_mesh(void **state)
{
    (void)state;
    run_mesh(4, 30, 0, 42);
}

static void test_four_players_mesh_with_loss(void **state)
{
    (void)state;
    run_mesh(4, 40, 50, 43);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_players_mesh),
        cmocka_unit_test(test_four_players_mesh),
        cmocka_unit_test(test_four_players_mesh_with_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
