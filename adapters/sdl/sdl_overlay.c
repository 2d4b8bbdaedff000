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

/* The overlay's geometry and text for its current content, shared by
 * rollnet_sdl_overlay_size and rollnet_sdl_overlay_draw so the size reported
 * is the area drawn. Every measure is a multiple of the scale s: at s = 2
 * (the default) a 2-pixel font pixel, 4-pixel padding, 14-pixel lines, a
 * 40-pixel graph with one column per sample. */
enum { OV_MAX_LINES = 4 };

typedef struct ov_layout {
    char text[OV_MAX_LINES][32];
    int lines;
    int s, pad, line, graph_w, graph_h;
    int w, h;
} ov_layout;

static int ov_scale(const rollnet_sdl_overlay *o)
{
    if (o->scale <= 0)
        return ROLLNET_SDL_OVERLAY_DEFAULT_SCALE;
    return o->scale > ROLLNET_SDL_OVERLAY_MAX_SCALE ? ROLLNET_SDL_OVERLAY_MAX_SCALE : o->scale;
}

static bool ov_has_status(const rollnet_sdl_overlay *o)
{
    return o->interrupted || o->peer_loading || !o->running;
}

static void ov_layout_of(const rollnet_sdl_overlay *o, ov_layout *L)
{
    int s = ov_scale(o);
    L->s = s;
    L->pad = 2 * s;
    L->line = 7 * s;
    L->graph_w = ROLLNET_SDL_OVERLAY_HISTORY * s / 2;
    L->graph_h = 20 * s;
    L->lines = 0;
    if (o->have_peer)
        snprintf(L->text[L->lines++], sizeof L->text[0], "PING %u MS", (unsigned)o->rtt_ms);
    else
        snprintf(L->text[L->lines++], sizeof L->text[0], "PING -");
    if (o->have_peer)
        snprintf(L->text[L->lines++], sizeof L->text[0], "AHEAD %d", (int)o->frames_ahead);
    else
        snprintf(L->text[L->lines++], sizeof L->text[0], "AHEAD -");
    snprintf(L->text[L->lines++], sizeof L->text[0], "ROLLBACK MAX %d", (int)o->max_depth);
    if (ov_has_status(o))
        snprintf(L->text[L->lines++], sizeof L->text[0], "%s",
                 o->peer_loading  ? "PEER LOADING"
                 : o->interrupted ? "INTERRUPTED"
                                  : "WAITING");
    int inner = L->graph_w;
    for (int i = 0; i < L->lines; i++) {
        int tw = rollnet_sdl_text_width(L->text[i], s);
        if (tw > inner)
            inner = tw;
    }
    L->w = inner + 2 * L->pad;
    /* pad, the text lines, pad, the graph with its baseline as its last
     * row, pad. */
    L->h = 3 * L->pad + L->lines * L->line + L->graph_h;
}

void rollnet_sdl_overlay_size(const rollnet_sdl_overlay *o, int *w, int *h)
{
    ov_layout L = {.w = 0, .h = 0};
    if (o && o->visible)
        ov_layout_of(o, &L);
    if (w)
        *w = L.w;
    if (h)
        *h = L.h;
}

/* The rollback-depth history, oldest sample on the left; sample slot k of
 * the ring's HISTORY slots takes columns k*s/2 .. (k+1)*s/2, at least one, so
 * at scale 1 two samples share a column and the deeper one shows. */
static void ov_draw_graph(const rollnet_sdl_overlay *o, SDL_Renderer *r, const ov_layout *L,
                          int gx, int base)
{
    SDL_SetRenderDrawColor(r, 90, 90, 90, 255);
    SDL_RenderDrawLine(r, gx, base, gx + L->graph_w - 1, base);
    for (int i = 0; i < o->count; i++) {
        int idx = (o->head - o->count + i + ROLLNET_SDL_OVERLAY_HISTORY) %
                  ROLLNET_SDL_OVERLAY_HISTORY;
        int d = o->depth[idx];
        if (d == 0)
            continue;
        int bh = d * L->graph_h / ROLLNET_MAX_PREDICTION;
        if (bh > L->graph_h)
            bh = L->graph_h;
        if (bh < 1)
            bh = 1;
        if (d >= ROLLNET_MAX_PREDICTION)
            SDL_SetRenderDrawColor(r, 240, 80, 80, 255);
        else
            SDL_SetRenderDrawColor(r, 120, 200, 255, 255);
        int k = ROLLNET_SDL_OVERLAY_HISTORY - o->count + i;
        int x0 = k * L->s / 2, x1 = (k + 1) * L->s / 2;
        SDL_Rect bar = {gx + x0, base - bh, x1 > x0 ? x1 - x0 : 1, bh};
        SDL_RenderFillRect(r, &bar);
    }
}

void rollnet_sdl_overlay_draw(const rollnet_sdl_overlay *o, SDL_Renderer *r, int x, int y)
{
    if (!o || !r || !o->visible)
        return;
    ov_layout L;
    ov_layout_of(o, &L);

    /* The game's renderer state, put back before returning. */
    SDL_BlendMode old_mode;
    Uint8 old_r, old_g, old_b, old_a;
    if (SDL_GetRenderDrawBlendMode(r, &old_mode) != 0 ||
        SDL_GetRenderDrawColor(r, &old_r, &old_g, &old_b, &old_a) != 0)
        return;

    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(r, 0, 0, 0,
                           o->background_alpha ? o->background_alpha
                                               : ROLLNET_SDL_OVERLAY_DEFAULT_ALPHA);
    SDL_Rect bg = {x, y, L.w, L.h};
    SDL_RenderFillRect(r, &bg);

    /* Text and graph are opaque, so they stay readable over any picture. */
    int ty = y + L.pad;
    for (int i = 0; i < L.lines; i++, ty += L.line) {
        if (i == 3)
            SDL_SetRenderDrawColor(r, 255, 200, 60, 255);
        else
            SDL_SetRenderDrawColor(r, 230, 230, 230, 255);
        rollnet_sdl_draw_text(r, x + L.pad, ty, L.s, L.text[i]);
    }
    ov_draw_graph(o, r, &L, x + L.pad, y + 2 * L.pad + L.lines * L.line + L.graph_h);

    SDL_SetRenderDrawBlendMode(r, old_mode);
    SDL_SetRenderDrawColor(r, old_r, old_g, old_b, old_a);
}
