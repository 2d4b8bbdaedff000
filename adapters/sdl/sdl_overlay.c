/* Network overlay and a 3x5 bitmap font drawn with SDL_RenderFillRect, so the
 * adapter needs no font library. */
#include <SDL.h>
#include <stdio.h>
#include <string.h>

#include "rollnet/rollnet_sdl.h"

/* Each glyph: 5 rows of 3 pixels, top row first, '#' = lit. */
typedef struct glyph {
    char c;
    const char *rows;
} glyph;

static const glyph font[] = {
    {'0', "###" "#.#" "#.#" "#.#" "###"}, {'1', ".#." "##." ".#." ".#." "###"},
    {'2', "###" "..#" "###" "#.." "###"}, {'3', "###" "..#" ".##" "..#" "###"},
    {'4', "#.#" "#.#" "###" "..#" "..#"}, {'5', "###" "#.." "###" "..#" "###"},
    {'6', "###" "#.." "###" "#.#" "###"}, {'7', "###" "..#" ".#." ".#." ".#."},
    {'8', "###" "#.#" "###" "#.#" "###"}, {'9', "###" "#.#" "###" "..#" "###"},
    {'A', ".#." "#.#" "###" "#.#" "#.#"}, {'B', "##." "#.#" "##." "#.#" "##."},
    {'C', ".##" "#.." "#.." "#.." ".##"}, {'D', "##." "#.#" "#.#" "#.#" "##."},
    {'E', "###" "#.." "##." "#.." "###"}, {'F', "###" "#.." "##." "#.." "#.."},
    {'G', ".##" "#.." "#.#" "#.#" ".##"}, {'H', "#.#" "#.#" "###" "#.#" "#.#"},
    {'I', "###" ".#." ".#." ".#." "###"}, {'J', "..#" "..#" "..#" "#.#" ".#."},
    {'K', "#.#" "#.#" "##." "#.#" "#.#"}, {'L', "#.." "#.." "#.." "#.." "###"},
    {'M', "#.#" "###" "###" "#.#" "#.#"}, {'N', "##." "#.#" "#.#" "#.#" "#.#"},
    {'O', ".#." "#.#" "#.#" "#.#" ".#."}, {'P', "##." "#.#" "##." "#.." "#.."},
    {'Q', ".#." "#.#" "#.#" "##." ".##"}, {'R', "##." "#.#" "##." "#.#" "#.#"},
    {'S', ".##" "#.." ".#." "..#" "##."}, {'T', "###" ".#." ".#." ".#." ".#."},
    {'U', "#.#" "#.#" "#.#" "#.#" "###"}, {'V', "#.#" "#.#" "#.#" "#.#" ".#."},
    {'W', "#.#" "#.#" "###" "###" "#.#"}, {'X', "#.#" "#.#" ".#." "#.#" "#.#"},
    {'Y', "#.#" "#.#" ".#." ".#." ".#."}, {'Z', "###" "..#" ".#." "#.." "###"},
    {'-', "..." "..." "###" "..." "..."}, {'+', "..." ".#." "###" ".#." "..."},
    {':', "..." ".#." "..." ".#." "..."}, {'.', "..." "..." "..." "..." ".#."},
    {'/', "..#" "..#" ".#." "#.." "#.."}, {'%', "#.#" "..#" ".#." "#.." "#.#"},
    {'(', ".#." "#.." "#.." "#.." ".#."}, {')', ".#." "..#" "..#" "..#" ".#."},
};

static const char *glyph_rows(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    for (size_t i = 0; i < sizeof font / sizeof font[0]; i++) {
        if (font[i].c == c)
            return font[i].rows;
    }
    return NULL;
}

int rollnet_sdl_text_width(const char *text, int scale)
{
    if (!text || scale <= 0)
        return 0;
    size_t n = strlen(text);
    return n == 0 ? 0 : (int)(n * 4 - 1) * scale;
}

void rollnet_sdl_draw_text(SDL_Renderer *r, int x, int y, int scale, const char *text)
{
    if (!r || !text || scale <= 0)
        return;
    for (const char *c = text; *c; c++, x += 4 * scale) {
        const char *rows = glyph_rows(*c);
        if (!rows)
            continue;
        for (int row = 0; row < 5; row++) {
            for (int col = 0; col < 3; col++) {
                if (rows[row * 3 + col] != '#')
                    continue;
                SDL_Rect px = {x + col * scale, y + row * scale, scale, scale};
                SDL_RenderFillRect(r, &px);
            }
        }
    }
}

void rollnet_sdl_overlay_init(rollnet_sdl_overlay *o)
{
    memset(o, 0, sizeof *o);
    o->toggle_key = SDLK_F1;
}

bool rollnet_sdl_overlay_handle_event(rollnet_sdl_overlay *o, const SDL_Event *ev)
{
    if (!o || !ev || ev->type != SDL_KEYDOWN || ev->key.repeat ||
        ev->key.keysym.sym != o->toggle_key)
        return false;
    o->visible = !o->visible;
    return true;
}

