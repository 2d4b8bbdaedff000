/* Game parameters in the handshake, over the memnet: peers whose maps of
 * rules differ are refused, naming the key on both sides; equal maps written
 * in another key order run. */
#include "p2p_fixture.h"

/* Each node's warnings and errors, concatenated (the user_data is the node). */
static char g_log[FX_MAX][8192];

static void keep_log(rollnet_log_level level, const char *message, void *user_data)
{
    int node = (int)(intptr_t)user_data;
    if (level >= ROLLNET_LOG_WARN && node >= 0 && node < FX_MAX) {
        size_t used = strlen(g_log[node]);
        snprintf(g_log[node] + used, sizeof(g_log[node]) - used, "%s\n", message);
    }
}

/* A map of rules written with the standalone writer, keys in the order given. */
typedef struct rules {
    uint8_t buf[ROLLNET_MAX_GAME_PARAMS];
    size_t len;
} rules;

static void write_rules(rules *r, int32_t max_steps, bool fog, bool fog_first)
{
    void *storage = malloc(rollnet_writer_storage_size());
    assert_non_null(storage);
    rollnet_writer *w = rollnet_writer_open(storage, r->buf, sizeof(r->buf));
    rollnet_write_map(w, fog ? 3 : 2);
    if (fog && fog_first) {
        rollnet_write_str(w, "fog", 3);
        rollnet_write_bool(w, true);
    }
    rollnet_write_str(w, "max_steps", 9);
    rollnet_write_int(w, max_steps);
    rollnet_write_str(w, "map", 3);
    rollnet_write_str(w, "arena", 5);
    if (fog && !fog_first) {
        rollnet_write_str(w, "fog", 3);
        rollnet_write_bool(w, true);
    }
    assert_int_equal(rollnet_writer_error(w), ROLLNET_ERR_OK);
    r->len = rollnet_writer_length(w);
    free(storage);
}

static void base_opts(fx_opts *o, uint64_t seed)
{
    memset(o, 0, sizeof(*o));
    memset(g_log, 0, sizeof(g_log));
    o->num_players = 2;
    o->seed = seed;
    o->write_records = true;
    o->log = keep_log;
    for (int i = 0; i < FX_MAX; i++) {
        o->sim[i].delay_ms = 10;
    }
}

static void use_rules(fx_opts *o, int node, const rules *r)
{
    o->game_params[node] = r->buf;
    o->game_params_size[node] = r->len;
}

static const rollnet_event *refused(fx *f, int node)
{
    return &f->hp[node].last_event[ROLLNET_EVENT_REFUSED];
}

static void test_a_differing_rule_is_refused_naming_its_key_on_both_sides(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 71);
    static rules a, b;
    write_rules(&a, 450, true, false);
    write_rules(&b, 300, true, true); /* another order too: only the value matters */
    use_rules(&o, 0, &a);
    use_rules(&o, 1, &b);
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 120);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_RUNNING], 0);
        assert_int_equal(fx_stats(&f, i).frame, 0);
    }
    /* The joiner: an event naming the key, both sides having it. */
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REFUSED], 1);
    assert_int_equal(refused(&f, 0)->player, 1);
    assert_int_equal(refused(&f, 0)->u.refused.param, ROLLNET_PARAM_GAME_PARAMS);
    assert_string_equal(refused(&f, 0)->u.refused.key, "max_steps");
    assert_int_equal(refused(&f, 0)->u.refused.local_value, 1);
    assert_int_equal(refused(&f, 0)->u.refused.remote_value, 1);
    assert_string_equal(rollnet_param_string(ROLLNET_PARAM_GAME_PARAMS), "game_params");
    /* The host: the joiner never claimed a player, so it is a stranger (no
     * event, invariant 9), refused and counted; its log names the same key. */
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REFUSED], 0);
    assert_int_equal(fx_stats(&f, 1).handshakes_refused, 1);
    const char *line = "game_params differ at key 'max_steps' (the values differ)";
    assert_non_null(strstr(g_log[0], line));
    assert_non_null(strstr(g_log[1], line));
    fx_free(&f);
}

/* Three peers, one without a rule: both others refuse it naming the rule
 * (missing there), and it logs the rule as missing here. */
static void test_a_rule_missing_on_one_peer_is_named_by_every_peer(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 72);
    o.num_players = 3;
    static rules with, with_reordered, without;
    write_rules(&with, 450, true, false);
    write_rules(&with_reordered, 450, true, true);
    write_rules(&without, 450, false, false);
    use_rules(&o, 0, &with);
    use_rules(&o, 1, &with_reordered);
    use_rules(&o, 2, &without);
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 150);
    /* Nodes 0 and 1 connect to node 2: each is told about player 2. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_RUNNING], 0);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_REFUSED], 1);
        assert_int_equal(refused(&f, i)->player, 2);
        assert_int_equal(refused(&f, i)->u.refused.param, ROLLNET_PARAM_GAME_PARAMS);
        assert_string_equal(refused(&f, i)->u.refused.key, "fog");
        assert_int_equal(refused(&f, i)->u.refused.local_value, 1);
        assert_int_equal(refused(&f, i)->u.refused.remote_value, 0);
        assert_non_null(strstr(g_log[i], "game_params differ at key 'fog' (missing there)"));
    }
    /* Node 0 and node 1 agree with each other: no refusal between them. */
    assert_int_equal(fx_stats(&f, 1).handshakes_refused, 0);
    /* Node 2 accepted both as strangers and refused them, naming the key. */
    assert_int_equal(f.hp[2].event_counts[ROLLNET_EVENT_RUNNING], 0);
    assert_int_equal(fx_stats(&f, 2).handshakes_refused, 2);
    assert_non_null(strstr(g_log[2], "game_params differ at key 'fog' (missing here)"));
    fx_free(&f);
}

/* The same rules in another key order are the same rules. The blobs are
 * overwritten once the sessions exist: each session keeps its own copy. */
static void test_equal_rules_in_another_key_order_run(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 73);
    o.max_steps = 60;
    static rules a, b;
    write_rules(&a, 450, true, false);
    write_rules(&b, 450, true, true);
    assert_true(a.len == b.len && memcmp(a.buf, b.buf, a.len) != 0);
    use_rules(&o, 0, &a);
    use_rules(&o, 1, &b);
    static fx f;
    fx_init(&f, &o);
    memset(a.buf, 0xc1, sizeof(a.buf)); /* never msgpack */
    memset(b.buf, 0xc1, sizeof(b.buf));
    fx_run(&f, 400);
    assert_true(fx_all_running(&f));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_REFUSED], 0);
        assert_int_equal(fx_stats(&f, i).handshakes_refused, 0);
    }
    fx_assert_ledgers_agree(&f, 300);
    fx_assert_states_agree(&f);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_differing_rule_is_refused_naming_its_key_on_both_sides),
        cmocka_unit_test(test_a_rule_missing_on_one_peer_is_named_by_every_peer),
        cmocka_unit_test(test_equal_rules_in_another_key_order_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
