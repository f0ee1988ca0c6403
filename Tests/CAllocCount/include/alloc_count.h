#ifndef SPARRING_ALLOC_COUNT_H
#define SPARRING_ALLOC_COUNT_H

#include <pthread.h>

/// Starts counting the heap allocations made by `thread` (malloc, calloc, realloc and the
/// aligned forms, from any library), from zero; 0 stops counting.
void sparring_alloc_watch(pthread_t thread);

/// Allocations made by the watched thread since `sparring_alloc_watch`.
long sparring_alloc_count(void);

#endif
