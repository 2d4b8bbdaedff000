/* SDL adapter overlay: its size, its translucent background and the renderer
 * state it leaves. Drawn with SDL's software renderer into a 320x240 surface
 * (no window, no video driver) and checked pixel by pixel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <cmocka.h>

#include "rollnet/rollnet_sdl.h"

#define VW 320
#define VH 240

/* The game's picture under the overlay. */
static const Uint8 BG_R = 200, BG_G = 120, BG_B = 60;

typedef struct canvas {
    SDL_Surface *surface;
    SDL_Renderer *r;
    Uint32 px[VW * VH]; /* ARGB8888, read back after drawing */
} canvas;

static canvas *canvas_new(void)
{
    canvas *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->surface = SDL_CreateRGBSurfaceWithFormat(0, VW, VH, 32, SDL_PIXELFORMAT_ARGB8888);
    assert_non_null(c->surface);
    c->r = SDL_CreateSoftwareRenderer(c->surface);
    assert_non_null(c->r);
    SDL_SetRenderDrawBlendMode(c->r, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(c->r, BG_R, BG_G, BG_B, 255);
    SDL_RenderClear(c->r);
    return c;
}

static void canvas_free(canvas *c)
{
    SDL_DestroyRenderer(c->r);
    SDL_FreeSurface(c->surface);
    free(c);
}

/* Runs the queued draw calls and copies the picture into c->px. */
static void canvas_read(canvas *c)
{
    assert_int_equal(
        SDL_RenderReadPixels(c->r, NULL, SDL_PIXELFORMAT_ARGB8888, c->px, VW * 4), 0);
}

static void rgb_at(const canvas *c, int x, int y, int *r, int *g, int *b)
{
    Uint32 p = c->px[y * VW + x];
    *r = (int)((p >> 16) & 0xff);
    *g = (int)((p >> 8) & 0xff);
    *b = (int)(p & 0xff);
}

static bool is_background(const canvas *c, int x, int y)
{
    int r, g, b;
    rgb_at(c, x, y, &r, &g, &b);
    return r == BG_R && g == BG_G && b == BG_B;
}

static bool inside(int px, int py, int x, int y, int w, int h)
{
    return px >= x && px < x + w && py >= y && py < y + h;
}

/* A visible overlay with a peer and some rollbacks in its history. */
static void sampled_overlay(rollnet_sdl_overlay *o)
{
    rollnet_sdl_overlay_init(o);
    o->visible = true;
    o->running = true;
    o->have_peer = true;
    o->rtt_ms = 48;
    o->frames_ahead = -1;
    for (int i = 0; i < ROLLNET_SDL_OVERLAY_HISTORY; i++)
        o->depth[i] = (uint8_t)(i % 11);
    o->count = ROLLNET_SDL_OVERLAY_HISTORY;
    o->head = 0;
    o->max_depth = 10;
}

/* Every pixel outside the reported rectangle keeps the game's colour and
 * every pixel inside it changed: the size is exactly the area drawn. */
static void check_covers_exactly(const canvas *c, int x, int y, int w, int h)
{
    int outside_changed = 0, inside_unchanged = 0;
    for (int py = 0; py < VH; py++) {
        for (int px = 0; px < VW; px++) {
            bool bg = is_background(c, px, py);
            if (inside(px, py, x, y, w, h))
                inside_unchanged += bg;
            else
                outside_changed += !bg;
        }
    }
    assert_int_equal(outside_changed, 0);
    assert_int_equal(inside_unchanged, 0);
}

static void test_overlay_size_is_exactly_the_area_drawn(void **state)
{
    (void)state;
    rollnet_sdl_overlay o;
    sampled_overlay(&o);
    for (int variant = 0; variant < 4; variant++) {
        o.scale = variant < 2 ? 0 : 1;
        o.running = variant % 2 == 0; /* not running adds the status line */
        int w = -1, h = -1;
        rollnet_sdl_overlay_size(&o, &w, &h);
        assert_true(w > 0 && h > 0);
        /* Bottom right with a 4-pixel margin, as a game would place it. */
        int x = VW - w - 4, y = VH - h - 4;
        canvas *c = canvas_new();
        rollnet_sdl_overlay_draw(&o, c->r, x, y);
        canvas_read(c);
        check_covers_exactly(c, x, y, w, h);
        canvas_free(c);
    }
}

static void test_overlay_background_is_blended_with_the_game(void **state)
{
    (void)state;
    rollnet_sdl_overlay o;
    sampled_overlay(&o);
    int w, h;
    rollnet_sdl_overlay_size(&o, &w, &h);
    canvas *c = canvas_new();
    rollnet_sdl_overlay_draw(&o, c->r, 10, 20);
    canvas_read(c);
    /* The top-left padding holds no text: only the background is there. */
    int r, g, b;
    rgb_at(c, 11, 21, &r, &g, &b);
    assert_false(r == BG_R && g == BG_G && b == BG_B); /* not the pure game */
    assert_false(r == 0 && g == 0 && b == 0);          /* not the pure overlay colour */
    /* Black at the default alpha over the game: game * (255 - a) / 255. */
    int keep = 255 - ROLLNET_SDL_OVERLAY_DEFAULT_ALPHA;
    assert_in_range(r, BG_R * keep / 255 - 2, BG_R * keep / 255 + 2);
    assert_in_range(g, BG_G * keep / 255 - 2, BG_G * keep / 255 + 2);
    assert_in_range(b, BG_B * keep / 255 - 2, BG_B * keep / 255 + 2);
    /* The text is drawn opaque: some pixel inside is the text colour. */
    int text = 0;
    for (int py = 20; py < 20 + h; py++) {
        for (int px = 10; px < 10 + w; px++) {
            int tr, tg, tb;
            rgb_at(c, px, py, &tr, &tg, &tb);
            text += tr == 230 && tg == 230 && tb == 230;
        }
    }
    assert_true(text > 0);
    canvas_free(c);
}

static void test_overlay_background_alpha_is_configurable(void **state)
{
    (void)state;
    rollnet_sdl_overlay o;
    sampled_overlay(&o);
    int r, g, b;

    o.background_alpha = 255; /* opaque: the old, hiding look */
    canvas *c = canvas_new();
    rollnet_sdl_overlay_draw(&o, c->r, 0, 0);
    canvas_read(c);
    rgb_at(c, 1, 1, &r, &g, &b);
    assert_true(r == 0 && g == 0 && b == 0);
    canvas_free(c);

    o.background_alpha = 32; /* mostly the game */
    c = canvas_new();
    rollnet_sdl_overlay_draw(&o, c->r, 0, 0);
    canvas_read(c);
    rgb_at(c, 1, 1, &r, &g, &b);
    assert_in_range(r, BG_R * 223 / 255 - 2, BG_R * 223 / 255 + 2);
    assert_true(r < BG_R);
    canvas_free(c);
}

static void test_overlay_draw_restores_blend_mode_and_colour(void **state)
{
    (void)state;
    rollnet_sdl_overlay o;
    sampled_overlay(&o);
    o.running = false; /* the status line switches colour too */
    const SDL_BlendMode modes[] = {SDL_BLENDMODE_NONE, SDL_BLENDMODE_ADD, SDL_BLENDMODE_MOD};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        canvas *c = canvas_new();
        SDL_SetRenderDrawBlendMode(c->r, modes[i]);
        SDL_SetRenderDrawColor(c->r, 1, 2, 3, 4);
        rollnet_sdl_overlay_draw(&o, c->r, 5, 5);
        SDL_BlendMode mode;
        Uint8 r, g, b, a;
        assert_int_equal(SDL_GetRenderDrawBlendMode(c->r, &mode), 0);
        assert_int_equal(SDL_GetRenderDrawColor(c->r, &r, &g, &b, &a), 0);
        assert_int_equal(mode, modes[i]);
        assert_int_equal(r, 1);
        assert_int_equal(g, 2);
        assert_int_equal(b, 3);
        assert_int_equal(a, 4);
        canvas_free(c);
    }
}

