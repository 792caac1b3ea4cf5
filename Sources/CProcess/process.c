#include "CProcess.h"

#include <malloc.h>

#ifndef HOIST_COMMIT
#define HOIST_COMMIT "unknown"
#endif

const char *hoist_commit(void) { return HOIST_COMMIT; }

void hoist_use_one_malloc_arena(void) { mallopt(M_ARENA_MAX, 1); }
