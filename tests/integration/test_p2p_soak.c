/* Soak: two and three peers over links whose conditions change every few
 * seconds (delay, jitter, loss, duplication, reordering, short cuts), many
 * episodes, fixed seeds. Every peer must end with the same confirmed
 * ledger, no desync, no disconnect, and memory fixed at creation. */
#include "p2p_fixture.h"

static uint64_t soak_rng;

static uint32_t pick(uint32_t n)
{
    soak_rng ^= soak_rng << 13;
    soak_rng ^= soak_rng >> 7;
    soak_rng ^= soak_rng << 17;
    return (uint32_t)(soak_rng % n);
}

static void soak(int players, uint64_t seed, int phases)
{
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = players;
    o.seed = seed;
    o.write_records = true;
    o.max_steps = 600;
    o.disconnect_timeout_ms = 8000;
    static fx f;
    fx_init(&f, &o);
    f.catch_up = true;
    soak_rng = seed * 0x9E3779B97F4A7C15ull + 1;
    /* The memnet's reliable channel is only as reliable as the link: the
     * handshake happens on a calm link, the chaos after. */
    for (int t = 0; t < 120 && !fx_all_running(&f); t++) {
        fx_run(&f, 1);
    }
    assert_true(fx_all_running(&f));
    for (int phase = 0; phase < phases; phase++) {
        for (int i = 0; i < players; i++) {
            rollnet_netsim_desc d = {
                .delay_ms = pick(120),
                .jitter_ms = pick(40),
                .loss_permille = pick(4) == 0 ? 150 + pick(150) : pick(60),
                .dup_permille = pick(30),
                .reorder_permille = pick(50),
            };
            assert_int_equal(rollnet_netsim_set(&f.sim[i], &d), ROLLNET_ERR_OK);
        }
        bool cut = pick(5) == 0;
        int node = (int)pick((uint32_t)players);
        if (cut) {
            rollnet_memnet_set_cut(f.net, node, true);
        }
        fx_run(&f, cut ? 60 + pick(60) : 180 + pick(240));
        if (cut) {
            rollnet_memnet_set_cut(f.net, node, false);
            fx_run(&f, 120);
        }
    }
    /* Calm link at the end so everything gets confirmed. */
    rollnet_netsim_desc calm = {.delay_ms = 20};
    for (int i = 0; i < players; i++) {
        rollnet_netsim_set(&f.sim[i], &calm);
    }
    fx_run(&f, 300);
    int rows = fx_assert_ledgers_agree(&f, phases * 150);
    fx_assert_states_agree(&f);
    int episodes = fx_assert_episodes_agree(&f, 600);
    uint64_t rollbacks = 0;
    for (int i = 0; i < players; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DESYNC], 0);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
        rollbacks += fx_stats(&f, i).rollbacks;
    }
    assert_true(rollbacks > 100);
    fprintf(stderr, "soak %dp seed %llu: %d identical rows, %d episodes, %llu rollbacks\n", players,
            (unsigned long long)seed, rows, episodes, (unsigned long long)rollbacks);
    fx_free(&f);
}

static void test_soak_two_peers(void **state)
{
    (void)state;
    for (uint64_t seed = 901; seed <= 904; seed++) {
        soak(2, seed, 60);
    }
}

static void test_soak_three_peers(void **state)
{
    (void)state;
    soak(3, 911, 40);
    soak(3, 912, 40);
}

static void test_soak_four_peers(void **state)
{
    (void)state;
    soak(4, 921, 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_soak_two_peers),
        cmocka_unit_test(test_soak_three_peers),
        cmocka_unit_test(test_soak_four_peers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
