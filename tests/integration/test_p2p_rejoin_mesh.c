/* Rejoin and absent_play NEUTRAL with three or more players: the survivors
 * agree on the crashed peer's last frame (ABSENT notes, p2p_absent.c)
 * before playing on without it or giving its state to the new process.
 * In the fixture node i dials every node j > i. */
#include "mesh_util.h"

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
    all_rejoined(&f, who, 600);
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

/* Node 0 holds more of player 1's inputs than node 2 when node 1 crashes.
 * Each survivor's note names what it holds; both give the new process the
 * state of the frame after the higher of the two (node 0's inputs reach
 * node 2 in node 0's note), so both REJOINED name that frame, and every
 * ledger agrees, node 2's frames past what it held alone included. */
static void test_survivors_holding_different_inputs_rejoin_from_the_same_frame(void **state)
{
    (void)state;
    for (uint64_t seed = 411; seed <= 413; seed++) {
        fx_opts o;
        mesh_opts(&o, seed, 3);
        static fx f;
        fx_init(&f, &o);
        fx_run(&f, 400);
        starve_then_crash(&f, 1, 2, 6);
        fx_run(&f, 6 * 60);
        fx_restart(&f, 1);
        fx_run(&f, 900);
        int32_t held0 = mesh_seen[0].note_last[1], held2 = mesh_seen[2].note_last[1];
        assert_true(held2 >= 0);
        assert_true(held0 > held2); /* node 0 held more */
        int32_t from = all_rejoined(&f, 1, 600);
        assert_int_equal(from, held0 + 1);
        all_agree(&f, 600);
        fx_free(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_players_the_middle_node_rejoins),
        cmocka_unit_test(test_three_players_the_node_that_dials_everyone_rejoins),
        cmocka_unit_test(test_three_players_the_node_everyone_dials_rejoins),
        cmocka_unit_test(test_four_players_a_quick_restart_rejoins),
        cmocka_unit_test(test_survivors_holding_different_inputs_rejoin_from_the_same_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
