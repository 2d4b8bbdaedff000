/* gridworld's frame loop, the heart of the template. Each tick polls the
 * session, adds the local players' inputs, advances, and carries out the
 * request list (save, load, advance the simulation); the run loop paces the
 * ticks, pumps SDL's events, decides when the run is over, and asks
 * render.c to draw. --loading-pause's blocking load lives here too, because
 * it interrupts the ticks. */
#include <inttypes.h>

#include "block.h"
#include "loop.h"
#include "net.h"
#include "render.h"

/* After the last episode, how long finishing may take (every peer saying it
 * holds every frame) before the run fails; longer than the disconnect
 * timeout, so a peer that vanished is reported as gone first. */
#define FINISH_WAIT_MS 15000u
/* After the last frame ran, how long its confirmation may take before the run
 * fails; longer than the session's episode and disconnect timeouts. */
#define FINAL_WAIT_MS 15000u
/* --loading-pause: longest time given to the loading notice to reach the peer
 * (and its acknowledgement to come back) before blocking. */
#define LOADING_ACK_WAIT_MS 2000u

/* ------------------------------------------------------------------------ */
/* Inputs                                                                    */
/* ------------------------------------------------------------------------ */

void loop_setup_inputs(game *g)
{
    const options *o = &g->opt;
    for (int p = 0; p < GW_MAX_PLAYERS; p++) {
        rollnet_sdl_input_init(&g->keys[p]);
        g->source[p] = o->bot ? SRC_BOT : SRC_KEYBOARD;
        gw_bot_init(&g->bots[p], o->bot_seed + (uint64_t)(o->synctest ? p : 0));
    }
    if (o->synctest && !o->bot) {
        /* Two players on one keyboard: WASD for player 0, arrows for player 1;
         * the controller (d-pad) joins player 0. */
        static const rollnet_sdl_key_binding wasd[] = {
            {SDLK_w, GW_IN_UP}, {SDLK_s, GW_IN_DOWN}, {SDLK_a, GW_IN_LEFT}, {SDLK_d, GW_IN_RIGHT}};
        static const rollnet_sdl_key_binding arrows[] = {{SDLK_UP, GW_IN_UP},
                                                         {SDLK_DOWN, GW_IN_DOWN},
                                                         {SDLK_LEFT, GW_IN_LEFT},
                                                         {SDLK_RIGHT, GW_IN_RIGHT}};
        const rollnet_sdl_bindings *def = rollnet_sdl_default_bindings();
        rollnet_sdl_bindings b0 = {wasd, 4, def->buttons, def->num_buttons};
        rollnet_sdl_bindings b1 = {arrows, 4, NULL, 0};
        (void)rollnet_sdl_input_set_bindings(&g->keys[0], &b0);
        (void)rollnet_sdl_input_set_bindings(&g->keys[1], &b1);
        g->keys[1].open_controllers = false;
        /* Players 2 and 3 have no keys: they stand still. */
        rollnet_sdl_bindings none = {NULL, 0, NULL, 0};
        for (int p = 2; p < GW_MAX_PLAYERS; p++) {
            (void)rollnet_sdl_input_set_bindings(&g->keys[p], &none);
            g->keys[p].open_controllers = false;
        }
    }
}

static uint8_t local_input(game *g, int player)
{
    if (g->source[player] == SRC_BOT)
        return gw_bot_input(&g->bots[player], &g->state, player);
    /* The adapter gives neutral input while the window is unfocused. */
    return (uint8_t)rollnet_sdl_input_bits(&g->keys[player]);
}

/* ------------------------------------------------------------------------ */
/* --loading-pause                                                           */
/* ------------------------------------------------------------------------ */

/* Longest time the network simulator may hold one outgoing message. */
static uint64_t netsim_hold_ms(const char *spec)
{
    rollnet_netsim_desc d;
    if (rollnet_netsim_parse(spec, &d) != ROLLNET_ERR_OK)
        return 0;
    uint64_t reorder = d.reorder_permille ? (d.reorder_ms ? d.reorder_ms : 2u * d.delay_ms + 10u) : 0;
    return (uint64_t)d.delay_ms + d.jitter_ms + reorder + 10u;
}

