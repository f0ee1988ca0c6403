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

/* The ALSA library prints its own diagnostics to stderr ("ALSA lib pcm_file.c:443: ... write
   failed"). Every failure also reaches the caller as a return code, which the command line
   reports once with the device's name; this handler drops the library's copy. A variadic
   C function: Swift cannot write one. */
static void sparring_alsa_drop_message(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}
static inline void sparring_alsa_quiet(void) { snd_lib_error_set_handler(sparring_alsa_drop_message); }
#endif
