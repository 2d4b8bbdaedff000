/* Lost connections are not departures: a transport close or a silence the
 * peer did not announce is reconnected (node 0 dials node 1 again, node 1
 * waits), play resumes from the last confirmed frame and both ledgers
 * agree; only the end of reconnect_timeout_ms ends the peer. */
#include "p2p_fixture.h"
#include "protocol.h"

/* ------------------------------------------------------------------------ */
/* A decorator over a node's transport: forges a DISCONNECTED, or rebinds
 * (the peer's traffic arrives under a new transport id, as from a NAT that
 * changed the port; what is sent to the old id is lost).                   */
/* ------------------------------------------------------------------------ */

#define RB_ALIAS 40 /* the new id of a rebound peer */

typedef struct wrapper {
    rollnet_transport inner;
    int forge;          /* a peer to report DISCONNECTED once, -1 none */
    int rebound;        /* the peer whose traffic now comes under RB_ALIAS, -1 none */
    bool announced;     /* CONNECTED of the alias reported */
} wrapper;

static wrapper g_wrap[FX_MAX];

static int inner_id(wrapper *w, int peer)
{
    return w->rebound >= 0 && peer == RB_ALIAS ? w->rebound : peer;
}

static bool stale(const wrapper *w, int peer)
{
    return w->rebound >= 0 && peer == w->rebound; /* the old mapping is gone */
}

static rollnet_error w_connect(void *self, const char *address, uint64_t now, int *out)
{
    wrapper *w = self;
    return w->inner.vtable->connect(w->inner.self, address, now, out);
}

static rollnet_error w_send(void *self, int peer, rollnet_channel ch, const void *data,
                            size_t size, uint64_t now)
{
    wrapper *w = self;
    if (stale(w, peer)) {
        return ROLLNET_ERR_OK; /* lost on the way */
    }
    return w->inner.vtable->send(w->inner.self, inner_id(w, peer), ch, data, size, now);
}

static rollnet_error w_receive(void *self, uint64_t now, rollnet_transport_event *out)
{
    wrapper *w = self;
    if (w->forge >= 0) {
        memset(out, 0, sizeof(*out));
        out->type = ROLLNET_TRANSPORT_DISCONNECTED;
        out->peer = w->forge;
        w->forge = -1;
        return ROLLNET_ERR_OK;
    }
    if (w->rebound >= 0 && !w->announced) {
        memset(out, 0, sizeof(*out));
        out->type = ROLLNET_TRANSPORT_CONNECTED;
        out->peer = RB_ALIAS;
        w->announced = true;
        return ROLLNET_ERR_OK;
    }
    rollnet_error err = w->inner.vtable->receive(w->inner.self, now, out);
    if (err == ROLLNET_ERR_OK && out->type != ROLLNET_TRANSPORT_NONE && w->rebound >= 0 &&
        out->peer == w->rebound) {
        out->peer = RB_ALIAS;
        if (out->type == ROLLNET_TRANSPORT_CONNECTED) {
            w->announced = true;
        } else if (out->type == ROLLNET_TRANSPORT_DISCONNECTED) {
            w->announced = false; /* a later connection is announced by the inner transport */
        }
    }
    return err;
}

static void w_disconnect(void *self, int peer)
{
    wrapper *w = self;
    if (!stale(w, peer) && w->inner.vtable->disconnect) {
        w->inner.vtable->disconnect(w->inner.self, inner_id(w, peer));
    }
}

static void w_set_timeout(void *self, int peer, uint32_t ms)
{
    wrapper *w = self;
    if (w->inner.vtable->set_timeout) {
        w->inner.vtable->set_timeout(w->inner.self, inner_id(w, peer), ms);
    }
}

static rollnet_error w_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    wrapper *w = self;
    rollnet_error err = w->inner.vtable->peer_info(w->inner.self, inner_id(w, peer), out);
    if (err == ROLLNET_ERR_OK) {
        out->rtt_ms += 60000; /* a transport's wild figure: the session clamps it */
        out->rtt_variance_ms += 60000;
    }
    return err;
}

static void w_flush(void *self, uint64_t now)
{
    wrapper *w = self;
    if (w->inner.vtable->flush) {
        w->inner.vtable->flush(w->inner.self, now);
    }
}

static void w_destroy(void *self)
{
    wrapper *w = self;
    rollnet_transport_destroy(&w->inner);
}

static const rollnet_transport_vtable w_vtable = {
    .destroy = w_destroy,
    .connect = w_connect,
    .send = w_send,
    .receive = w_receive,
    .disconnect = w_disconnect,
    .set_timeout = w_set_timeout,
    .peer_info = w_peer_info,
    .flush = w_flush,
};

