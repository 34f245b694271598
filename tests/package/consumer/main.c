/* SPDX-License-Identifier: Apache-2.0 */
/* Links xarch::c (libxarch.so) from an installed package and uses it. */
#include <xarch.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    xarch_platform* platform = NULL;
    if (xarch_platform_parse(&platform, "arm") != 0) {
        fprintf(stderr, "parse failed: %s\n", xarch_error_last()->message);
        return 1;
    }
    printf("xarch %s: %s\n", xarch_version(), xarch_platform_to_string(platform));
    int ok = strcmp(xarch_platform_to_string(platform), "linux/arm/v7") == 0;
    xarch_platform_free(platform);
    return ok ? 0 : 1;
}