/* --loading-pause: tell the peer, block as a level load would, come back. */
static void loading_pause(game *g)
{
    g->loading_due = false;
    uint32_t ms = (uint32_t)(g->opt.loading_pause * 1000.0 + 0.5);
    rollnet_error err = rollnet_session_begin_loading(g->session, app_now_ms());
    if (err != ROLLNET_ERR_OK && err != ROLLNET_ERR_WRONG_SESSION_KIND) {
        app_fail(g, "begin_loading failed: %s", rollnet_error_string(err));
        return;
    }
    app_peer_log(g, "loading", ms);
    /* Block only once the peer has had time to acknowledge the notice: the
     * peer then knows to wait, and nothing reliable is left in flight that
     * the transport could time out on while we are not servicing it. The
     * network simulator holds outgoing messages for their delay and releases
     * them only from later calls, so it gets those calls too. */
    rollnet_peer_stats ps;
    uint64_t rtt = rollnet_session_peer_stats(g->session, g->remote, &ps) == ROLLNET_ERR_OK
                       ? ps.rtt_ms
                       : 0;
    uint64_t wait = (g->opt.netsim ? 2 * netsim_hold_ms(g->opt.netsim) : 0) + 2 * rtt + 50;
    if (wait > LOADING_ACK_WAIT_MS)
        wait = LOADING_ACK_WAIT_MS;
    for (uint64_t start = app_now_ms(); app_now_ms() - start < wait;) {
        (void)rollnet_session_poll(g->session, app_now_ms());
        SDL_Delay(1);
    }
    SDL_Delay(ms);
    err = rollnet_session_end_loading(g->session, app_now_ms());
    if (err != ROLLNET_ERR_OK && err != ROLLNET_ERR_WRONG_SESSION_KIND) {
        app_fail(g, "end_loading failed: %s", rollnet_error_string(err));
        return;
    }
    app_peer_log(g, "loading_ended", ms);
    /* The block was deliberate: do not fast-forward through it. */
    rollnet_sdl_pacer_reset(&g->pacer);
}

/* ------------------------------------------------------------------------ */
/* rollnet: one frame                                                        */
/* ------------------------------------------------------------------------ */

/* rollnet: the request list, carried out in order. */
static rollnet_error carry_out(game *g, const rollnet_request *reqs, int n)
{
    for (int i = 0; i < n; i++) {
        const rollnet_request *q = &reqs[i];
        rollnet_error err = ROLLNET_ERR_OK;
        switch (q->type) {
        case ROLLNET_REQUEST_SAVE: {
            rollnet_writer *w = rollnet_session_save_begin(g->session, q);
            if (!w)
                return ROLLNET_ERR_WRONG_REQUEST;
            gw_save(&g->state, w);
            err = rollnet_session_save_end(g->session, q);
            break;
        }
        case ROLLNET_REQUEST_LOAD: {
            rollnet_reader *r = rollnet_session_load_begin(g->session, q);
            if (!r)
                return ROLLNET_ERR_WRONG_REQUEST;
            bool ok = gw_load(&g->state, r);
            err = rollnet_session_load_end(g->session, q);
            if (err == ROLLNET_ERR_OK && !ok)
                err = ROLLNET_ERR_SNAPSHOT_READ;
            break;
        }
        case ROLLNET_REQUEST_ADVANCE: {
            bool ended = gw_step(&g->state, &g->cfg, q->inputs);
            rollnet_writer *w = rollnet_session_record_begin(g->session, q);
            if (w)
                gw_write_record(&g->state, w);
            err = rollnet_session_advance_end(g->session, q, ended ? ROLLNET_STEP_EPISODE_END : 0);
            g->render_ok = !(q->flags & (ROLLNET_REQUEST_REPLAY | ROLLNET_REQUEST_FAST_FORWARD));
            if ((int64_t)q->frame >= (int64_t)g->opt.episodes * g->opt.max_steps)
                app_fail(g, "frame %" PRId32 " ran past the last episode", q->frame);
            break;
        }
        }
        if (err != ROLLNET_ERR_OK)
            return err;
    }
    return ROLLNET_ERR_OK;
}

/* The errors that mean the frame cannot run yet (stalled on the prediction
 * limit, held at the episode barrier, not running yet): skip it and keep
 * polling and rendering. */
static bool frame_must_wait(rollnet_error err)
{
    return err == ROLLNET_ERR_PREDICTION_LIMIT || err == ROLLNET_ERR_EPISODE_BARRIER ||
           err == ROLLNET_ERR_NOT_RUNNING || err == ROLLNET_ERR_FINISHED;
}

/* rollnet: every local player's input for the next frame (neutral ones once
 * the last frame ran). False when the frame is not to be advanced. */
static bool add_local_inputs(game *g, bool neutral)
{
    for (int i = 0; i < g->num_local; i++) {
        int p = g->local[i];
        uint8_t in = neutral ? 0 : local_input(g, p);
        rollnet_error err = rollnet_session_add_local_input(g->session, p, &in, 1);
        if (frame_must_wait(err))
            return false;
        if (err != ROLLNET_ERR_OK) {
            app_fail(g, "add_local_input failed: %s", rollnet_error_string(err));
            return false;
        }
    }
    return true;
}

/* rollnet: advance and carry out the requests; then the events and records
 * they produced. */
static void advance_frame(game *g)
{
    const rollnet_request *reqs;
    int n = 0;
    rollnet_error err = rollnet_session_advance(g->session, &reqs, &n);
    if (frame_must_wait(err))
        return;
    if (err != ROLLNET_ERR_OK) {
        app_fail(g, "advance failed: %s", rollnet_error_string(err));
        return;
    }
    err = carry_out(g, reqs, n);
    if (err == ROLLNET_ERR_DESYNC) {
        rollnet_desync_info d;
        if (rollnet_session_desync_info(g->session, &d) == ROLLNET_ERR_OK && g->replay)
            app_fail(g, "frame %" PRId32 " differs from the recording (the peer log says how)",
                     d.frame);
        else if (rollnet_session_desync_info(g->session, &d) == ROLLNET_ERR_OK)
            app_fail(g, "sync test desync at frame %" PRId32 " (straight run %016" PRIx64
                        ", replay %016" PRIx64 ")",
                     d.frame, d.first_checksum, d.second_checksum);
        else
            app_fail(g, "sync test desync");
        return;
    }
    if (err != ROLLNET_ERR_OK) {
        app_fail(g, "carrying out a request failed: %s", rollnet_error_string(err));
        return;
    }
    net_handle_events(g);
    net_drain_records(g);
}

