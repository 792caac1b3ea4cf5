#include "CProcess.h"

#include <malloc.h>

// scripts/install writes commit.h (git ignores it) for the build it makes, and removes it afterwards.
#if __has_include("commit.h")
#include "commit.h"
#else
#define HOIST_COMMIT "unknown"
#endif

const char *hoist_commit(void) { return HOIST_COMMIT; }

void hoist_use_one_malloc_arena(void) { mallopt(M_ARENA_MAX, 1); }