static void wrap(int node, rollnet_transport *t)
{
    wrapper *w = &g_wrap[node];
    memset(w, 0, sizeof(*w));
    w->inner = *t;
    w->forge = -1;
    w->rebound = -1;
    t->vtable = &w_vtable;
    t->self = w;
}

/* ------------------------------------------------------------------------ */

static void base_opts(fx_opts *o, uint64_t seed)
{
    memset(o, 0, sizeof(*o));
    o->num_players = 2;
    o->seed = seed;
    o->write_records = true;
    o->sim[0].delay_ms = 20;
    o->sim[1].delay_ms = 20;
}

/* Node 1's transport closes the connection (node 0 sees DISCONNECTED; node 1
 * learns when the new connection comes). */
static void close_link(fx *f)
{
    f->sim[1].vtable->disconnect(f->sim[1].self, 0);
}

static void assert_resumed(fx *f, int min_rows)
{
    for (int i = 0; i < f->n; i++) {
        assert_int_equal(f->hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
        assert_int_equal(f->hp[i].event_counts[ROLLNET_EVENT_DESYNC], 0);
        rollnet_peer_stats ps;
        assert_int_equal(rollnet_session_peer_stats(f->s[i], 1 - i, &ps), ROLLNET_ERR_OK);
        assert_false(ps.disconnected);
        assert_false(ps.interrupted);
        assert_true(ps.connected);
    }
    assert_true(f->hp[0].event_counts[ROLLNET_EVENT_RECONNECTING] >= 1);
    assert_true(f->hp[0].event_counts[ROLLNET_EVENT_RESUMED] >= 1);
    assert_true(f->hp[1].event_counts[ROLLNET_EVENT_RESUMED] >= 1);
    fx_assert_ledgers_agree(f, min_rows);
    fx_assert_states_agree(f);
}

static void run_close_at(uint64_t seed, uint64_t ticks_before, int32_t max_steps, bool loading,
                         uint32_t loss)
{
    fx_opts o;
    base_opts(&o, seed);
    o.max_steps = max_steps;
    o.sim[0].loss_permille = loss;
    o.sim[1].loss_permille = loss;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, ticks_before);
    if (loading) {
        assert_int_equal(rollnet_session_begin_loading(f.s[1], harness_clock_now(&f.clock)),
                         ROLLNET_ERR_OK);
    }
    int32_t frame = fx_stats(&f, 0).frame;
    close_link(&f);
    fx_run(&f, 300);
    if (loading) {
        assert_int_equal(rollnet_session_end_loading(f.s[1], harness_clock_now(&f.clock)),
                         ROLLNET_ERR_OK);
        assert_true(f.hp[0].event_counts[ROLLNET_EVENT_LOADING] >= 1);
    }
    fx_run(&f, 600);
    assert_true(fx_stats(&f, 0).frame > frame + 500); /* play went on */
    assert_resumed(&f, frame + 400);
    rollnet_peer_stats ps;
    rollnet_session_peer_stats(f.s[0], 1, &ps);
    assert_true(ps.connections_lost >= 1 && ps.reconnects >= 1);
    fx_free(&f);
}

static void test_close_before_the_first_frame_resumes(void **state)
{
    (void)state;
    static fx f;
    fx_opts o;
    base_opts(&o, 71);
    fx_init(&f, &o);
    /* Until both run: the first frame has not run yet. */
    for (int t = 0; t < 200 && !fx_all_running(&f); t++) {
        fx_run(&f, 1);
    }
    assert_true(fx_all_running(&f));
    close_link(&f);
    fx_run(&f, 900);
    assert_true(fx_stats(&f, 0).frame > 600);
    assert_resumed(&f, 500);
    fx_free(&f);
}

static void test_close_mid_episode_resumes(void **state)
{
    (void)state;
    run_close_at(72, 300, 0, false, 0);
}

static void test_close_at_an_episode_boundary_resumes(void **state)
{
    (void)state;
    run_close_at(73, 240 + 20, 240, false, 0); /* frames run about 20 behind the ticks at start */
}

static void test_close_while_loading_resumes(void **state)
{
    (void)state;
    run_close_at(74, 300, 0, true, 0);
}

static void test_close_while_both_sides_lose_packets_resumes(void **state)
{
    (void)state;
    run_close_at(75, 300, 120, false, 150);
}

/* 12 s without any packet, with the default timeouts: lost at 5 s,
 * regained once the network is back, well inside the 30 s window. */
