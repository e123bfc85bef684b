/* Convenience header: the whole Vespid plugin ABI. */
#ifndef VESPID_VESPID_H
#define VESPID_VESPID_H
#include "vespid/abi.h"
#include "vespid/bus.h"
#include "vespid/discovery.h"
#include "vespid/host.h"
#include "vespid/netbind.h"
#include "vespid/storage.h"
#include "vespid/transport.h"
#endif
