/* The replay recorder: a session's parameters, the state the game saved for
 * frame 0 and every confirmed record, as the msgpack stream described in
 * rollnet_replay.h. In the plugin because it writes a file; what it writes
 * comes from the session (its resolved desc, the copy of frame 0's snapshot
 * the session keeps for it, the ledger's records). */
#include <stdio.h>
#include <string.h>

#include <msgpack.h>
#include <msgpack/fbuffer.h>

#include "replay.h"
#include "replay_format.h"
#include "rn_alloc.h"
#include "session.h"
#include "snapshot.h"
#include "rollnet/rollnet_replay.h"

struct rollnet_replay_recorder {
    rollnet_allocator alloc;
    rollnet_session *session; /* read at the first write only */
    FILE *f;
    msgpack_packer pk;
    const char *kind;
    rollnet_session_desc params; /* the session's resolved desc (game_params copied below) */
    uint8_t game_params[ROLLNET_MAX_GAME_PARAMS];
    int32_t next_frame;
    bool header_written;
    bool io_error;
};

rollnet_error rollnet_replay_recorder_open(const rollnet_replay_recorder_desc *desc,
                                           rollnet_session *session,
                                           rollnet_replay_recorder **out)
{
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!desc || !desc->path || desc->path[0] == '\0' || !session) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (session->desc.kind == ROLLNET_SESSION_REPLAY ||
        session->desc.kind == ROLLNET_SESSION_SPECTATOR || session->desc.rejoin) {
        /* A replay, or a session that may start from a received state (a
         * spectator, a rejoin): a recording starts at frame 0. */
        return ROLLNET_ERR_WRONG_SESSION_KIND;
    }
    rollnet_error err = rn_session_keep_initial_state(session);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    rollnet_allocator alloc;
    rn_allocator_resolve(&desc->allocator, &alloc);
    rollnet_replay_recorder *r = rn_calloc(&alloc, 1, sizeof(*r));
    if (!r) {
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    r->alloc = alloc;
    r->session = session;
    r->params = session->desc;
    r->kind = session->desc.kind == ROLLNET_SESSION_SYNCTEST ? RN_REPLAY_KIND_SYNCTEST
                                                             : RN_REPLAY_KIND_P2P;
    if (r->params.game_params_size > 0) {
        memcpy(r->game_params, r->params.game_params, r->params.game_params_size);
    }
    r->f = fopen(desc->path, "wb");
    if (!r->f) {
        rn_free(&alloc, r);
        return ROLLNET_ERR_IO;
    }
    msgpack_packer_init(&r->pk, r->f, msgpack_fbuffer_write);
    *out = r;
    return ROLLNET_ERR_OK;
}

static void pack_key(msgpack_packer *pk, const char *key)
{
    size_t n = strlen(key);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, key, n);
}

static void pack_bin(msgpack_packer *pk, const void *data, size_t size)
{
    msgpack_pack_bin(pk, size);
    if (size > 0) {
        msgpack_pack_bin_body(pk, data, size);
    }
}

static void write_header(rollnet_replay_recorder *r, const uint8_t *state, size_t state_size)
{
    msgpack_packer *pk = &r->pk;
    const rollnet_session_desc *d = &r->params;
    msgpack_pack_map(pk, 11);
    pack_key(pk, RN_REPLAY_KEY_FORMAT);
    msgpack_pack_str(pk, strlen(RN_REPLAY_FORMAT));
    msgpack_pack_str_body(pk, RN_REPLAY_FORMAT, strlen(RN_REPLAY_FORMAT));
    pack_key(pk, RN_REPLAY_KEY_VERSION);
    msgpack_pack_int(pk, ROLLNET_REPLAY_VERSION);
    pack_key(pk, RN_REPLAY_KEY_KIND);
    msgpack_pack_str(pk, strlen(r->kind));
    msgpack_pack_str_body(pk, r->kind, strlen(r->kind));
    pack_key(pk, RN_REPLAY_KEY_NUM_PLAYERS);
    msgpack_pack_int(pk, d->num_players);
    pack_key(pk, RN_REPLAY_KEY_INPUT_SIZE);
    msgpack_pack_int(pk, d->input_size);
    pack_key(pk, RN_REPLAY_KEY_FPS);
    msgpack_pack_int(pk, d->fps);
    pack_key(pk, RN_REPLAY_KEY_GAME_ID);
    msgpack_pack_uint64(pk, d->game_id);
    pack_key(pk, RN_REPLAY_KEY_SEED);
    msgpack_pack_uint64(pk, d->seed);
    pack_key(pk, RN_REPLAY_KEY_GAME_PARAMS);
    pack_bin(pk, r->game_params, d->game_params_size);
    pack_key(pk, RN_REPLAY_KEY_SNAPSHOT_CAPACITY);
    msgpack_pack_uint64(pk, d->snapshot_capacity);
    pack_key(pk, RN_REPLAY_KEY_RECORD_CAPACITY);
    msgpack_pack_uint64(pk, d->record_capacity);
    pack_bin(pk, state, state_size);
    r->header_written = true;
}

rollnet_error rollnet_replay_recorder_write(rollnet_replay_recorder *r, const rollnet_record *rec)
{
    if (!r || !rec || !rec->inputs || (rec->size > 0 && !rec->data)) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (r->io_error) {
        return ROLLNET_ERR_IO;
    }
    if (rec->frame != r->next_frame) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    size_t end = 0;
    if (rec->size > 0 && (!rn_msgpack_measure(rec->data, rec->size, 0, &end) || end != rec->size)) {
        return ROLLNET_ERR_SNAPSHOT_READ;
    }
    if (!r->header_written) {
        const uint8_t *state = NULL;
        size_t state_size = 0;
        if (!rn_session_initial_state(r->session, &state, &state_size)) {
            return ROLLNET_ERR_NO_SNAPSHOT; /* cannot happen: record 0 follows SAVE 0 */
        }
        write_header(r, state, state_size);
    }
    msgpack_packer *pk = &r->pk;
    msgpack_pack_array(pk, 6);
    msgpack_pack_int32(pk, rec->frame);
    msgpack_pack_int32(pk, rec->episode);
    msgpack_pack_int32(pk, rec->step);
    if (rec->episode_end) {
        msgpack_pack_true(pk);
    } else {
        msgpack_pack_false(pk);
    }
    pack_bin(pk, rec->inputs, (size_t)r->params.num_players * (size_t)r->params.input_size);
    if (rec->size == 0) {
        msgpack_pack_nil(pk);
    } else {
        fwrite(rec->data, 1, rec->size, r->f); /* one whole value, checked above */
    }
    r->next_frame++;
    if (ferror(r->f)) {
        r->io_error = true;
        return ROLLNET_ERR_IO;
    }
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_replay_recorder_close(rollnet_replay_recorder *r)
{
    if (!r) {
        return ROLLNET_ERR_OK;
    }
    if (!r->header_written) {
        write_header(r, NULL, 0);
    }
    msgpack_pack_map(&r->pk, 1);
    pack_key(&r->pk, RN_REPLAY_KEY_FRAMES);
    msgpack_pack_int32(&r->pk, r->next_frame);
    bool failed = r->io_error || fflush(r->f) != 0 || ferror(r->f);
    if (fclose(r->f) != 0) {
        failed = true;
    }
    rollnet_allocator alloc = r->alloc;
    rn_free(&alloc, r);
    return failed ? ROLLNET_ERR_IO : ROLLNET_ERR_OK;
}
