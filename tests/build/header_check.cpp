// Build-only: every public header, as C++.
#include "rollnet/rollnet.h"
#include "rollnet/rollnet_export.h"
#include "rollnet/rollnet_replay.h"
#if ROLLNET_HAVE_ENET
#include "rollnet/rollnet_enet.h"
#endif
#if ROLLNET_HAVE_SDL
#include "rollnet/rollnet_sdl.h"
#endif

int main()
{
    rollnet_session_desc desc = {};
    (void)desc;
    return 0;
}
