/* absent_play NEUTRAL with three or more players: once a peer's connection
 * is lost, the survivors agree on its last frame (ABSENT notes,
 * p2p_absent.c) and all play on with its players neutral from the frame
 * after, every such frame flagged alike everywhere; it comes back only by
 * rejoining, after the neutral frames. In the fixture node i dials every
 * node j > i. */
#include "mesh_util.h"

/* The survivors' records agree on which frames were played without `lost`:
 * one run, flagged for its bit alone, its input neutral, ending where the
 * rejoin began (`from`); *first gets the run's first frame. */
static void assert_played_on(fx *f, int lost, int32_t from, int32_t *first)
{
    int32_t run_first = -1;
    for (int i = 0; i < f->n; i++) {
        if (i == lost) {
            continue;
        }
        int32_t a, b;
        int flagged = mesh_flagged(f->rec[i], lost, &a, &b);
        assert_true(flagged > 0);
        assert_int_equal(b, from); /* no frame flagged after the rejoin */
        assert_int_equal(flagged, b - a);
        if (run_first >= 0 && a != run_first) {
            fail_msg("node %d played on from frame %d, another node from %d", i, a, run_first);
        }
        run_first = a;
        /* The log names the same first frame. */
        assert_int_equal(mesh_seen[i].neutral_from[lost], a);
    }
    /* The rejoined process's records: nothing flagged. */
    int32_t a, b;
    assert_int_equal(mesh_flagged(f->rec[lost], lost, &a, &b), 0);
    *first = run_first;
}

/* The crashed node's records before its crash, cut at `frame`: at most
 * max_prediction + input delay + 1 of them lie past it (its own inputs it
 * confirmed frames with, sent, and lost with its process). */
static void trim_before(fx *f, int who, int32_t frame)
{
    fx_records *before = f->rec_before[who];
    int keep = 0;
    while (keep < before->count && before->frame[keep] < frame) {
        keep++;
    }
    assert_true(before->count - keep <= ROLLNET_MAX_PREDICTION + f->opts.input_delay + 1);
    before->count = keep;
}

/* Node `who` crashes in a mesh of `n` (with `starved`, not -1: its inputs
 * stopped reaching that node a few frames before); the survivors play on
 * for 10 s after noticing, all of them, and it comes back by rejoining. */
static void play_on_and_rejoin(uint64_t seed, int n, int who, int starved)
{
    fx_opts o;
    mesh_opts(&o, seed, n);
    o.absent_play = ROLLNET_ABSENT_NEUTRAL;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    int32_t crashed_at = fx_stats(&f, (who + 1) % n).frame;
    if (starved >= 0) {
        starve_then_crash(&f, who, starved, 6);
    } else {
        fx_crash(&f, who);
    }
    fx_run(&f, 15 * 60); /* 5 s to notice the loss, then 10 s played on */
    int32_t held = -2;
    for (int i = 0; i < n; i++) {
        if (i != who) {
            assert_true(fx_stats(&f, i).frame > crashed_at + 500); /* every survivor plays on */
            assert_true(mesh_seen[i].note_last[who] >= 0);
            held = mesh_seen[i].note_last[who] > held ? mesh_seen[i].note_last[who] : held;
        }
    }
    if (starved >= 0) {
        assert_true(mesh_seen[starved].note_last[who] < held); /* it held fewer */
    }
    fx_restart(&f, who);
    fx_run(&f, 900);
    int32_t from = f.hp[(who + 1) % n].last_event[ROLLNET_EVENT_REJOINED].u.rejoin.frame;
    int32_t first = -1;
    assert_played_on(&f, who, from, &first);
    /* The crashed process confirmed a few frames past `first` with inputs of
     * its own that died with it: the survivors played them neutral. */
    trim_before(&f, who, first);
    assert_int_equal(all_rejoined(&f, who, 600), from);
    assert_int_equal(first, held + 1); /* neutral from the frame after the highest note */
    assert_true(from > crashed_at + 500);
    all_agree(&f, 600);
    int ref = who == 0 ? 1 : 0; /* the survivors agree through the played-on frames too */
    for (int i = 0; i < n; i++) {
        if (i != who && i != ref) {
            assert_true(agree_by_frame(f.rec[ref], f.rec[i]) > from);
        }
    }
    fx_free(&f);
}

static void test_three_players_play_on_without_a_crashed_peer_and_it_rejoins(void **state)
{
    (void)state;
    play_on_and_rejoin(501, 3, 1, -1);
    play_on_and_rejoin(502, 3, 0, -1);
    play_on_and_rejoin(503, 3, 2, -1);
}

