/* One entry of a header set's recorded layout (layout_probe.c). Plain C, shared with the C++
 * test that compares the sets. */
#ifndef VESPID_TEST_LAYOUT_PROBE_H
#define VESPID_TEST_LAYOUT_PROBE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum layout_kind { LAYOUT_END, LAYOUT_MEMBER, LAYOUT_SIZE, LAYOUT_CONSTANT };

typedef struct layout_entry {
  const char* name; /* "vsp_host_api.log", "sizeof vsp_kv", "VSP_E_IO", "VSP_SERVICE_API=api" */
  size_t offset;    /* a member's offset; a constant's value */
  size_t size;      /* a member's or an array element's size */
  int kind;         /* enum layout_kind; LAYOUT_END ends the table */
} layout_entry;

extern const layout_entry abi_layout_1_0[];
extern const layout_entry abi_layout_1_1[];
extern const layout_entry abi_layout_1_2[];
extern const layout_entry abi_layout_1_3[];
extern const layout_entry abi_layout_1_4[];
extern const layout_entry abi_layout_1_5[];
extern const layout_entry abi_layout_1_6[];
extern const layout_entry abi_layout_current[];

#ifdef __cplusplus
}
#endif

#endif /* VESPID_TEST_LAYOUT_PROBE_H */