static void test_overlay_hidden_has_no_size_and_draws_nothing(void **state)
{
    (void)state;
    rollnet_sdl_overlay o;
    sampled_overlay(&o);
    o.visible = false;
    int w = -1, h = -1;
    rollnet_sdl_overlay_size(&o, &w, &h);
    assert_int_equal(w, 0);
    assert_int_equal(h, 0);
    rollnet_sdl_overlay_size(NULL, &w, &h);
    assert_int_equal(w, 0);
    assert_int_equal(h, 0);
    rollnet_sdl_overlay_size(&o, NULL, NULL); /* either may be NULL */
    canvas *c = canvas_new();
    rollnet_sdl_overlay_draw(&o, c->r, 0, 0);
    canvas_read(c);
    check_covers_exactly(c, 0, 0, 0, 0);
    canvas_free(c);
}

static void test_overlay_fits_a_320x240_viewport(void **state)
{
    (void)state;
    rollnet_sdl_overlay o;
    rollnet_sdl_overlay_init(&o);
    o.visible = true;
    int w, h;
    /* Freshly initialised: not running yet, so with the status line. */
    rollnet_sdl_overlay_size(&o, &w, &h);
    assert_int_equal(w, 188);
    assert_int_equal(h, 108);
    assert_true(w + 8 <= VW && h + 8 <= VH);

    /* The widest text it can hold still fits the graph's width. */
    sampled_overlay(&o);
    o.rtt_ms = UINT32_MAX;
    o.frames_ahead = INT32_MIN;
    o.max_depth = 255;
    o.running = false;
    o.peer_loading = true;
    rollnet_sdl_overlay_size(&o, &w, &h);
    assert_int_equal(w, 188);
    assert_int_equal(h, 108);
    o.running = true;
    o.peer_loading = false;
    rollnet_sdl_overlay_size(&o, &w, &h);
    assert_int_equal(h, 94);

    /* Scale 1 halves it: a corner of a 320x240 viewport. */
    o.scale = 1;
    rollnet_sdl_overlay_size(&o, &w, &h);
    assert_int_equal(w, 94);
    assert_int_equal(h, 47);
    /* Out-of-range scales are clamped, never zero-sized. */
    o.scale = -3;
    rollnet_sdl_overlay_size(&o, &w, &h);
    assert_int_equal(w, 188);
    o.scale = 1000;
    rollnet_sdl_overlay_size(&o, &w, &h);
    assert_int_equal(w, 188 / 2 * ROLLNET_SDL_OVERLAY_MAX_SCALE);
}

int main(void)
{
    /* The software renderer needs no video driver; this keeps SDL from
     * looking for a display should anything ask for one. */
    SDL_setenv("SDL_VIDEODRIVER", "dummy", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlay_size_is_exactly_the_area_drawn),
        cmocka_unit_test(test_overlay_background_is_blended_with_the_game),
        cmocka_unit_test(test_overlay_background_alpha_is_configurable),
        cmocka_unit_test(test_overlay_draw_restores_blend_mode_and_colour),
        cmocka_unit_test(test_overlay_hidden_has_no_size_and_draws_nothing),
        cmocka_unit_test(test_overlay_fits_a_320x240_viewport),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
