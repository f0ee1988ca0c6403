#ifndef SPARRING_COPUSENC_SHIM_H
#define SPARRING_COPUSENC_SHIM_H
#include <opusenc.h>

/* ope_encoder_ctl is variadic, which Swift cannot call: one plain function per setting used. */
static inline int sparring_ope_set_bitrate(OggOpusEnc *encoder, opus_int32 bitrate) {
    return ope_encoder_ctl(encoder, OPUS_SET_BITRATE(bitrate));
}
static inline int sparring_ope_set_voice(OggOpusEnc *encoder) {
    return ope_encoder_ctl(encoder, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
}
static inline int sparring_ope_set_serial(OggOpusEnc *encoder, opus_int32 serial) {
    return ope_encoder_ctl(encoder, OPE_SET_SERIALNO(serial));
}
#endif