static void test_a_12_s_blackout_resumes_with_defaults(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 76);
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    rollnet_memnet_set_cut(f.net, 1, true);
    fx_run(&f, 12 * 60);
    assert_true(f.hp[0].event_counts[ROLLNET_EVENT_INTERRUPTED] >= 1);
    assert_true(f.hp[0].event_counts[ROLLNET_EVENT_RECONNECTING] >= 2); /* several attempts */
    assert_true(f.hp[1].event_counts[ROLLNET_EVENT_RECONNECTING] >= 1);
    rollnet_memnet_set_cut(f.net, 1, false);
    fx_run(&f, 900);
    assert_resumed(&f, 1000);
    fx_free(&f);
}

/* A DISCONNECTED the transport reports for the peer while the peer is fine
 * (a forged datagram, say) does not end the session. */
static void test_a_forged_close_does_not_end_the_session(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 77);
    o.wrap = wrap;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    g_wrap[0].forge = 1; /* node 0's transport "closes" node 1's connection */
    /* Node 0 redials; its transport still holds the old connection, so the
     * first attempt gets no answer and the next one, a few seconds on, does. */
    fx_run(&f, 600);
    assert_resumed(&f, 500);
    g_wrap[1].forge = 0; /* and the other way */
    fx_run(&f, 600);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    }
    fx_assert_ledgers_agree(&f, 800);
    /* The wrapper's RTT of a minute reaches neither time sync nor the stats. */
    rollnet_peer_stats ps;
    rollnet_session_peer_stats(f.s[0], 1, &ps);
    assert_true(ps.rtt_ms <= ROLLNET_MAX_RTT_MS && ps.jitter_ms <= ROLLNET_MAX_RTT_MS);
    fx_free(&f);
}

/* The dialler's traffic arrives at node 1 under a new transport id, and
 * what node 1 sends to the old one is lost: the claim on the new id
 * rebinds the peer and play goes on. */
static void test_nat_rebinding_resumes(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 78);
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    rollnet_memnet_rebind(f.net, 1, 0);
    fx_run(&f, 900);
    assert_resumed(&f, 800);
    assert_true(f.hp[0].event_counts[ROLLNET_EVENT_RECONNECTING] >= 1);
    rollnet_session_stats st = fx_stats(&f, 1);
    assert_int_equal(st.resumes_refused, 0);
    fx_free(&f);
}

/* The same through a decorator that rebinds on its own (a transport whose
 * ids are not the memnet's). */
static void test_nat_rebinding_in_a_decorator_resumes(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 83);
    o.wrap = wrap;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    g_wrap[1].rebound = 0;
    fx_run(&f, 900);
    assert_resumed(&f, 800);
    fx_free(&f);
}

/* A raw connection from node 2 claims to resume node 0's connection with
 * the wrong nonces: refused, counted, nothing the game sees. */
static void test_a_stranger_claiming_a_resume_is_ignored(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 79);
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    /* The stranger: a raw connection from node 0's address while node 0's
     * session is stopped, claiming a resume with made-up nonces. */
    uint8_t buf[RN_MAX_MESSAGE];
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_RESUME;
    m.u.resume.kind = RN_RESUME_CLAIM;
    m.u.resume.nonce = 0xdead;
    m.u.resume.peer_nonce = 0xbeef;
    m.u.resume.player_mask = 1;
    size_t n = rn_encode(&m, 0, buf, sizeof buf);
    assert_true(n > 0);
    uint64_t before[HARNESS_EVENT_TYPES];
    memcpy(before, f.hp[1].event_counts, sizeof before);
    close_link(&f); /* node 1 closes: node 0 reconnects ... */
    f.paused[0] = true;
    rollnet_transport t0 = rollnet_memnet_transport(f.net, 0);
    int tp = -1;
    assert_int_equal(t0.vtable->connect(t0.self, "mem:1", harness_clock_now(&f.clock), &tp),
                     ROLLNET_ERR_OK);
    assert_int_equal(t0.vtable->send(t0.self, tp, ROLLNET_CHANNEL_RELIABLE, buf, n,
                                     harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    fx_run(&f, 5);
    assert_int_equal(fx_stats(&f, 1).resumes_refused, 1);
    for (int e = 0; e < HARNESS_EVENT_TYPES; e++) {
        if (e != ROLLNET_EVENT_RECONNECTING && e != ROLLNET_EVENT_INTERRUPTED &&
            e != ROLLNET_EVENT_STALLED && e != ROLLNET_EVENT_STALL_ENDED) {
            assert_int_equal(f.hp[1].event_counts[e], before[e]);
        }
    }
    f.paused[0] = false;
    fx_run(&f, 900);
    assert_resumed(&f, 700);
    fx_free(&f);
}

static void test_reconnection_in_a_private_session(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 80);
    o.key[0] = "invite-4711";
    o.key[1] = "invite-4711";
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    close_link(&f);
    fx_run(&f, 900);
    assert_resumed(&f, 800);
    fx_free(&f);
}