static bool frames_left(game *g)
{
    rollnet_session_stats st;
    if (rollnet_session_stats_get(g->session, &st) != ROLLNET_ERR_OK)
        return false;
    return (int64_t)st.frame < (int64_t)g->opt.episodes * g->opt.max_steps;
}

/* One frame of the session: poll, events, inputs, advance, records. */
static void tick(game *g)
{
    rollnet_error err = rollnet_session_poll(g->session, app_now_ms());
    net_handle_events(g); /* first: an event says best why poll failed (the first reason wins) */
    if (err != ROLLNET_ERR_OK && err != ROLLNET_ERR_NOT_RUNNING)
        app_fail(g, "poll failed: %s", rollnet_error_string(err));
    net_drain_records(g);
    if (g->done || g->finished)
        return;
    if (g->complete && !g->finish_called && !g->opt.spectate) {
        /* Every episode is confirmed here: finish, so the peers' ledgers end
         * at the same frame and nobody leaves before the others hold it all. */
        g->finish_called = true;
        err = rollnet_session_finish(g->session);
        if (err != ROLLNET_ERR_OK)
            app_fail(g, "finish failed: %s", rollnet_error_string(err));
        if (g->done)
            return;
    }
    if (g->complete) {
        /* Finishing: advance on (the inputs are ignored) so that rollbacks
         * still run, until every peer says it holds every frame. */
        if (app_now_ms() - g->complete_ms > FINISH_WAIT_MS)
            app_fail(g, "the peers did not finish within %u s", FINISH_WAIT_MS / 1000u);
        else if (add_local_inputs(g, true))
            advance_frame(g);
        return;
    }
    if (g->loading_due) {
        loading_pause(g);
        return;
    }
    /* After the last episode's last frame, keep calling add_local_input and
     * advance anyway: the episode barrier refuses new frames, but a rollback
     * still pending is handed out alone and must run before the last records
     * can be confirmed. */
    bool last_frame_ran = !frames_left(g);
    if (last_frame_ran) {
        uint64_t now = app_now_ms();
        if (g->final_wait_since == 0)
            g->final_wait_since = now;
        else if (now - g->final_wait_since > FINAL_WAIT_MS)
            app_fail(g, "the end of episode %d was not confirmed within %u s",
                     g->opt.episodes - 1, FINAL_WAIT_MS / 1000u);
        if (g->done || g->final_timeout)
            return;
    }
    if (add_local_inputs(g, last_frame_ran))
        advance_frame(g);
}

/* ------------------------------------------------------------------------ */
/* The run loop                                                              */
/* ------------------------------------------------------------------------ */

static void pump_sdl_events(game *g)
{
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) {
        if (ev.type == SDL_QUIT ||
            (ev.type == SDL_KEYDOWN && ev.key.keysym.sym == SDLK_ESCAPE)) {
            /* The peer hears "left the session" rather than a lost connection. */
            (void)rollnet_session_leave(g->session);
            app_fail(g, "quit before the episodes completed");
            return;
        }
        rollnet_sdl_overlay_handle_event(&g->overlay, &ev);
        rollnet_sdl_window_change c = rollnet_sdl_focus_handle_event(&g->focus, &ev);
        if (c != ROLLNET_SDL_WINDOW_NONE) {
            rollnet_session_stats st;
            int64_t frame = rollnet_session_stats_get(g->session, &st) == ROLLNET_ERR_OK
                                ? st.frame
                                : -1;
            app_peer_log(g, rollnet_sdl_window_change_string(c), frame);
        }
        for (int i = 0; i < g->num_local; i++)
            rollnet_sdl_input_handle_event(&g->keys[g->local[i]], &ev);
    }
}

void loop_run(game *g)
{
    rollnet_sdl_pacer_init(&g->pacer, g->opt.fps);
    while (!g->done) {
        block_maybe(g); /* --block-at */
        int due = rollnet_sdl_pacer_wait(&g->pacer);
        if (due > 1)
            app_peer_log(g, "catch_up", due);
        pump_sdl_events(g);
        /* After a stall the pacer hands out several frames at once (at most
         * ROLLNET_SDL_PACER_MAX_CATCH_UP): run them all, draw only the last. */
        for (int k = 0; k < due && !g->done; k++) {
            tick(g);
            rollnet_sdl_overlay_sample(&g->overlay, g->session, g->remote);
        }
        if ((g->complete || g->replay) && !g->done && (g->finished || g->peer_gone))
            g->done = true; /* every peer holds every record (or is gone); a replay ended */
        if (g->renderer && g->render_ok)
            render_frame(g);
    }
}
