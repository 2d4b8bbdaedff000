#ifndef ROLLNET_SDL_H
#define ROLLNET_SDL_H
#include "rollnet/rollnet.h"
/* not written yet */
#endif
