// Counts the heap allocations of one thread, for the test that the real-time
// audio path allocates nothing.
//
// The test executable defines the allocation functions, so every library in
// the process (the Swift runtime, alsa-lib, libc itself) calls these; each
// hands the work to glibc's own allocator under its exported __libc_ names and
// counts the call when it comes from the watched thread. Nothing else changes.
#include <stdatomic.h>
#include <stddef.h>
#include <errno.h>
#include "alloc_count.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static _Atomic(unsigned long) watched = 0;
static _Atomic(long) counted = 0;

static inline void note(void) {
    unsigned long thread = atomic_load_explicit(&watched, memory_order_relaxed);
    if (thread != 0 && thread == (unsigned long)pthread_self()) {
        atomic_fetch_add_explicit(&counted, 1, memory_order_relaxed);
    }
}

void sparring_alloc_watch(pthread_t thread) {
    atomic_store(&counted, 0);
    atomic_store(&watched, (unsigned long)thread);
}

long sparring_alloc_count(void) { return atomic_load(&counted); }

void *malloc(size_t size) { note(); return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { note(); return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { note(); return __libc_realloc(pointer, size); }
void *memalign(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    note();
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *out = pointer;
    return 0;
}