static void test_four_players_play_on_without_a_crashed_peer_and_it_rejoins(void **state)
{
    (void)state;
    play_on_and_rejoin(511, 4, 2, -1);
    play_on_and_rejoin(512, 4, 3, -1);
}

/* Node 2 holds fewer of player 1's inputs than node 0: both play on from
 * the frame after node 0's, node 2 with the inputs node 0's note carried. */
static void test_survivors_holding_different_inputs_play_on_from_the_same_frame(void **state)
{
    (void)state;
    play_on_and_rejoin(521, 3, 1, 2);
    play_on_and_rejoin(522, 4, 1, 3);
}

/* Node `cut` is cut off from both others, all three alive: the two that
 * still hear each other agree and play on without it; it agrees with
 * nobody and waits at the prediction window, nothing flagged. When the
 * network is back its resume is answered PLAYED_ON: DISCONNECTED (reason
 * PLAYED_ON), its session stops; created again with rejoin it comes back
 * after the neutral frames, and all agree. */
static void cut_off_then_rejoin(uint64_t seed, int cut)
{
    fx_opts o;
    mesh_opts(&o, seed, 3);
    o.absent_play = ROLLNET_ABSENT_NEUTRAL;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    int32_t cut_at = fx_stats(&f, cut).frame;
    rollnet_memnet_set_cut(f.net, cut, true);
    rollnet_error stopped[FX_MAX] = {ROLLNET_ERR_OK};
    run_tolerating_stops(&f, 9 * 60, stopped);
    int32_t frame[FX_MAX];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(stopped[i], ROLLNET_ERR_OK);
        frame[i] = fx_stats(&f, i).frame;
    }
    run_tolerating_stops(&f, 60, stopped);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(stopped[i], ROLLNET_ERR_OK);
        if (i == cut) {
            assert_int_equal(fx_stats(&f, i).frame, frame[i]); /* it waits */
            assert_true(frame[i] <= cut_at + ROLLNET_MAX_PREDICTION + 1);
        } else {
            assert_true(fx_stats(&f, i).frame > frame[i] + 40); /* they play on */
        }
    }
    int32_t a, b;
    assert_int_equal(mesh_flagged(f.rec[cut], cut, &a, &b), 0);
    assert_int_equal(mesh_seen[cut].neutral_from[(cut + 1) % 3], -1);
    assert_int_equal(mesh_seen[cut].neutral_from[(cut + 2) % 3], -1);
    rollnet_memnet_set_cut(f.net, cut, false);
    for (int t = 0; t < 10 * 60 && stopped[cut] == ROLLNET_ERR_OK; t++) {
        run_tolerating_stops(&f, 1, stopped);
    }
    for (int i = 0; i < 3; i++) {
        if (i == cut) {
            assert_int_equal(stopped[i], ROLLNET_ERR_DISCONNECTED);
            assert_true(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED] >= 1);
            assert_int_equal(f.hp[i].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                             ROLLNET_DISCONNECT_PLAYED_ON);
        } else {
            assert_int_equal(stopped[i], ROLLNET_ERR_OK);
            assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
        }
    }
    fx_crash(&f, cut); /* the game creates its session again, with rejoin */
    fx_restart(&f, cut);
    fx_run(&f, 900);
    int32_t from = f.hp[(cut + 1) % 3].last_event[ROLLNET_EVENT_REJOINED].u.rejoin.frame;
    int32_t first = -1;
    assert_played_on(&f, cut, from, &first);
    assert_true(first <= cut_at + ROLLNET_MAX_PREDICTION + 1);
    trim_before(&f, cut, first);
    assert_int_equal(all_rejoined(&f, cut, 600), from);
    all_agree(&f, 600);
    fx_free(&f);
}

/* Node 0 dials both others: its resumes are the ones answered. */
static void test_a_survivor_cut_off_from_everyone_waits_and_comes_back_by_rejoining(void **state)
{
    (void)state;
    cut_off_then_rejoin(532, 0);
}

/* The same with the cut-off node dialled by a survivor (node 1: node 0
 * dials it; node 2: both dial it). Its peers were silent when it lost them,
 * so it sent no note and promised nothing: it does not answer the
 * survivors' RESUMEs with PLAYED_ON (it once did, and stopped the
 * survivors that had played on). */
