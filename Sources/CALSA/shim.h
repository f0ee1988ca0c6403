#ifndef SPARRING_CALSA_SHIM_H
#define SPARRING_CALSA_SHIM_H
#include <alsa/asoundlib.h>

/* snd_pcm_hw_params_alloca is a macro Swift cannot import; callers use
   snd_pcm_hw_params_malloc/_free. The errno values the loop checks are
   macros too, so they are given names here. */
static inline int sparring_epipe(void) { return -EPIPE; }
static inline int sparring_estrpipe(void) { return -ESTRPIPE; }
static inline int sparring_eagain(void) { return -EAGAIN; }
static inline int sparring_enodev(void) { return -ENODEV; }
#endif
