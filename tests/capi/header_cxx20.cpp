// SPDX-License-Identifier: Apache-2.0
// The header test's C source, compiled as C++20 (capi_header_cxx20).
#include "header_c99.c"
