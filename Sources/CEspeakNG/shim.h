#ifndef SPARRING_CESPEAKNG_SHIM_H
#define SPARRING_CESPEAKNG_SHIM_H
#include <espeak-ng/speak_lib.h>
#endif
