/* Rejoin and absent_play NEUTRAL with three or more players: the survivors
 * agree on the crashed peer's last frame (ABSENT notes, p2p_absent.c)
 * before playing on without it or giving its state to the new process.
 * In the fixture node i dials every node j > i. */
#include "rejoin_util.h"

static void mesh_opts(fx_opts *o, uint64_t seed, int n)
{
    base_opts(o, seed);
    o->num_players = n;
    for (int i = 0; i < n; i++) {
        o->sim[i].delay_ms = 20 + 10 * i;
    }
}

/* Every pair of nodes agrees on every frame both hold. */
static void all_agree(fx *f, int min_common)
{
    for (int i = 0; i < f->n; i++) {
        for (int j = i + 1; j < f->n; j++) {
            assert_true(agree_by_frame(f->rec[i], f->rec[j]) >= min_common);
        }
    }
}

/* A crash of node `who` in a mesh of `n`, restarted after `down` ticks:
 * every survivor raises REJOINED naming the same frame, and from there all
 * records agree. */
static void crash_and_rejoin(uint64_t seed, int n, int who, uint64_t down)
{
    fx_opts o;
    mesh_opts(&o, seed, n);
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, who, 400, down, 900);
    int32_t from = -1;
    for (int i = 0; i < n; i++) {
        if (i != who) {
            int32_t at = assert_rejoined(&f, i, who, 600);
            assert_true(from < 0 || at == from);
            from = at;
        }
    }
    all_agree(&f, 600);
    fx_free(&f);
}

static void test_three_players_the_middle_node_rejoins(void **state)
{
    (void)state;
    crash_and_rejoin(401, 3, 1, 6 * 60);
}

static void test_three_players_the_node_that_dials_everyone_rejoins(void **state)
{
    (void)state;
    crash_and_rejoin(402, 3, 0, 6 * 60);
}

static void test_three_players_the_node_everyone_dials_rejoins(void **state)
{
    (void)state;
    crash_and_rejoin(403, 3, 2, 6 * 60);
}

static void test_four_players_a_quick_restart_rejoins(void **state)
{
    (void)state;
    crash_and_rejoin(404, 4, 2, 60); /* back before the loss is noticed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_players_the_middle_node_rejoins),
        cmocka_unit_test(test_three_players_the_node_that_dials_everyone_rejoins),
        cmocka_unit_test(test_three_players_the_node_everyone_dials_rejoins),
        cmocka_unit_test(test_four_players_a_quick_restart_rejoins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