void rollnet_sdl_overlay_sample(rollnet_sdl_overlay *o, const rollnet_session *s, int remote_player)
{
    if (!o || !s)
        return;
    rollnet_session_stats st;
    if (rollnet_session_stats_get(s, &st) == ROLLNET_ERR_OK) {
        /* Frames resimulated since the last sample: the depth of the
         * rollbacks run during this tick. */
        uint64_t d = o->have_last && st.frames_resimulated >= o->last_resimulated
                         ? st.frames_resimulated - o->last_resimulated
                         : 0;
        o->last_resimulated = st.frames_resimulated;
        o->have_last = true;
        o->depth[o->head] = (uint8_t)(d > 255 ? 255 : d);
        o->head = (o->head + 1) % ROLLNET_SDL_OVERLAY_HISTORY;
        if (o->count < ROLLNET_SDL_OVERLAY_HISTORY)
            o->count++;
        o->frame = st.frame;
        o->running = st.running;
        int32_t m = 0;
        for (int i = 0; i < o->count; i++) {
            if (o->depth[i] > m)
                m = o->depth[i];
        }
        o->max_depth = m;
    }
    rollnet_peer_stats ps;
    o->have_peer = remote_player >= 0 &&
                   rollnet_session_peer_stats(s, remote_player, &ps) == ROLLNET_ERR_OK;
    if (o->have_peer) {
        o->rtt_ms = ps.rtt_ms;
        o->frames_ahead = ps.local_frames_ahead;
        o->interrupted = ps.interrupted;
        o->peer_loading = ps.loading;
    } else {
        o->interrupted = false;
        o->peer_loading = false;
    }
}

enum { OV_SCALE = 2, OV_LINE = 7 * OV_SCALE, OV_BAR_H = 5, OV_GRAPH_H = 40 };

void rollnet_sdl_overlay_draw(const rollnet_sdl_overlay *o, SDL_Renderer *r, int x, int y)
{
    if (!o || !r || !o->visible)
        return;
    char line[64];
    int lines = 3 + (o->interrupted || o->peer_loading || !o->running ? 1 : 0);
    int w = ROLLNET_SDL_OVERLAY_HISTORY + 8;
    int h = lines * OV_LINE + OV_GRAPH_H + 12;

    SDL_BlendMode old;
    SDL_GetRenderDrawBlendMode(r, &old);
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(r, 0, 0, 0, 180);
    SDL_Rect bg = {x, y, w, h};
    SDL_RenderFillRect(r, &bg);
    SDL_SetRenderDrawBlendMode(r, old);

    int ty = y + 4;
    SDL_SetRenderDrawColor(r, 230, 230, 230, 255);
    if (o->have_peer)
        snprintf(line, sizeof line, "PING %u MS", (unsigned)o->rtt_ms);
    else
        snprintf(line, sizeof line, "PING -");
    rollnet_sdl_draw_text(r, x + 4, ty, OV_SCALE, line);
    ty += OV_LINE;
    if (o->have_peer)
        snprintf(line, sizeof line, "AHEAD %d", (int)o->frames_ahead);
    else
        snprintf(line, sizeof line, "AHEAD -");
    rollnet_sdl_draw_text(r, x + 4, ty, OV_SCALE, line);
    ty += OV_LINE;
    snprintf(line, sizeof line, "ROLLBACK MAX %d", (int)o->max_depth);
    rollnet_sdl_draw_text(r, x + 4, ty, OV_SCALE, line);
    ty += OV_LINE;
    if (o->interrupted || o->peer_loading || !o->running) {
        SDL_SetRenderDrawColor(r, 255, 200, 60, 255);
        rollnet_sdl_draw_text(r, x + 4, ty, OV_SCALE,
                              o->peer_loading  ? "PEER LOADING"
                              : o->interrupted ? "INTERRUPTED"
                                               : "WAITING");
        ty += OV_LINE;
    }

    /* Oldest sample on the left; one pixel column per tick. */
    int base = ty + 4 + OV_GRAPH_H;
    SDL_SetRenderDrawColor(r, 90, 90, 90, 255);
    SDL_RenderDrawLine(r, x + 4, base, x + 4 + ROLLNET_SDL_OVERLAY_HISTORY - 1, base);
    for (int i = 0; i < o->count; i++) {
        int idx = (o->head - o->count + i + ROLLNET_SDL_OVERLAY_HISTORY) %
                  ROLLNET_SDL_OVERLAY_HISTORY;
        int d = o->depth[idx];
        if (d == 0)
            continue;
        int bh = d * OV_BAR_H;
        if (bh > OV_GRAPH_H)
            bh = OV_GRAPH_H;
        if (d >= ROLLNET_MAX_PREDICTION)
            SDL_SetRenderDrawColor(r, 240, 80, 80, 255);
        else
            SDL_SetRenderDrawColor(r, 120, 200, 255, 255);
        SDL_Rect bar = {x + 4 + (ROLLNET_SDL_OVERLAY_HISTORY - o->count) + i, base - bh, 1, bh};
        SDL_RenderFillRect(r, &bar);
    }
}
