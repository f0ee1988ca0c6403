#ifndef SPARRING_CSONIC_SHIM_H
#define SPARRING_CSONIC_SHIM_H
/* Debian's libsonic-dev ships no pkg-config file; the header is /usr/include/sonic.h. */
#include <sonic.h>
#endif
