/* Game parameters: the game's own rules as one msgpack map with string keys
 * (rollnet_session_desc::game_params), checked at creation and in every
 * HELLO, and compared as maps by the handshake. Internal.
 *
 * Never allocates: a parsed map is a table of offsets on the caller's side,
 * sorted by key (bytes, then length), so both peers walk the keys in the same
 * order and name the same first difference. */
#ifndef RN_GAME_PARAMS_H
#define RN_GAME_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rollnet/rollnet.h"

/* Every entry takes at least 3 bytes (a fixstr header, one key byte, a
 * one-byte value), so a blob within the limit holds at most this many. */
#define RN_GP_MAX_ENTRIES (ROLLNET_MAX_GAME_PARAMS / 3)
#define RN_GP_MAX_KEY (ROLLNET_GAME_PARAM_KEY_SIZE - 1)

typedef struct rn_gp_entry {
    uint16_t key, key_len;     /* the key's bytes (without the str header) */
    uint16_t value, value_len; /* the value's msgpack bytes */
} rn_gp_entry;

/* A parsed map: entries sorted by key; offsets into data. */
typedef struct rn_gp_map {
    const uint8_t *data;
    size_t size;
    int count;
    rn_gp_entry e[RN_GP_MAX_ENTRIES];
} rn_gp_map;

/* Parse and check data[0..size): NULL when it is a valid map (size 0 is the
 * empty map, data may then be NULL); else the rule it breaks, as a static
 * sentence ("is larger than ROLLNET_MAX_GAME_PARAMS (512 bytes)"). `out`
 * may be NULL to check only. */
const char *rn_game_params_parse(const uint8_t *data, size_t size, rn_gp_map *out);

/* The first key, in sorted order, that one map lacks or whose values differ.
 * True when the maps are equal. Otherwise false, the key copied into
 * key[0..ROLLNET_GAME_PARAM_KEY_SIZE) with a NUL, and *in_a / *in_b set to
 * whether each map has it. */
bool rn_game_params_equal(const rn_gp_map *a, const rn_gp_map *b, char *key, bool *in_a,
                          bool *in_b);

/* A key as the wire and the event carry it: 1..RN_GP_MAX_KEY bytes, no NUL. */
static inline bool rn_game_param_key_ok(const char *key, size_t len)
{
    if (len < 1 || len > RN_GP_MAX_KEY) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (key[i] == '\0') {
            return false;
        }
    }
    return true;
}

/* What a REFUSE or REFUSED event may say: for ROLLNET_PARAM_GAME_PARAMS a
 * key (1..31 bytes) and the values 1 where the key is present, 0 where it is
 * missing, at least one 1; for every other parameter an empty key. `key`
 * holds ROLLNET_GAME_PARAM_KEY_SIZE bytes and must hold a NUL. */
bool rn_game_params_refusal_ok(uint32_t param, int64_t local, int64_t remote, const char *key);

#endif
