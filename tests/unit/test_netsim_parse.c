/* rollnet_netsim_parse (core/netsim_parse.c): every key, percent fractions,
 * the empty spec, and malformed specs refused without touching the output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rollnet/rollnet.h"

static void parse_reads_every_key(void **state)
{
    (void)state;
    rollnet_netsim_desc d;
    assert_int_equal(
        rollnet_netsim_parse("delay=50,jitter=20,loss=5,dup=1,reorder=2,seed=7,reorder_ms=15", &d),
        ROLLNET_ERR_OK);
    assert_int_equal(d.delay_ms, 50);
    assert_int_equal(d.jitter_ms, 20);
    assert_int_equal(d.loss_permille, 50);
    assert_int_equal(d.dup_permille, 10);
    assert_int_equal(d.reorder_permille, 20);
    assert_int_equal(d.reorder_ms, 15);
    assert_int_equal(d.seed, 7);
    assert_int_equal(d.max_queued, 0);

    assert_int_equal(rollnet_netsim_parse("seed=18446744073709551615", &d), ROLLNET_ERR_OK);
    assert_true(d.seed == UINT64_MAX);
    assert_int_equal(d.delay_ms, 0); /* keys not given are zero */
}

static void parse_takes_percent_fractions_as_permille(void **state)
{
    (void)state;
    rollnet_netsim_desc d;
    static const struct {
        const char *spec;
        uint32_t permille;
    } cases[] = {
        {"loss=0.5", 5},   {"loss=0.05", 1}, {"loss=0.04", 0}, {"loss=12.34", 123},
        {"loss=100", 1000}, {"loss=100.0", 1000}, {"loss=0", 0}, {"loss=007", 70},
        {"loss=99.96", 1000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(rollnet_netsim_parse(cases[i].spec, &d), ROLLNET_ERR_OK);
        assert_int_equal(d.loss_permille, cases[i].permille);
    }
}

static void parse_of_an_empty_spec_gives_all_zero(void **state)
{
    (void)state;
    rollnet_netsim_desc d;
    memset(&d, 0xAB, sizeof d);
    assert_int_equal(rollnet_netsim_parse("", &d), ROLLNET_ERR_OK);
    rollnet_netsim_desc zero = {0};
    assert_memory_equal(&d, &zero, sizeof d);
}

static void parse_rejects_malformed_specs_and_leaves_output_alone(void **state)
{
    (void)state;
    static const char *bad[] = {
        "latency=5",     /* unknown key */
        "delay",         /* missing '=' */
        "delay=50,loss", /* missing '=' later */
        "delay=abc",     /* non-numeric */
        "delay=",        /* empty value */
        "delay=1.5",     /* ms are whole */
        "delay=5ms",     "loss=5%",  "loss=x",   "loss=.5", "loss=5.", "loss=1.2.3",
        "delay=-5",      /* negative */
        "loss=-1",       "jitter=+3",
        "loss=101",      /* percent > 100 */
        "dup=100.1",     "reorder=250",
        "delay=4294967296", /* out of range */
        "seed=18446744073709551616",
        "delay=5,",      /* trailing comma */
        ",delay=5",      "delay=5,,loss=1",
        " delay=5",      "delay =5", "DELAY=5", "=5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rollnet_netsim_desc d = {.delay_ms = 77};
        rollnet_error e = rollnet_netsim_parse(bad[i], &d);
        if (e != ROLLNET_ERR_INVALID_ARGUMENT) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
        assert_int_equal(d.delay_ms, 77);
    }
    rollnet_netsim_desc d;
    assert_int_equal(rollnet_netsim_parse(NULL, &d), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_netsim_parse("delay=1", NULL), ROLLNET_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_reads_every_key),
        cmocka_unit_test(parse_takes_percent_fractions_as_permille),
        cmocka_unit_test(parse_of_an_empty_spec_gives_all_zero),
        cmocka_unit_test(parse_rejects_malformed_specs_and_leaves_output_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
