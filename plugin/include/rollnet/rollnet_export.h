#ifndef ROLLNET_EXPORT_H
#define ROLLNET_EXPORT_H
#include "rollnet/rollnet.h"
/* not written yet */
#endif
