/* A local player's input delay (rollnet_session_set_input_delay) through the
 * public API, in sync-test sessions where every frame's input can be read
 * off its ADVANCE: a larger delay repeats the last scheduled input over the
 * frames it skips, a smaller one merges equal consecutive inputs one frame
 * at a time and never drops a changing one, a sync test keeps passing
 * (rollbacks, episodes) while delays change, and misuse is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rollnet/rollnet.h"
#include "testgame.h"

typedef struct run {
    rollnet_session *s;
    tg_game *game;
} run;

static void run_open(run *r, int players, int delay, int check_distance, int32_t max_steps)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = players;
    d.input_delay = delay;
    d.check_distance = check_distance;
    d.check_distance_rotate = true;
    memset(r, 0, sizeof(*r));
    assert_int_equal(rollnet_session_create(&d, &r->s), ROLLNET_ERR_OK);
    r->game = calloc(1, sizeof(*r->game));
    assert_non_null(r->game);
    assert_true(tg_init(r->game, 7, players, 1, 32, max_steps));
}

static void run_close(run *r)
{
    rollnet_session_destroy(r->s);
    free(r->game);
}

/* One frame with these inputs (one byte per player); *ran gets the inputs
 * the new frame's ADVANCE carried. */
static void frame(run *r, const uint8_t *in, uint8_t *ran)
{
    for (int p = 0; p < r->game->num_players; p++) {
        assert_int_equal(rollnet_session_add_local_input(r->s, p, &in[p], 1), ROLLNET_ERR_OK);
    }
    const rollnet_request *reqs;
    int n;
    assert_int_equal(rollnet_session_advance(r->s, &reqs, &n), ROLLNET_ERR_OK);
    bool found = false;
    for (int i = 0; i < n; i++) {
        if (reqs[i].type == ROLLNET_REQUEST_ADVANCE && !(reqs[i].flags & ROLLNET_REQUEST_REPLAY)) {
            memcpy(ran, reqs[i].inputs, (size_t)r->game->num_players);
            found = true;
        }
    }
    assert_true(found);
    assert_int_equal(tg_execute(r->game, r->s, reqs, n), ROLLNET_ERR_OK);
}

static void delay_is(rollnet_session *s, int player, int current, int requested)
{
    int c = -1, q = -1;
    assert_int_equal(rollnet_session_get_input_delay(s, player, &c, &q), ROLLNET_ERR_OK);
    assert_int_equal(c, current);
    assert_int_equal(q, requested);
}

