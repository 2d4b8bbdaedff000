/* libFuzzer target: the network simulator's spec parser (rollnet_netsim_parse),
 * which reads a command line's --netsim text.
 *
 * Input: the spec's bytes (a NUL ends it early, as in a C string).
 *
 * Invariants: the result is OK or INVALID_ARGUMENT, and *out is untouched on
 * error; an accepted spec holds only known keys, each once or more, with a
 * value, no empty item and no trailing comma (checked here independently),
 * percentages within 0..1000 permille; and the desc printed back in the
 * spec's own syntax parses to the same desc. */
#include <inttypes.h>
#include <string.h>

#include "fuzz_common.h"
#include "rollnet/rollnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_target_name = "fuzz_netsim_spec";
    return 0;
}

static const char *const k_keys[] = { "delay", "jitter", "loss", "dup", "reorder", "reorder_ms",
                                      "seed" };

/* The syntax alone: items "key=value" separated by single commas. */
static bool well_formed(const char *s)
{
    if (*s == '\0') {
        return true;
    }
    for (;;) {
        const char *end = strchr(s, ',');
        size_t item = end ? (size_t)(end - s) : strlen(s);
        const char *eq = memchr(s, '=', item);
        if (!eq) {
            return false;
        }
        size_t klen = (size_t)(eq - s);
        bool known = false;
        for (size_t k = 0; k < sizeof k_keys / sizeof k_keys[0]; k++) {
            known = known || (strlen(k_keys[k]) == klen && memcmp(s, k_keys[k], klen) == 0);
        }
        size_t vlen = item - klen - 1;
        if (!known || vlen == 0 || eq[1] < '0' || eq[1] > '9') {
            return false;
        }
        if (!end) {
            return true;
        }
        s = end + 1;
        if (*s == '\0') {
            return false;
        }
    }
}

static void permille(char *buf, size_t cap, const char *key, uint32_t v)
{
    snprintf(buf, cap, "%s=%" PRIu32 ".%" PRIu32, key, v / 10, v % 10);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    if (!spec) {
        abort();
    }
    memcpy(spec, data, size);
    spec[size] = '\0';

    rollnet_netsim_desc d, untouched;
    memset(&d, 0xab, sizeof d);
    memcpy(&untouched, &d, sizeof d);
    rollnet_error err = rollnet_netsim_parse(spec, &d);
    FUZZ_CHECK(err == ROLLNET_ERR_OK || err == ROLLNET_ERR_INVALID_ARGUMENT,
               "parse returned %d", (int)err);
    if (err != ROLLNET_ERR_OK) {
        FUZZ_CHECK(memcmp(&d, &untouched, sizeof d) == 0, "a refused spec changed the desc");
        free(spec);
        return 0;
    }
    FUZZ_CHECK(well_formed(spec), "accepted a spec that is not key=value,...: \"%.80s\"", spec);
    FUZZ_CHECK(d.loss_permille <= 1000 && d.dup_permille <= 1000 && d.reorder_permille <= 1000,
               "percentages out of range: %u %u %u", d.loss_permille, d.dup_permille,
               d.reorder_permille);
    FUZZ_CHECK(d.max_queued == 0, "the parser set max_queued");

    char text[256], item[64];
    snprintf(text, sizeof text, "delay=%" PRIu32 ",jitter=%" PRIu32 ",reorder_ms=%" PRIu32
             ",seed=%" PRIu64, d.delay_ms, d.jitter_ms, d.reorder_ms, d.seed);
    permille(item, sizeof item, ",loss", d.loss_permille);
    strncat(text, item, sizeof text - strlen(text) - 1);
    permille(item, sizeof item, ",dup", d.dup_permille);
    strncat(text, item, sizeof text - strlen(text) - 1);
    permille(item, sizeof item, ",reorder", d.reorder_permille);
    strncat(text, item, sizeof text - strlen(text) - 1);
    rollnet_netsim_desc back;
    memset(&back, 0, sizeof back);
    FUZZ_CHECK(rollnet_netsim_parse(text, &back) == ROLLNET_ERR_OK, "\"%s\" does not parse", text);
    FUZZ_CHECK(back.delay_ms == d.delay_ms && back.jitter_ms == d.jitter_ms &&
                   back.reorder_ms == d.reorder_ms && back.seed == d.seed &&
                   back.loss_permille == d.loss_permille && back.dup_permille == d.dup_permille &&
                   back.reorder_permille == d.reorder_permille && back.max_queued == 0,
               "\"%s\" parses to another desc than the one it prints", text);
    free(spec);
    return 0;
}
