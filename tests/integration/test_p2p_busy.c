/* A peer whose game blocks while its network stays alive: its transport
 * reports it busy (ROLLNET_TRANSPORT_PEER_BUSY, here through
 * rollnet_memnet_send_busy, as the ENet transport's service thread sends it),
 * and the other side holds it on busy_timeout_ms instead of the silence
 * timeouts. Virtual clock. */
#include "p2p_fixture.h"

#define REPORT_EVERY_MS 250u

static void base_opts(fx_opts *o, uint64_t seed)
{
    memset(o, 0, sizeof(*o));
    o->num_players = 2;
    o->seed = seed;
    o->write_records = true;
    o->sim[0].delay_ms = 10;
    o->sim[1].delay_ms = 10;
}

/* Node `blocked` does not poll for `ms`; its transport reports it busy every
 * REPORT_EVERY_MS until `reports_ms` into the block (the network then dies
 * too). The other nodes run. */
static void block(fx *f, int blocked, uint64_t ms, uint64_t reports_ms)
{
    f->paused[blocked] = true;
    uint64_t start = harness_clock_now(&f->clock);
    uint64_t next_report = start + REPORT_EVERY_MS;
    while (harness_clock_now(&f->clock) < start + ms) {
        uint64_t now = harness_clock_now(&f->clock);
        if (now >= next_report && now - start <= reports_ms) {
            rollnet_memnet_send_busy(f->net, blocked, (uint32_t)(now - start));
            next_report += REPORT_EVERY_MS;
        }
        fx_run(f, 1);
    }
    f->paused[blocked] = false;
}

static void test_busy_peer_blocked_20s_is_kept_and_resumes(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 71);
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    block(&f, 1, 20000, 20000);
    /* Busy from the first report on, about once a second, never silent. */
    assert_true(f.hp[0].event_counts[ROLLNET_EVENT_PEER_BUSY] >= 15);
    assert_true(f.hp[0].event_counts[ROLLNET_EVENT_PEER_BUSY] <= 21);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_PEER_BUSY].player, 1);
    assert_true(f.hp[0].last_event[ROLLNET_EVENT_PEER_BUSY].u.busy.ms >= 18000);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_INTERRUPTED], 0);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_RESUMED], 0);
    fx_run(&f, 600);
    /* Its messages flow again: RESUMED once, nobody dropped on either side. */
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_RESUMED], 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_RESUMED].player, 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_PEER_BUSY], 0);
    fx_assert_ledgers_agree(&f, 600);
    fx_assert_states_agree(&f);
    /* The spell is over: silence is silence again, and past the disconnect
     * timeout a lost connection (reconnecting), not a busy peer. */
    block(&f, 1, 5300, 0);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_RECONNECTING], 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_RECONNECTING].player, 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    fx_free(&f);
}

static void test_busy_past_busy_timeout_disconnects(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 72);
    o.busy_timeout_ms = 10000;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    block(&f, 1, 9800, 9800);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    block(&f, 1, 400, 400);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    rollnet_event ev = f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED];
    assert_int_equal(ev.player, 1);
    assert_int_equal(ev.u.disconnected.reason, ROLLNET_DISCONNECT_BUSY_TIMEOUT);
    fx_free(&f);
}

/* Busy, then the network dies too: the silence rules apply from the last
 * report on (INTERRUPTED after notify_timeout_ms, a lost connection after
 * disconnect_timeout_ms), not from the last message before the block. */
static void test_busy_reports_stop_then_silence_counts_from_the_last(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 73);
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    block(&f, 1, 8000 + 700, 8000);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_INTERRUPTED], 0);
    block(&f, 1, 200, 0);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_INTERRUPTED], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    block(&f, 1, 4000, 0); /* 4.9 s after the last report */
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_RECONNECTING], 0);
    block(&f, 1, 200, 0);
    /* Past the disconnect timeout: a lost connection, reconnecting. */
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_RECONNECTING], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    fx_free(&f);
}

/* Reports about a connection that never claimed a player reach no game. */
static void test_busy_before_running_is_ignored(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 74);
    static fx f;
    fx_init(&f, &o);
    rollnet_memnet_send_busy(f.net, 1, 1000);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_PEER_BUSY], 0);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_peer_blocked_20s_is_kept_and_resumes),
        cmocka_unit_test(test_busy_past_busy_timeout_disconnects),
        cmocka_unit_test(test_busy_reports_stop_then_silence_counts_from_the_last),
        cmocka_unit_test(test_busy_before_running_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
