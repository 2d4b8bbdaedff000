/* Game parameters (core/game_params.c): which blobs are a map of rules, and
 * how two maps compare: as maps, whatever the key order, naming the first
 * differing key in byte order so that both peers name the same one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "game_params.h"

/* A map written through the public standalone writer, as a game would. */
typedef struct blob {
    uint8_t buf[ROLLNET_MAX_GAME_PARAMS + 64];
    size_t len;
} blob;

typedef struct kv {
    const char *key;
    int64_t value; /* written with rollnet_write_int */
} kv;

static blob map_of(const kv *pairs, uint32_t n)
{
    blob b;
    void *storage = malloc(rollnet_writer_storage_size());
    assert_non_null(storage);
    rollnet_writer *w = rollnet_writer_open(storage, b.buf, sizeof b.buf);
    rollnet_write_map(w, n);
    for (uint32_t i = 0; i < n; i++) {
        rollnet_write_str(w, pairs[i].key, strlen(pairs[i].key));
        rollnet_write_int(w, pairs[i].value);
    }
    assert_int_equal(rollnet_writer_error(w), ROLLNET_ERR_OK);
    b.len = rollnet_writer_length(w);
    free(storage);
    return b;
}

static rn_gp_map parsed(const blob *b)
{
    rn_gp_map m;
    const char *why = rn_game_params_parse(b->buf, b->len, &m);
    if (why) {
        fail_msg("a valid map was refused: %s", why);
    }
    return m;
}

/* Compare both ways; the two sides must name the same key, with the
 * presence flags swapped. Returns the key ("" when equal). */
static const char *compare(const blob *a, const blob *b, bool *in_a, bool *in_b)
{
    static char key[ROLLNET_GAME_PARAM_KEY_SIZE];
    char back[ROLLNET_GAME_PARAM_KEY_SIZE];
    rn_gp_map ma = parsed(a), mb = parsed(b);
    bool ba = false, bb = false;
    bool eq = rn_game_params_equal(&ma, &mb, key, in_a, in_b);
    bool eq_back = rn_game_params_equal(&mb, &ma, back, &bb, &ba);
    assert_int_equal(eq, eq_back);
    if (eq) {
        return "";
    }
    assert_string_equal(key, back);
    assert_int_equal(*in_a, ba);
    assert_int_equal(*in_b, bb);
    return key;
}

static void the_same_map_in_another_key_order_is_equal(void **state)
{
    (void)state;
    const kv one[] = { { "max_steps", 450 }, { "map", 3 }, { "items", 5 }, { "w", 12 } };
    const kv two[] = { { "w", 12 }, { "items", 5 }, { "max_steps", 450 }, { "map", 3 } };
    blob a = map_of(one, 4), b = map_of(two, 4);
    assert_memory_not_equal(a.buf, b.buf, a.len);
    bool in_a, in_b;
    assert_string_equal(compare(&a, &b, &in_a, &in_b), "");
    /* Empty maps, and none at all, are equal too. */
    blob e = map_of(NULL, 0);
    rn_gp_map me = parsed(&e), none;
    assert_null(rn_game_params_parse(NULL, 0, &none));
    char key[ROLLNET_GAME_PARAM_KEY_SIZE];
    assert_true(rn_game_params_equal(&me, &none, key, &in_a, &in_b));
}

static void a_differing_value_is_named_by_its_key(void **state)
{
    (void)state;
    const kv one[] = { { "max_steps", 450 }, { "map", 3 } };
    const kv two[] = { { "map", 3 }, { "max_steps", 300 } };
    blob a = map_of(one, 2), b = map_of(two, 2);
    bool in_a, in_b;
    assert_string_equal(compare(&a, &b, &in_a, &in_b), "max_steps");
    assert_true(in_a);
    assert_true(in_b);
    /* Values compare by their bytes: 1 as a uint8 is not the fixint 1. */
    blob c = map_of((const kv[]){ { "n", 1 } }, 1);
    blob d = c;
    d.buf[d.len - 1] = 0xcc; /* uint8 header, then the value */
    d.buf[d.len++] = 0x01;
    d.buf[0] = 0x81;
    assert_string_equal(compare(&c, &d, &in_a, &in_b), "n");
}

static void a_key_missing_on_one_side_is_named_with_the_side(void **state)
{
    (void)state;
    const kv one[] = { { "max_steps", 450 }, { "map", 3 }, { "fog", 1 } };
    const kv two[] = { { "map", 3 }, { "max_steps", 450 } };
    blob a = map_of(one, 3), b = map_of(two, 2);
    bool in_a, in_b;
    assert_string_equal(compare(&a, &b, &in_a, &in_b), "fog");
    assert_true(in_a);
    assert_false(in_b);
    /* Against no parameters at all: the first key in byte order. */
    blob none = { .len = 0 };
    assert_string_equal(compare(&none, &a, &in_a, &in_b), "fog");
    assert_false(in_a);
    assert_true(in_b);
}

/* Several differences: both sides name the first key in byte order (shorter
 * first on a common prefix), whatever order either side wrote. */
