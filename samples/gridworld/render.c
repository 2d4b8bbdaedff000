/* gridworld's drawing with SDL's 2D renderer and the SDL adapter's text and
 * network overlay: a HUD (scores, episode, step, time left), the grid with
 * items and players, a status line while the game is not simply running, and
 * a panel below the grid for the network overlay, so it never covers a cell.
 * It only reads the app; replace it with your game's renderer. */
#include <stdio.h>

#include "render.h"

#define CELL 48
#define HUD 48
#define WIN_W (GW_WIDTH * CELL)
#define WIN_H (GW_HEIGHT * CELL + HUD) /* HUD and grid; the overlay panel is below */
#define PANEL_MARGIN 8

static const SDL_Color player_colors[GW_MAX_PLAYERS] = {
    {70, 150, 255, 255}, {255, 140, 60, 255}, {90, 210, 110, 255}, {220, 90, 200, 255}};

/* Height of the panel under the grid: the overlay at its tallest (with the
 * status line) plus margins, so it fits whatever the overlay shows. */
static int panel_height(const rollnet_sdl_overlay *overlay)
{
    rollnet_sdl_overlay tallest = *overlay;
    tallest.visible = true;
    tallest.running = false;
    int h;
    rollnet_sdl_overlay_size(&tallest, NULL, &h);
    return h + 2 * PANEL_MARGIN;
}

int render_open(game *g)
{
    if (g->opt.headless)
        return 0;
    char title[128];
    if (g->opt.synctest)
        snprintf(title, sizeof title, "rollnet gridworld - sync test");
    else if (g->opt.host_port)
        snprintf(title, sizeof title, "rollnet gridworld - host :%d (player 0)", g->opt.host_port);
    else
        snprintf(title, sizeof title, "rollnet gridworld - joined %s (player 1)", g->opt.join);
    g->window = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, WIN_W,
                                 WIN_H + panel_height(&g->overlay), 0);
    if (!g->window) {
        fprintf(stderr, "gridworld: cannot open a window: %s (try --headless)\n", SDL_GetError());
        return 1;
    }
    /* No vsync: the pacer sets the frame rate, which both peers share. */
    g->renderer = SDL_CreateRenderer(g->window, -1, 0);
    if (!g->renderer) {
        fprintf(stderr, "gridworld: cannot create a renderer: %s\n", SDL_GetError());
        return 1;
    }
    return 0;
}

void render_close(game *g)
{
    if (g->renderer)
        SDL_DestroyRenderer(g->renderer);
    if (g->window)
        SDL_DestroyWindow(g->window);
}

static void fill(SDL_Renderer *r, int x, int y, int w, int h)
{
    SDL_Rect rc = {x, y, w, h};
    SDL_RenderFillRect(r, &rc);
}

/* Score bars and numbers, episode and step, time left. Players 0 and 2
 * on the left of the centre text, 1 and 3 on the right (0 and 1 at the
 * edges); with more than two players the text is smaller to fit. */
static void draw_hud(const game *g, SDL_Renderer *r)
{
    const gw_state *s = &g->state;
    char text[64];
    int n = s->num_players;
    int scale = n > 2 ? 2 : 3;
    int slot = n > 2 ? WIN_W / 5 : WIN_W / 2 - 16; /* width one player's score may use */
    for (int p = 0; p < n; p++) {
        SDL_Color c = player_colors[p];
        SDL_SetRenderDrawColor(r, c.r, c.g, c.b, 255);
        snprintf(text, sizeof text, "P%d %d", p, (int)s->players[p].score);
        bool left = p % 2 == 0;
        int inset = 8 + (p / 2) * (slot + 8); /* from its edge */
        int x = left ? inset : WIN_W - inset - rollnet_sdl_text_width(text, scale);
        rollnet_sdl_draw_text(r, x, 6, scale, text);
        int bar = s->players[p].score * 4;
        if (bar > slot)
            bar = slot;
        fill(r, left ? inset : WIN_W - inset - bar, 28, bar, 6);
        bool local = false;
        for (int i = 0; i < g->num_local; i++)
            local = local || g->local[i] == p;
        if (local && g->num_local == 1) {
            const char *you = "YOU";
            int yx = left ? inset : WIN_W - inset - rollnet_sdl_text_width(you, 1);
            rollnet_sdl_draw_text(r, yx, 38, 1, you);
        }
    }
    SDL_SetRenderDrawColor(r, 200, 200, 200, 255);
    snprintf(text, sizeof text, "EPISODE %d/%d", (int)s->episode + 1, g->opt.episodes);
    rollnet_sdl_draw_text(r, (WIN_W - rollnet_sdl_text_width(text, 2)) / 2, 6, 2, text);
    snprintf(text, sizeof text, "STEP %d/%d", (int)s->step, (int)g->cfg.max_steps);
    rollnet_sdl_draw_text(r, (WIN_W - rollnet_sdl_text_width(text, 2)) / 2, 22, 2, text);
    /* Time left in the episode as a thin bar. */
    SDL_SetRenderDrawColor(r, 90, 90, 110, 255);
    fill(r, 0, HUD - 4, WIN_W - WIN_W * s->step / (g->cfg.max_steps ? g->cfg.max_steps : 1), 3);
}