/* The window ends without success: DISCONNECTED, CONNECTION_LOST, on both. */
static void test_window_expiry_says_connection_lost(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 81);
    o.reconnect_timeout_ms = 3000;
    o.rejoin_timeout_ms = ROLLNET_REJOIN_OFF; /* else the place is kept for a rejoin too */
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    rollnet_memnet_set_cut(f.net, 1, true);
    fx_run(&f, (5000 + 2800) * 60 / 1000);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    fx_run(&f, 30);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
        assert_int_equal(f.hp[i].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                         ROLLNET_DISCONNECT_CONNECTION_LOST);
    }
    assert_string_equal(rollnet_disconnect_reason_string(ROLLNET_DISCONNECT_CONNECTION_LOST),
                        "the connection was lost and not regained within reconnect_timeout_ms");
    fx_free(&f);
}

/* Reconnection off: a transport close ends the peer at once, as before. */
static void test_reconnection_off_keeps_close_as_departure(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 82);
    o.reconnect_timeout_ms = ROLLNET_RECONNECT_OFF;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    close_link(&f);
    fx_run(&f, 5);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_CLOSED);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_RECONNECTING], 0);
    fx_free(&f);
}

/* A mesh of three: one link closes (node 2's transport drops node 1) while
 * the others stay up. That link reconnects; nobody departs. */
static void test_a_lost_link_in_a_mesh_reconnects(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 84);
    o.num_players = 3;
    o.sim[2].delay_ms = 20;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    int32_t frame = fx_stats(&f, 0).frame;
    f.sim[2].vtable->disconnect(f.sim[2].self, 1);
    fx_run(&f, 900);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DESYNC], 0);
    }
    assert_true(f.hp[1].event_counts[ROLLNET_EVENT_RECONNECTING] >= 1);
    assert_true(f.hp[1].event_counts[ROLLNET_EVENT_RESUMED] >= 1);
    assert_true(f.hp[2].event_counts[ROLLNET_EVENT_RESUMED] >= 1);
    assert_true(fx_stats(&f, 0).frame > frame + 600);
    fx_assert_ledgers_agree(&f, frame + 500);
    fx_free(&f);
}

/* A mesh of three where node 2 is cut off for good: the window ends on both
 * survivors and they agree on its departure frame (the LEAVE agreement). */
static void test_window_expiry_in_a_mesh_agrees_on_the_departure_frame(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 85);
    o.num_players = 3;
    o.sim[2].delay_ms = 20;
    o.reconnect_timeout_ms = 2000;
    o.rejoin_timeout_ms = ROLLNET_REJOIN_OFF; /* else the place is kept for a rejoin too */
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    rollnet_memnet_set_cut(f.net, 2, true);
    f.gone[2] = true;
    fx_run(&f, 600);
    int32_t from = -1;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
        const rollnet_event *ev = &f.hp[i].last_event[ROLLNET_EVENT_DISCONNECTED];
        assert_int_equal(ev->player, 2);
        assert_true(ev->u.disconnected.reason == ROLLNET_DISCONNECT_CONNECTION_LOST ||
                    ev->u.disconnected.reason == ROLLNET_DISCONNECT_BY_PEERS);
        if (i == 0) {
            from = ev->u.disconnected.frame;
        }
        assert_int_equal(ev->u.disconnected.frame, from);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DESYNC], 0);
    }
    assert_true(from > 0);
    assert_true(fx_stats(&f, 0).frame > from + 100); /* play went on */
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_before_the_first_frame_resumes),
        cmocka_unit_test(test_close_mid_episode_resumes),
        cmocka_unit_test(test_close_at_an_episode_boundary_resumes),
        cmocka_unit_test(test_close_while_loading_resumes),
        cmocka_unit_test(test_close_while_both_sides_lose_packets_resumes),
        cmocka_unit_test(test_a_12_s_blackout_resumes_with_defaults),
        cmocka_unit_test(test_a_forged_close_does_not_end_the_session),
        cmocka_unit_test(test_nat_rebinding_resumes),
        cmocka_unit_test(test_nat_rebinding_in_a_decorator_resumes),
        cmocka_unit_test(test_a_stranger_claiming_a_resume_is_ignored),
        cmocka_unit_test(test_reconnection_in_a_private_session),
        cmocka_unit_test(test_window_expiry_says_connection_lost),
        cmocka_unit_test(test_reconnection_off_keeps_close_as_departure),
        cmocka_unit_test(test_a_lost_link_in_a_mesh_reconnects),
        cmocka_unit_test(test_window_expiry_in_a_mesh_agrees_on_the_departure_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
