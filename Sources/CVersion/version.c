#include "CVersion.h"

#ifndef HOIST_COMMIT
#define HOIST_COMMIT "unknown"
#endif

const char *hoist_commit(void) { return HOIST_COMMIT; }