/* The grid lines, the items and the players. */
static void draw_board(const gw_state *s, SDL_Renderer *r)
{
    /* Grid. */
    SDL_SetRenderDrawColor(r, 44, 48, 58, 255);
    for (int x = 0; x <= GW_WIDTH; x++)
        SDL_RenderDrawLine(r, x * CELL, HUD, x * CELL, WIN_H);
    for (int y = 0; y <= GW_HEIGHT; y++)
        SDL_RenderDrawLine(r, 0, HUD + y * CELL, WIN_W, HUD + y * CELL);

    /* Items. */
    SDL_SetRenderDrawColor(r, 250, 210, 60, 255);
    for (int i = 0; i < GW_ITEMS; i++)
        fill(r, s->item_x[i] * CELL + CELL / 2 - 7, HUD + s->item_y[i] * CELL + CELL / 2 - 7, 14,
             14);

    /* Players; those on one cell share it side by side. */
    for (int p = 0; p < s->num_players; p++) {
        int here = 0, before = 0;
        for (int q = 0; q < s->num_players; q++) {
            if (s->players[q].x == s->players[p].x && s->players[q].y == s->players[p].y) {
                here++;
                before += q < p;
            }
        }
        SDL_Color c = player_colors[p];
        SDL_SetRenderDrawColor(r, c.r, c.g, c.b, 255);
        int px = s->players[p].x * CELL + 6, py = HUD + s->players[p].y * CELL + 6;
        int w = (CELL - 12) / here;
        px += before * w;
        fill(r, px, py, w, CELL - 12);
        if (s->players[p].reward) {
            SDL_SetRenderDrawColor(r, 255, 255, 255, 255);
            SDL_Rect rc = {px - 2, py - 2, w + 4, CELL - 8};
            SDL_RenderDrawRect(r, &rc);
        }
    }
}

/* Status text over the grid while the game is not simply running. */
static void draw_status(const game *g, SDL_Renderer *r)
{
    const char *status = NULL;
    if (g->complete)
        status = "DONE";
    else if (!g->running)
        status = g->opt.host_port ? (g->opt.players > 2 ? "WAITING FOR PLAYERS" : "WAITING FOR PEER")
                                   : "CONNECTING";
    else if (g->overlay.peer_loading)
        status = "PEER LOADING";
    else if (g->overlay.interrupted)
        status = "CONNECTION INTERRUPTED";
    if (status) {
        int tw = rollnet_sdl_text_width(status, 4);
        SDL_SetRenderDrawColor(r, 0, 0, 0, 255);
        fill(r, (WIN_W - tw) / 2 - 10, HUD + GW_HEIGHT * CELL / 2 - 20, tw + 20, 40);
        SDL_SetRenderDrawColor(r, 255, 255, 255, 255);
        rollnet_sdl_draw_text(r, (WIN_W - tw) / 2, HUD + GW_HEIGHT * CELL / 2 - 10, 4, status);
    }
}

/* The network overlay in the panel below the grid, bottom-left; a hint
 * while it is hidden. */
static void draw_panel(const game *g, SDL_Renderer *r)
{
    int panel_h = panel_height(&g->overlay);
    SDL_SetRenderDrawColor(r, 16, 17, 22, 255);
    fill(r, 0, WIN_H + 1, WIN_W, panel_h - 1);
    int w, h;
    rollnet_sdl_overlay_size(&g->overlay, &w, &h);
    if (w == 0) {
        const char *hint = "F1 NETWORK";
        SDL_SetRenderDrawColor(r, 70, 74, 86, 255);
        rollnet_sdl_draw_text(r, PANEL_MARGIN, WIN_H + panel_h - PANEL_MARGIN - 10, 2, hint);
        return;
    }
    rollnet_sdl_overlay_draw(&g->overlay, r, PANEL_MARGIN, WIN_H + panel_h - PANEL_MARGIN - h);
}

void render_frame(const game *g)
{
    SDL_Renderer *r = g->renderer;
    SDL_SetRenderDrawColor(r, 24, 26, 32, 255);
    SDL_RenderClear(r);
    draw_hud(g, r);
    draw_board(&g->state, r);
    draw_status(g, r);
    draw_panel(g, r);
    SDL_RenderPresent(r);
}
