/* SPDX-License-Identifier: Apache-2.0 */
/* platforms: what `docker buildx build --platform amd64,arm,arm64` would build for, and what this
 * host can run, through xarch's C API (C99, <xarch.h> only, libxarch.so).
 *
 *   platforms [LIST]    LIST defaults to "amd64,arm,arm64"
 *
 * Exits 0 on success, 1 when LIST does not parse or the library fails. Information about
 * emulators is best effort: without binfmt_misc it is reported as unavailable. */
#include <xarch.h>

#include <stdio.h>
#include <string.h>

/* Prints the calling thread's last xarch error with some context. */
static void print_error(const char* what, int rc) {
    const xarch_error* error = xarch_error_last();
    fprintf(stderr, "platforms: error: %s: %s (%s)\n", what, error->message,
            xarch_error_code_name(rc));
}

static void print_note(const char* what, int rc) {
    const xarch_error* error = xarch_error_last();
    fprintf(stderr, "platforms: note: %s unavailable: %s (%s)\n", what, error->message,
            xarch_error_code_name(rc));
}

static int contains(const xarch_platform_list* list, const xarch_platform* platform) {
    size_t i;
    for (i = 0; i < xarch_platform_list_size(list); ++i) {
        if (xarch_platform_equal(xarch_platform_list_get(list, i), platform) == 1) {
            return 1;
        }
    }
    return 0;
}

static int print_requested(const char* text) {
    xarch_platform_list* list = NULL;
    size_t i;
    int rc = xarch_platform_parse_list(&list, text);
    if (rc != XARCH_OK) {
        print_error("parsing the platform list", rc);
        return 1;
    }
    printf("requested %s:\n", text);
    for (i = 0; i < xarch_platform_list_size(list); ++i) {
        const xarch_platform* platform = xarch_platform_list_get(list, i);
        printf("  %s\n", xarch_platform_to_string(platform));
    }
    xarch_platform_list_free(list);
    return 0;
}

static int print_host(void) {
    xarch_platform* host = NULL;
    int rc = xarch_platform_host(&host);
    if (rc != XARCH_OK) {
        print_error("finding the host platform", rc);
        return 1;
    }
    printf("host: %s\n", xarch_platform_to_string(host));
    xarch_platform_free(host);
    return 0;
}

/* The runnable platforms: native ones first, then those binfmt_misc emulates. */
static int print_runnable(void) {
    xarch_platform_list* native = NULL;
    xarch_platform_list* runnable = NULL;
    size_t i;
    int rc = xarch_emulators_native(&native);
    if (rc != XARCH_OK) {
        print_error("probing the native platforms", rc);
        return 1;
    }
    printf("runnable:\n");
    for (i = 0; i < xarch_platform_list_size(native); ++i) {
        printf("  %-16s native\n", xarch_platform_to_string(xarch_platform_list_get(native, i)));
    }
    rc = xarch_emulators_runnable(&runnable, NULL);
    if (rc != XARCH_OK) {
        print_note("emulated platforms", rc);
    } else {
        for (i = 0; i < xarch_platform_list_size(runnable); ++i) {
            const xarch_platform* platform = xarch_platform_list_get(runnable, i);
            if (!contains(native, platform)) {
                printf("  %-16s emulated\n", xarch_platform_to_string(platform));
            }
        }
    }
    xarch_platform_list_free(runnable);
    xarch_platform_list_free(native);
    return 0;
}

static void print_emulators(void) {
    xarch_emulators_options options = XARCH_EMULATORS_OPTIONS_INIT;
    xarch_emulator_list* list = NULL;
    size_t i;
    int rc = xarch_emulators_list(&list, &options);
    if (rc != XARCH_OK) {
        print_note("emulators", rc);
        return;
    }
    printf("emulators:\n");
    for (i = 0; i < xarch_emulator_list_size(list); ++i) {
        printf("  %-16s %-17s %-8s %s  %s\n",
               xarch_platform_to_string(xarch_emulator_list_platform(list, i)),
               xarch_emulator_list_name(list, i),
               xarch_emulator_list_present(list, i) == 1 ? "present" : "absent",
               xarch_emulator_list_registered(list, i) == 1 ? "registered" : "-",
               xarch_emulator_list_path(list, i));
    }
    xarch_emulator_list_free(list);
}

int main(int argc, char** argv) {
    const char* requested = argc > 1 ? argv[1] : "amd64,arm,arm64";
    int status = 0;
    int rc = xarch_init();
    if (rc != XARCH_OK) {
        print_error("initializing xarch", rc);
        return 1;
    }
    printf("xarch %s (headers %d.%d.%d, ABI %d)\n", xarch_version(), XARCH_VERSION_MAJOR,
           XARCH_VERSION_MINOR, XARCH_VERSION_PATCH, xarch_abi_version());
    if (strcmp(xarch_version(), "") == 0) {
        status = 1;
    }
    if (print_requested(requested) != 0 || print_host() != 0 || print_runnable() != 0) {
        status = 1;
    } else if ((xarch_features() & XARCH_FEATURE_EMULATORS) != 0) {
        print_emulators();
    }
    xarch_shutdown();
    return status;
}
