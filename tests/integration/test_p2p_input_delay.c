/* Per-peer input delay over the memnet: peers with different delays agree on
 * every confirmed frame, each player's inputs landing at its own delay; and
 * delays changed up and down while running, under loss and latency, cost no
 * stall and no input (every distinct input a player produced appears, in
 * order, in every peer's confirmed inputs), across episodes and rollbacks, with
 * two peers and in a mesh of three. */
#include "p2p_fixture.h"

#define MAX_PRODUCED 8000

/* The inputs one player produced, frame by frame: a value held for 1..6
 * frames, then the next (never 0, the neutral input, and never equal to the
 * one before). */
typedef struct produced {
    int count;
    int32_t frame[MAX_PRODUCED];
    uint8_t value[MAX_PRODUCED];
    uint64_t rng;
    uint8_t current;
    int hold;
    uint64_t stalls_not_barrier; /* STALLED events other than the episode barrier */
} produced;

static void produce(int player, int32_t frame, uint8_t *out, int input_size, void *user_data)
{
    (void)player;
    produced *p = user_data;
    if (p->hold == 0) {
        p->rng = p->rng * 6364136223846793005ull + 1442695040888963407ull;
        p->hold = 1 + (int)((p->rng >> 33) % 6);
        p->current = (uint8_t)(p->current % 255 + 1);
    }
    p->hold--;
    memset(out, 0, (size_t)input_size);
    out[0] = p->current;
    assert_true(p->count < MAX_PRODUCED);
    p->frame[p->count] = frame;
    p->value[p->count] = p->current;
    p->count++;
}

static void count_stalls(const rollnet_event *ev, void *user_data)
{
    produced *p = user_data;
    if (ev->type == ROLLNET_EVENT_STALLED && ev->u.stall.reason != ROLLNET_STALL_EPISODE_BARRIER) {
        p->stalls_not_barrier++;
    }
}

static void produce_on(fx *f, produced *prod)
{
    for (int i = 0; i < f->n; i++) {
        memset(&prod[i], 0, sizeof(prod[i]));
        prod[i].rng = 1000u + (uint64_t)i;
        f->hp[i].input_fn = produce;
        f->hp[i].input_user_data = &prod[i];
        f->hp[i].event_fn = count_stalls;
        f->hp[i].event_user_data = &prod[i];
    }
}

/* Player p's confirmed inputs on node `node`, with runs of equal values
 * collapsed and the neutral prefix dropped, are the distinct values it
 * produced, in order, with none missing: at least `min` of them. */
static void assert_no_input_lost(const fx *f, int node, int p, const produced *prod, int min)
{
    static uint8_t want[MAX_PRODUCED];
    int nwant = 0;
    for (int k = 0; k < prod->count; k++) {
        if (nwant == 0 || want[nwant - 1] != prod->value[k]) {
            want[nwant++] = prod->value[k];
        }
    }
    const fx_records *r = f->rec[node];
    int got = 0;
    uint8_t last = 0;
    for (int k = 0; k < r->count; k++) {
        uint8_t v = r->first_input_byte[k][p];
        if (v == last) {
            continue;
        }
        if (got >= nwant || v != want[got]) {
            fail_msg("node %d, player %d: confirmed frame %d holds %u, the player's input #%d "
                     "was %u", node, p, r->frame[k], v, got, got < nwant ? want[got] : 0);
        }
        got++;
        last = v;
    }
    if (got < min) {
        fail_msg("node %d, player %d: %d distinct inputs confirmed, wanted %d", node, p, got, min);
    }
}

static void peer_delay_is(fx *f, int node, int player, int want)
{
    rollnet_peer_stats ps;
    assert_int_equal(rollnet_session_peer_stats(f->s[node], player, &ps), ROLLNET_ERR_OK);
    assert_int_equal(ps.input_delay, want);
}

static void test_peers_with_different_delays_agree(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 2;
    o.seed = 41;
    o.write_records = true;
    o.node_delay[1] = 4;
    o.sim[0].delay_ms = 20;
    o.sim[1].delay_ms = 20;
    static fx f;
    static produced prod[2];
    fx_init(&f, &o);
    produce_on(&f, prod);
    fx_run(&f, 2000);
    assert_true(fx_all_running(&f));
    int rows = fx_assert_ledgers_agree(&f, 1900);
    fx_assert_states_agree(&f);
    /* Each player's input lands at its own peer's delay: frame + 0 for
     * player 0, frame + 4 for player 1 (frames 0..3 neutral). */
    const int delay[2] = {0, 4};
    for (int p = 0; p < 2; p++) {
        for (int f2 = 0; f2 < delay[p]; f2++) {
            assert_int_equal(f.rec[0]->first_input_byte[f2][p], 0);
        }
        for (int k = 0; k < prod[p].count; k++) {
            int32_t at = prod[p].frame[k] + delay[p];
            if (at < rows) {
                assert_int_equal(f.rec[0]->frame[at], at);
                assert_int_equal(f.rec[0]->first_input_byte[at][p], prod[p].value[k]);
            }
        }
    }
    /* Each peer knows the other's delay, and time sync keeps them level
     * (it reads the remote's frame off its inputs with the remote's delay). */
    peer_delay_is(&f, 0, 1, 4);
    peer_delay_is(&f, 1, 0, 0);
    rollnet_session_stats a = fx_stats(&f, 0), b = fx_stats(&f, 1);
    assert_true(abs(a.frame - b.frame) <= 2);
    for (int i = 0; i < 2; i++) {
        rollnet_peer_stats ps;
        assert_int_equal(rollnet_session_peer_stats(f.s[i], 1 - i, &ps), ROLLNET_ERR_OK);
        assert_true(abs(ps.local_frames_ahead) <= 2);
        assert_int_equal(prod[i].stalls_not_barrier, 0);
    }
    /* The player with the larger delay is never predicted wrong. */
    assert_int_equal(a.rollbacks, 0);
    fx_free(&f);
}

