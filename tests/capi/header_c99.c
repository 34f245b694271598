/* SPDX-License-Identifier: Apache-2.0 */
/* Compiled as C99 and as C++20 with -Wall -Wextra -pedantic -Werror (capi_header_c99,
 * capi_header_cxx20): <xarch.h> must be self-contained, warning-free and usable from both. */
#include <xarch.h>

#if !XARCH_VERSION_CHECK(0, 1, 0)
#error "XARCH_VERSION_CHECK"
#endif

static int use_the_header(void) {
    xarch_emulators_options options = XARCH_EMULATORS_OPTIONS_INIT;
    xarch_buf buf = XARCH_BUF_INIT;
    xarch_strarray array = XARCH_STRARRAY_INIT;
    xarch_platform* platform = NULL;
    const xarch_error* error = NULL;
    xarch_emulator_outcome outcome = XARCH_EMULATOR_OUTCOME_INSTALLED;
    uint32_t flags =
        XARCH_FEATURE_PLATFORM | XARCH_FEATURE_EMULATORS | XARCH_EMULATORS_PRESERVE_ARGV0;
    options.flags = flags;
    (void)buf;
    (void)array;
    (void)platform;
    (void)error;
    (void)outcome;
    return options.version == XARCH_EMULATORS_OPTIONS_VERSION ? XARCH_VERSION_NUMBER + XARCH_EINVAL
                                                              : XARCH_OK;
}

int xarch_header_test_entry(void);
int xarch_header_test_entry(void) {
    return use_the_header();
}
