#ifndef SPARRING_CPOCKETSPHINX_SHIM_H
#define SPARRING_CPOCKETSPHINX_SHIM_H
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/cmd_ln.h>
#include <sphinxbase/ngram_model.h>
#include <sphinxbase/logmath.h>

/* cmd_ln_init is variadic and Swift cannot call it; the configuration is
   built from an argv array with cmd_ln_parse_r instead, which needs the
   argument table: */
static inline cmd_ln_t *sparring_ps_config(int argc, char *argv[]) {
    return cmd_ln_parse_r(NULL, ps_args(), argc, argv, 1);
}
#endif