static void test_delays_change_under_loss_without_stall_or_lost_input(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 2;
    o.seed = 42;
    o.write_records = true;
    o.max_steps = 150; /* episodes: the barrier and the episode counters cross the changes */
    o.node_delay[1] = 3;
    for (int i = 0; i < 2; i++) {
        o.sim[i].delay_ms = 25;
        o.sim[i].jitter_ms = 8;
        o.sim[i].loss_permille = 50;
    }
    static fx f;
    static produced prod[2];
    fx_init(&f, &o);
    produce_on(&f, prod);
    const struct {
        uint64_t at;
        int node, delay;
    } changes[] = {
        {300, 0, 6}, {450, 1, 0}, {600, 0, 2}, {750, 1, 8}, {900, 0, 0},
        {1050, 1, 1}, {1200, 0, 7}, {1350, 0, 1}, {1500, 1, 5}, {1650, 0, 4},
    };
    uint64_t t = 0;
    for (size_t c = 0; c < sizeof(changes) / sizeof(changes[0]); c++) {
        fx_run(&f, changes[c].at - t);
        t = changes[c].at;
        int node = changes[c].node;
        assert_int_equal(rollnet_session_set_input_delay(f.s[node], node, changes[c].delay),
                         ROLLNET_ERR_OK);
    }
    fx_run(&f, 2400 - t);
    assert_true(fx_all_running(&f));
    int rows = fx_assert_ledgers_agree(&f, 2200);
    fx_assert_states_agree(&f);
    fx_assert_episodes_agree(&f, 150);
    /* Nothing stalled on the prediction window (episode barriers aside). */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(prod[i].stalls_not_barrier, 0);
    }
    /* Every distinct input of each player, in order, on both peers. */
    for (int node = 0; node < 2; node++) {
        for (int p = 0; p < 2; p++) {
            int min = 0;
            for (int k = 1; k < prod[p].count && prod[p].frame[k] < rows - 40; k++) {
                min += prod[p].value[k] != prod[p].value[k - 1];
            }
            assert_no_input_lost(&f, node, p, &prod[p], min);
        }
    }
    /* The last changes took effect, and the peers know. */
    int cur, req;
    assert_int_equal(rollnet_session_get_input_delay(f.s[0], 0, &cur, &req), ROLLNET_ERR_OK);
    assert_int_equal(req, 4);
    assert_int_equal(cur, 4);
    assert_int_equal(rollnet_session_get_input_delay(f.s[1], 1, &cur, &req), ROLLNET_ERR_OK);
    assert_int_equal(cur, 5);
    peer_delay_is(&f, 0, 1, 5);
    peer_delay_is(&f, 1, 0, 4);
    rollnet_session_stats a = fx_stats(&f, 0), b = fx_stats(&f, 1);
    assert_true(a.rollbacks + b.rollbacks > 0); /* loss and latency: predictions were wrong */
    assert_true(abs(a.frame - b.frame) <= 3);
    fx_free(&f);
}

/* Three peers in a mesh, each with its own delay, two of them changing it:
 * every peer confirms the same inputs, none lost. */
static void test_a_mesh_with_three_delays_agrees(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 3;
    o.seed = 43;
    o.write_records = true;
    o.node_delay[1] = 2;
    o.node_delay[2] = 5;
    for (int i = 0; i < 3; i++) {
        o.sim[i].delay_ms = 15;
        o.sim[i].loss_permille = 30;
    }
    static fx f;
    static produced prod[3];
    fx_init(&f, &o);
    produce_on(&f, prod);
    fx_run(&f, 400);
    assert_int_equal(rollnet_session_set_input_delay(f.s[0], 0, 3), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_set_input_delay(f.s[2], 2, 1), ROLLNET_ERR_OK);
    fx_run(&f, 400);
    assert_int_equal(rollnet_session_set_input_delay(f.s[1], 1, 6), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_set_input_delay(f.s[0], 0, 0), ROLLNET_ERR_OK);
    fx_run(&f, 400);
    assert_true(fx_all_running(&f));
    int rows = fx_assert_ledgers_agree(&f, 1100);
    for (int node = 0; node < 3; node++) {
        assert_int_equal(prod[node].stalls_not_barrier, 0);
        for (int p = 0; p < 3; p++) {
            int min = 0;
            for (int k = 1; k < prod[p].count && prod[p].frame[k] < rows - 40; k++) {
                min += prod[p].value[k] != prod[p].value[k - 1];
            }
            assert_no_input_lost(&f, node, p, &prod[p], min);
        }
    }
    peer_delay_is(&f, 1, 0, 0);
    peer_delay_is(&f, 0, 1, 6);
    peer_delay_is(&f, 0, 2, 1);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peers_with_different_delays_agree),
        cmocka_unit_test(test_delays_change_under_loss_without_stall_or_lost_input),
        cmocka_unit_test(test_a_mesh_with_three_delays_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
