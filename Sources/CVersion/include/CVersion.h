#ifndef HOIST_CVERSION_H
#define HOIST_CVERSION_H

/// The commit hoist was built from, set by scripts/install with -Xcc -DHOIST_COMMIT="…"; "unknown" otherwise.
const char *hoist_commit(void);

#endif
