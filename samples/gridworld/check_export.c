/* --check-export: re-simulate a confirmed ledger (the msgpack stream --export
 * writes) from its inputs alone and check that every recorded frame comes
 * out the same. A researcher's check that a data file is what the game
 * produced; it needs no network and no window. */
#include <msgpack.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "game.h"
#include "check_export.h"

/* The value of `key` in a msgpack map, or NULL. */
static const msgpack_object *map_get(const msgpack_object *map, const char *key)
{
    if (map->type != MSGPACK_OBJECT_MAP) {
        return NULL;
    }
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            memcmp(k->via.str.ptr, key, klen) == 0) {
            return &map->via.map.ptr[i].val;
        }
    }
    return NULL;
}

static bool get_int(const msgpack_object *o, int64_t *out)
{
    if (!o) {
        return false;
    }
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
        *out = (int64_t)o->via.u64;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
        return true;
    }
    return false;
}

int gw_check_export(const char *path, uint64_t seed, int32_t max_steps, uint64_t *frames_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "gridworld: cannot open %s\n", path);
        return 1;
    }
    msgpack_unpacker up;
    if (!msgpack_unpacker_init(&up, 1 << 16)) {
        fclose(f);
        return 1;
    }
    msgpack_unpacked row;
    msgpack_unpacked_init(&row);
    gw_config cfg = {.seed = seed, .max_steps = max_steps};
    gw_state state;
    gw_reset(&state, &cfg, 0);
    uint8_t record[1024];
    void *writer_storage = malloc(rollnet_writer_storage_size());
    if (!writer_storage) {
        msgpack_unpacker_destroy(&up);
        fclose(f);
        return 1;
    }
    msgpack_zone zone;
    msgpack_zone_init(&zone, 4096);
    int64_t expect = 0;
    int rc = 0;
    bool eof = false;
    while (rc == 0) {
        msgpack_unpack_return r = msgpack_unpacker_next(&up, &row);
        if (r == MSGPACK_UNPACK_CONTINUE) {
            if (eof) {
                break;
            }
            if (msgpack_unpacker_buffer_capacity(&up) < 4096 &&
                !msgpack_unpacker_reserve_buffer(&up, 4096)) {
                rc = 1;
                break;
            }
            size_t n = fread(msgpack_unpacker_buffer(&up), 1,
                             msgpack_unpacker_buffer_capacity(&up), f);
            msgpack_unpacker_buffer_consumed(&up, n);
            eof = n == 0;
            continue;
        }
        if (r != MSGPACK_UNPACK_SUCCESS) {
            fprintf(stderr, "gridworld: %s is not a msgpack stream\n", path);
            rc = 1;
            break;
        }
        const msgpack_object *o = &row.data;
        int64_t frame, episode, step;
        const msgpack_object *inputs = map_get(o, "inputs");
        const msgpack_object *data = map_get(o, "data");
        if (expect == 0 && inputs && inputs->type == MSGPACK_OBJECT_ARRAY &&
            inputs->via.array.size >= 2 && inputs->via.array.size <= GW_MAX_PLAYERS) {
            /* As many players as the first row has inputs. */
            cfg.num_players = (int32_t)inputs->via.array.size;
            gw_reset(&state, &cfg, 0);
        }
        if (!get_int(map_get(o, "frame"), &frame) || !get_int(map_get(o, "episode"), &episode) ||
            !get_int(map_get(o, "step"), &step) || !inputs ||
            inputs->type != MSGPACK_OBJECT_ARRAY ||
            inputs->via.array.size != (uint32_t)state.num_players ||
            !data) {
            fprintf(stderr, "gridworld: row %lld of %s is not a ledger row\n", (long long)expect,
                    path);
            rc = 1;
            break;
        }
        if (frame != expect) {
            fprintf(stderr, "gridworld: %s skips from frame %lld to %lld\n", path,
                    (long long)expect - 1, (long long)frame);
            rc = 1;
            break;
        }
        uint8_t in[GW_MAX_PLAYERS];
        for (int p = 0; p < state.num_players; p++) {
            const msgpack_object *b = &inputs->via.array.ptr[p];
            if (b->type != MSGPACK_OBJECT_BIN || b->via.bin.size != 1) {
                fprintf(stderr, "gridworld: frame %lld: bad input of player %d\n",
                        (long long)frame, p);
                rc = 1;
                break;
            }
            in[p] = (uint8_t)b->via.bin.ptr[0];
        }
        if (rc) {
            break;
        }
        gw_step(&state, &cfg, in);
        rollnet_writer *w = rollnet_writer_open(writer_storage, record, sizeof(record));
        gw_write_record(&state, w);
        size_t len = rollnet_writer_length(w);
        msgpack_zone_clear(&zone);
        msgpack_object mine;
        size_t off = 0;
        bool same = msgpack_unpack((const char *)record, len, &off, &zone, &mine) ==
                        MSGPACK_UNPACK_SUCCESS &&
                    msgpack_object_equal(mine, *data) && state.episode == episode &&
                    state.step - 1 == step;
        if (!same) {
            fprintf(stderr, "gridworld: frame %lld differs from the recorded one\n",
                    (long long)frame);
            rc = 1;
            break;
        }
        expect++;
    }
    free(writer_storage);
    msgpack_zone_destroy(&zone);
    msgpack_unpacked_destroy(&row);
    msgpack_unpacker_destroy(&up);
    fclose(f);
    if (rc == 0 && expect == 0) {
        fprintf(stderr, "gridworld: %s holds no rows\n", path);
        rc = 1;
    }
    *frames_out = (uint64_t)expect;
    return rc;
}
