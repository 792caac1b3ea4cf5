#ifndef HOIST_CPROCESS_H
#define HOIST_CPROCESS_H

/// The commit hoist was built from, written by scripts/install into commit.h; "unknown" otherwise.
const char *hoist_commit(void);

/// Makes malloc keep one arena for the whole process (mallopt M_ARENA_MAX, which Swift cannot see).
void hoist_use_one_malloc_arena(void);

#endif
