/* Fixed-rate frame pacer. All schedule arithmetic takes counter values as
 * arguments; only init, reset and wait read SDL's clock or sleep. */
#include <SDL.h>

#include "rollnet/rollnet_sdl.h"

/* Counter value of slot `slot`. The slot stays below fps + one second of wait
 * frames + max_catch_up, so the product cannot overflow for any real counter
 * frequency. */
static uint64_t slot_time(const rollnet_sdl_pacer *p, uint64_t slot)
{
    return p->origin + slot * p->freq / (uint64_t)p->fps;
}

/* fps slots span exactly freq ticks, so moving whole seconds into origin
 * keeps the schedule exact while bounding `slot`. */
static void normalise(rollnet_sdl_pacer *p)
{
    while (p->slot >= (uint64_t)p->fps) {
        p->origin += p->freq;
        p->slot -= (uint64_t)p->fps;
    }
}

void rollnet_sdl_pacer_init_at(rollnet_sdl_pacer *p, int fps, uint64_t freq, uint64_t now)
{
    p->fps = fps > 0 ? fps : 60;
    p->freq = freq > 0 ? freq : 1;
    p->origin = now;
    p->slot = 0;
    p->max_catch_up = ROLLNET_SDL_PACER_MAX_CATCH_UP;
    p->frames_dropped = 0;
}

void rollnet_sdl_pacer_reset_at(rollnet_sdl_pacer *p, uint64_t now)
{
    p->origin = now;
    p->slot = 0;
}

uint64_t rollnet_sdl_pacer_next_due(const rollnet_sdl_pacer *p)
{
    return slot_time(p, p->slot);
}

uint32_t rollnet_sdl_pacer_sleep_ms(const rollnet_sdl_pacer *p, uint64_t now)
{
    uint64_t due = slot_time(p, p->slot);
    if (now >= due)
        return 0;
    uint64_t ms = (due - now) * 1000u / p->freq;
    return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

int rollnet_sdl_pacer_take(rollnet_sdl_pacer *p, uint64_t now)
{
    int cap = p->max_catch_up > 0 ? p->max_catch_up : 1;
    if (now < slot_time(p, p->slot))
        return 0;
    if (now >= slot_time(p, p->slot + (uint64_t)cap)) {
        /* More than cap frames are due: run cap of them and restart the
         * schedule one period after now instead of racing to make up the
         * rest (which would only stall again). */
        uint64_t period_ticks = p->freq / (uint64_t)p->fps;
        uint64_t behind = (now - slot_time(p, p->slot)) / (period_ticks ? period_ticks : 1) + 1;
        p->frames_dropped += behind > (uint64_t)cap ? behind - (uint64_t)cap : 0;
        p->origin = now;
        p->slot = 1;
        normalise(p);
        return cap;
    }
    int n = 0;
    while (n < cap && now >= slot_time(p, p->slot)) {
        p->slot++;
        n++;
    }
    normalise(p);
    return n;
}

void rollnet_sdl_pacer_add_wait_frames(rollnet_sdl_pacer *p, int n)
{
    if (n <= 0)
        return;
    if (n > p->fps)
        n = p->fps;
    p->slot += (uint64_t)n;
    normalise(p);
}

void rollnet_sdl_pacer_init(rollnet_sdl_pacer *p, int fps)
{
    rollnet_sdl_pacer_init_at(p, fps, SDL_GetPerformanceFrequency(), SDL_GetPerformanceCounter());
}

void rollnet_sdl_pacer_reset(rollnet_sdl_pacer *p)
{
    rollnet_sdl_pacer_reset_at(p, SDL_GetPerformanceCounter());
}

int rollnet_sdl_pacer_wait(rollnet_sdl_pacer *p)
{
    for (;;) {
        uint64_t now = SDL_GetPerformanceCounter();
        int n = rollnet_sdl_pacer_take(p, now);
        if (n > 0)
            return n;
        uint32_t ms = rollnet_sdl_pacer_sleep_ms(p, now);
        /* Sleep the whole milliseconds; the spin that remains is shorter than
         * one millisecond per frame. */
        if (ms > 0)
            SDL_Delay(ms);
    }
}