static void both_sides_name_the_first_differing_key_in_byte_order(void **state)
{
    (void)state;
    const kv one[] = { { "zeta", 1 }, { "beta", 2 }, { "alpha", 3 }, { "al", 4 } };
    const kv two[] = { { "alpha", 3 }, { "zeta", 9 }, { "beta", 7 }, { "alp", 4 } };
    blob a = map_of(one, 4), b = map_of(two, 4);
    bool in_a, in_b;
    /* "al" < "alp" < "alpha" < "beta" < "zeta": "al" is only in a. */
    assert_string_equal(compare(&a, &b, &in_a, &in_b), "al");
    assert_true(in_a);
    assert_false(in_b);
    const kv three[] = { { "zeta", 1 }, { "beta", 2 }, { "alpha", 3 } };
    const kv four[] = { { "zeta", 9 }, { "alpha", 3 }, { "beta", 7 } };
    blob c = map_of(three, 3), d = map_of(four, 3);
    assert_string_equal(compare(&c, &d, &in_a, &in_b), "beta");
    /* Byte order, not locale: "B" (0x42) comes before "a" (0x61). */
    blob e = map_of((const kv[]){ { "a", 1 }, { "B", 1 } }, 2);
    blob f = map_of((const kv[]){ { "a", 2 }, { "B", 2 } }, 2);
    assert_string_equal(compare(&e, &f, &in_a, &in_b), "B");
}

typedef struct bad_case {
    const char *what;
    uint8_t bytes[12];
    size_t len;
    const char *rule; /* a word of the rule the parser reports */
} bad_case;

static void blobs_that_are_not_a_map_of_rules_are_refused_with_the_rule(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        { "not a map", { 0x92, 0x01, 0x02 }, 3, "not a msgpack map" },
        { "a string", { 0xa1, 'a' }, 2, "not a msgpack map" },
        { "an integer key", { 0x81, 0x01, 0x02 }, 3, "not a string" },
        { "a nil key", { 0x81, 0xc0, 0x02 }, 3, "not a string" },
        { "truncated", { 0x82, 0xa1, 'a', 0x01, 0xa1, 'b' }, 6, "truncated" },
        { "a short value", { 0x81, 0xa1, 'a', 0xce, 0x00, 0x01 }, 6, "truncated" },
        { "a key twice", { 0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x01 }, 7, "twice" },
        { "an empty key", { 0x81, 0xa0, 0x01 }, 3, "empty" },
        { "a NUL in a key", { 0x81, 0xa2, 'a', 0x00, 0x01 }, 5, "NUL" },
        { "bytes after it", { 0x80, 0x01 }, 2, "after" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *why = rn_game_params_parse(cases[c].bytes, cases[c].len, NULL);
        if (!why || !strstr(why, cases[c].rule)) {
            fail_msg("%s: got %s", cases[c].what, why ? why : "accepted");
        }
    }
    /* Oversize, even when well-formed. */
    static uint8_t big[ROLLNET_MAX_GAME_PARAMS + 1];
    size_t payload = sizeof big - 6;
    big[0] = 0x81;
    big[1] = 0xa1;
    big[2] = 'k';
    big[3] = 0xc5;
    big[4] = (uint8_t)(payload >> 8);
    big[5] = (uint8_t)payload;
    assert_non_null(strstr(rn_game_params_parse(big, sizeof big, NULL), "larger"));
    big[5] = (uint8_t)(payload - 1);
    assert_null(rn_game_params_parse(big, sizeof big - 1, NULL));
    /* A size without bytes. */
    assert_non_null(rn_game_params_parse(NULL, 4, NULL));
    /* A 32-byte key is one too many; 31 is fine; nested values are fine. */
    const kv long_key[] = { { "0123456789abcdef0123456789abcdef", 1 } };
    blob l = map_of(long_key, 1);
    assert_non_null(strstr(rn_game_params_parse(l.buf, l.len, NULL), "31"));
    const kv ok_key[] = { { "0123456789abcdef0123456789abcde", 1 } };
    blob k = map_of(ok_key, 1);
    assert_null(rn_game_params_parse(k.buf, k.len, NULL));
    static const uint8_t nested[] = { 0x81, 0xa1, 'm', 0x82, 0xa1, 'w', 0x0c, 0xa1, 'h', 0x09 };
    assert_null(rn_game_params_parse(nested, sizeof nested, NULL));
}

/* Every cut of a valid map is refused, and nothing is read past the cut. */
static void every_truncation_of_a_valid_map_is_refused(void **state)
{
    (void)state;
    const kv pairs[] = { { "max_steps", 70000 }, { "map", -3 }, { "items", 5 } };
    blob b = map_of(pairs, 3);
    for (size_t cut = 1; cut < b.len; cut++) {
        uint8_t *part = malloc(cut); /* exactly cut bytes: ASan sees a read past them */
        assert_non_null(part);
        memcpy(part, b.buf, cut);
        if (rn_game_params_parse(part, cut, NULL) == NULL) {
            fail_msg("a cut at %zu of %zu bytes was accepted", cut, b.len);
        }
        free(part);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_same_map_in_another_key_order_is_equal),
        cmocka_unit_test(a_differing_value_is_named_by_its_key),
        cmocka_unit_test(a_key_missing_on_one_side_is_named_with_the_side),
        cmocka_unit_test(both_sides_name_the_first_differing_key_in_byte_order),
        cmocka_unit_test(blobs_that_are_not_a_map_of_rules_are_refused_with_the_rule),
        cmocka_unit_test(every_truncation_of_a_valid_map_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