static void test_a_cut_off_survivor_that_others_dial_waits_and_comes_back_by_rejoining(void **state)
{
    (void)state;
    cut_off_then_rejoin(531, 1);
    cut_off_then_rejoin(533, 2);
}

/* NEUTRAL, a partial partition: only the link between nodes 0 and 2 is cut,
 * both ways; node 1 hears both. Nodes 0 and 2 each lose the other and send
 * a note, but node 1 has lost nobody and sends none: nobody agrees, so
 * nobody plays on with anyone neutral; all wait at the prediction window.
 * When the link is back node 0 (it dials node 2) resumes, and node 2, which
 * sent a note (another survivor could have been playing on with it), answers
 * PLAYED_ON: node 0 stops, although no frame was played neutral. Created
 * again with rejoin it comes back; the two others may play it neutral
 * meanwhile (they lost it when it stopped), alike, only after the frames of
 * the partition, up to the rejoin. All agree. */
static void test_a_partial_partition_plays_nobody_neutral(void **state)
{
    (void)state;
    fx_opts o;
    mesh_opts(&o, 541, 3);
    o.absent_play = ROLLNET_ABSENT_NEUTRAL;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    uint32_t all = (1u << ROLLNET_CHANNEL_UNRELIABLE) | (1u << ROLLNET_CHANNEL_RELIABLE);
    rollnet_memnet_set_link_cut(f.net, 0, 2, all);
    rollnet_memnet_set_link_cut(f.net, 2, 0, all);
    rollnet_error stopped[FX_MAX] = {ROLLNET_ERR_OK};
    run_tolerating_stops(&f, 12 * 60, stopped); /* past the 5 s to notice a loss */
    int32_t frame[FX_MAX], newest = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(stopped[i], ROLLNET_ERR_OK);
        frame[i] = fx_stats(&f, i).frame;
        newest = frame[i] > newest ? frame[i] : newest;
    }
    run_tolerating_stops(&f, 60, stopped);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(stopped[i], ROLLNET_ERR_OK);
        assert_int_equal(fx_stats(&f, i).frame, frame[i]); /* all wait */
        assert_true(frame[i] <= 400 + ROLLNET_MAX_PREDICTION + 1);
        for (int p = 0; p < 3; p++) {
            assert_int_equal(mesh_seen[i].neutral_from[p], -1);
        }
        int32_t a, b;
        assert_int_equal(mesh_flagged(f.rec[i], 0, &a, &b), 0);
    }
    assert_true(mesh_seen[0].note_last[2] >= 0 && mesh_seen[2].note_last[0] >= 0);
    assert_int_equal(mesh_seen[1].notes, 0);
    rollnet_memnet_set_link_cut(f.net, 0, 2, 0);
    rollnet_memnet_set_link_cut(f.net, 2, 0, 0);
    for (int t = 0; t < 10 * 60 && stopped[0] == ROLLNET_ERR_OK; t++) {
        run_tolerating_stops(&f, 1, stopped);
    }
    assert_int_equal(stopped[0], ROLLNET_ERR_DISCONNECTED);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_PLAYED_ON);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].player, 2);
    for (int i = 1; i < 3; i++) {
        assert_int_equal(stopped[i], ROLLNET_ERR_OK);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    }
    fx_crash(&f, 0);
    fx_restart(&f, 0);
    fx_run(&f, 900);
    int32_t from = all_rejoined(&f, 0, 600);
    int32_t a1, b1, a2, b2;
    int n1 = mesh_flagged(f.rec[1], 0, &a1, &b1), n2 = mesh_flagged(f.rec[2], 0, &a2, &b2);
    assert_int_equal(n1, n2);
    if (n1 > 0) {
        assert_int_equal(a1, a2);
        assert_true(a1 >= newest - ROLLNET_MAX_PREDICTION - 1); /* not during the partition */
        assert_int_equal(b1, from);
    }
    assert_int_equal(mesh_flagged(f.rec[0], 0, &a1, &b1), 0);
    all_agree(&f, 600);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_players_play_on_without_a_crashed_peer_and_it_rejoins),
        cmocka_unit_test(test_four_players_play_on_without_a_crashed_peer_and_it_rejoins),
        cmocka_unit_test(test_survivors_holding_different_inputs_play_on_from_the_same_frame),
        cmocka_unit_test(test_a_survivor_cut_off_from_everyone_waits_and_comes_back_by_rejoining),
        cmocka_unit_test(test_a_partial_partition_plays_nobody_neutral),
        cmocka_unit_test(test_a_cut_off_survivor_that_others_dial_waits_and_comes_back_by_rejoining),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
