/* Rejoin: known open problems, one test each, registered as an expected
 * failure (tests/integration/meson.build): when a fix makes this program
 * pass, move its test to test_p2p_rejoin_paths.c.
 *
 * A rejoiner that dials and loses its connection before its state arrives
 * (here: the survivor loads, so the state waits, and the network fails for
 * longer than disconnect_timeout_ms) reconnects with RESUME, but a process
 * started with desc.rejoin ignores RESUME until it runs
 * (rn_p2p_on_resume), and the state the survivor sent on the dead
 * connection is not sent again: the new process never runs and gives up
 * after reconnect_timeout_ms. The rejoiner that listens recovers (the
 * survivor dials again and the rejoin starts over). */
#include "rejoin_util.h"

static void test_a_host_whose_connection_fails_before_its_state_still_rejoins(void **state)
{
    (void)state;
    rejoin_cut_while_owed(546, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]); /* a test name or a pattern */
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_host_whose_connection_fails_before_its_state_still_rejoins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