static void a_change_repeats_the_held_input_up_and_merges_equal_inputs_down(void **state)
{
    (void)state;
    run r;
    run_open(&r, 1, 0, 1, 0);
    delay_is(r.s, 0, 0, 0);
    /* Frame k's input is added while running frame k; the delay moves where
     * it lands. A row: the input added, then the change asked before it. */
    const struct {
        uint8_t in;
        int set; /* -1: none */
        int current_after;
    } steps[] = {
        {1, -1, 0}, {2, -1, 0},
        {3, 3, 3},  /* up by 3: frames 2, 3, 4 repeat 2; 3 lands on frame 5 */
        {4, -1, 3}, {5, -1, 3},
        {6, 1, 3},  /* down to 1: 6 differs from 5, so it cannot merge */
        {6, -1, 2}, /* equal to the input before it: merged, one frame less */
        {6, -1, 1}, /* again: the target is reached */
        {7, -1, 1}, {8, -1, 1},
        {8, 0, 0},  /* standing still: down to 0 at once */
        {9, -1, 0}, {10, -1, 0},
    };
    const uint8_t want[] = {1, 2, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const int n = (int)(sizeof(steps) / sizeof(steps[0]));
    uint8_t ran[sizeof(want)];
    for (int k = 0; k < n; k++) {
        if (steps[k].set >= 0) {
            assert_int_equal(rollnet_session_set_input_delay(r.s, 0, steps[k].set),
                             ROLLNET_ERR_OK);
        }
        frame(&r, &steps[k].in, &ran[k]);
        int c;
        assert_int_equal(rollnet_session_get_input_delay(r.s, 0, &c, NULL), ROLLNET_ERR_OK);
        assert_int_equal(c, steps[k].current_after);
    }
    assert_memory_equal(ran, want, sizeof(want));
    run_close(&r);
}

static void a_decrease_waits_while_the_input_keeps_changing(void **state)
{
    (void)state;
    run r;
    run_open(&r, 1, 4, 1, 0);
    assert_int_equal(rollnet_session_set_input_delay(r.s, 0, 0), ROLLNET_ERR_OK);
    uint8_t ran[64];
    int k = 0;
    /* Frames 0..3 are the neutral prefix; a neutral first input merges with it. */
    uint8_t zero = 0;
    frame(&r, &zero, &ran[k++]);
    delay_is(r.s, 0, 3, 0);
    /* A changing input: every one lands, three frames later. */
    for (uint8_t v = 1; v <= 20; v++) {
        frame(&r, &v, &ran[k++]);
        delay_is(r.s, 0, 3, 0);
    }
    /* Standing still: one frame per input until the target. */
    uint8_t held = 20;
    for (int i = 0; i < 3; i++) {
        frame(&r, &held, &ran[k++]);
    }
    delay_is(r.s, 0, 0, 0);
    uint8_t next = 21;
    frame(&r, &next, &ran[k++]);
    assert_int_equal(ran[k - 1], 21); /* no delay left: at once */
    /* Frames 0..3 neutral, then every value 1..20 in order, once each, then 21. */
    for (int f = 0; f < 4; f++) {
        assert_int_equal(ran[f], 0);
    }
    for (int v = 1; v <= 20; v++) {
        assert_int_equal(ran[3 + v], v);
    }
    run_close(&r);
}

/* Players of one session may run with different delays. */
static void local_players_keep_their_own_delays(void **state)
{
    (void)state;
    run r;
    run_open(&r, 2, 0, 1, 0);
    assert_int_equal(rollnet_session_set_input_delay(r.s, 1, 2), ROLLNET_ERR_OK);
    uint8_t ran[8][2];
    for (uint8_t k = 0; k < 8; k++) {
        uint8_t in[2] = {(uint8_t)(10 + k), (uint8_t)(20 + k)};
        frame(&r, in, ran[k]);
    }
    for (int k = 0; k < 8; k++) {
        assert_int_equal(ran[k][0], 10 + k);
        assert_int_equal(ran[k][1], k < 2 ? 0 : 20 + k - 2);
    }
    delay_is(r.s, 0, 0, 0);
    delay_is(r.s, 1, 2, 2);
    run_close(&r);
}

/* A sync test rolls back every frame and checks each replay: it keeps
 * passing across episodes while both players' delays go up and down. */
static void a_sync_test_keeps_passing_while_delays_change(void **state)
{
    (void)state;
    run r;
    run_open(&r, 2, 2, 6, 25);
    tg_bot bots[2];
    tg_bot_init(&bots[0], 11, 1);
    tg_bot_init(&bots[1], 12, 1);
    uint64_t rng = 99;
    int changes = 0;
    for (int f = 0; f < 600; f++) {
        if (f % 13 == 0) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            int p = (int)((rng >> 33) & 1);
            int to = (int)((rng >> 40) % 9);
            assert_int_equal(rollnet_session_set_input_delay(r.s, p, to), ROLLNET_ERR_OK);
            changes++;
        }
        uint8_t in[2], ran[2];
        for (int p = 0; p < 2; p++) {
            /* Held for a few frames at a time, so decreases can happen. */
            in[p] = (f / 3) % 4 == 0 ? 0 : *tg_bot_next(&bots[p]);
        }
        frame(&r, in, ran);
    }
    rollnet_session_stats st;
    assert_int_equal(rollnet_session_stats_get(r.s, &st), ROLLNET_ERR_OK);
    assert_true(st.running);
    assert_int_equal(st.frame, 600);
    assert_true(st.rollbacks > 500);
    assert_true(st.episode >= 20);
    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(r.s, &info), ROLLNET_ERR_NO_DESYNC);
    assert_int_equal(r.game->frame_mismatches, 0);
    /* Records come in frame order with their episode counters. */
    rollnet_record rec;
    int32_t next = 0;
    while (rollnet_session_next_record(r.s, &rec)) {
        assert_int_equal(rec.frame, next);
        assert_int_equal(rec.episode, next / 25);
        assert_int_equal(rec.step, next % 25);
        next++;
    }
    assert_true(next > 500);
    assert_true(changes > 40);
    run_close(&r);
}

static void misuse_is_refused(void **state)
{
    (void)state;
    run r;
    run_open(&r, 2, 0, 1, 0);
    assert_int_equal(rollnet_session_set_input_delay(NULL, 0, 1), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_session_set_input_delay(r.s, -1, 1), ROLLNET_ERR_INVALID_PLAYER);
    assert_int_equal(rollnet_session_set_input_delay(r.s, 2, 1), ROLLNET_ERR_INVALID_PLAYER);
    assert_int_equal(rollnet_session_set_input_delay(r.s, 0, -1), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_session_set_input_delay(r.s, 0, ROLLNET_MAX_INPUT_DELAY + 1),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_session_set_input_delay(r.s, 0, ROLLNET_MAX_INPUT_DELAY),
                     ROLLNET_ERR_OK);
    delay_is(r.s, 0, 0, ROLLNET_MAX_INPUT_DELAY);
    int c = 5, q = 5;
    assert_int_equal(rollnet_session_get_input_delay(NULL, 0, &c, &q), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(c, 0);
    assert_int_equal(q, 0);
    assert_int_equal(rollnet_session_get_input_delay(r.s, 0, NULL, NULL), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_get_input_delay(r.s, 3, &c, &q), ROLLNET_ERR_INVALID_PLAYER);
    run_close(&r);

    /* P2P: a remote player's delay is its own peer's choice. */
    rollnet_memnet *net = rollnet_memnet_create(2, NULL);
    assert_non_null(net);
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.num_players = 2;
    d.input_delay = 3;
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.transport = rollnet_memnet_transport(net, 0);
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_set_input_delay(s, 1, 2), ROLLNET_ERR_INVALID_PLAYER);
    assert_int_equal(rollnet_session_get_input_delay(s, 1, &c, &q), ROLLNET_ERR_INVALID_PLAYER);
    delay_is(s, 0, 3, 3);
    assert_int_equal(rollnet_session_set_input_delay(s, 0, 1), ROLLNET_ERR_OK);
    delay_is(s, 0, 3, 1);
    rollnet_session_destroy(s);
    rollnet_memnet_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_change_repeats_the_held_input_up_and_merges_equal_inputs_down),
        cmocka_unit_test(a_decrease_waits_while_the_input_keeps_changing),
        cmocka_unit_test(local_players_keep_their_own_delays),
        cmocka_unit_test(a_sync_test_keeps_passing_while_delays_change),
        cmocka_unit_test(misuse_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
