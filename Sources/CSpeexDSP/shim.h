#ifndef SPARRING_CSPEEXDSP_SHIM_H
#define SPARRING_CSPEEXDSP_SHIM_H
#include <speex/speex_resampler.h>
#include <speex/speex_preprocess.h>
#endif
