#ifndef ROLLNET_ENET_H
#define ROLLNET_ENET_H
#include "rollnet/rollnet.h"
/* not written yet */
#endif
