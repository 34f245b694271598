/* SPDX-License-Identifier: Apache-2.0 */
/* build_seed: the seed's `docker buildx build --platform amd64,arm,arm64` from C99 through
 * xarch's C ABI (<xarch.h>, libxarch.so): the Dockerfile of a context directory built for each
 * platform (RUN in a sandbox, QEMU for the foreign ones) into an OCI image layout directory, with
 * buildx-like progress (step starts and their log lines) from a progress callback.
 *
 *   build_seed CONTEXT LAYOUT [PLATFORMS [CACHE]]    PLATFORMS defaults to "amd64,arm,arm64"
 *
 * Prints the index digest on success. Exits 1 when the build fails (the error on stderr). */
#include <xarch.h>

#include <stdio.h>
#include <string.h>

/* What the callback keeps: the number given to each step as it starts, as buildx's #N. */
typedef struct steps {
    char vertices[64][80];
    size_t count;
} steps;

static size_t step_number(steps* s, const char* vertex) {
    size_t i;
    for (i = 0; i < s->count; ++i) {
        if (strncmp(s->vertices[i], vertex, sizeof s->vertices[i] - 1) == 0) {
            return i + 1;
        }
    }
    if (s->count < sizeof s->vertices / sizeof s->vertices[0]) {
        strncpy(s->vertices[s->count], vertex, sizeof s->vertices[s->count] - 1);
        s->vertices[s->count][sizeof s->vertices[s->count] - 1] = '\0';
        ++s->count;
        return s->count;
    }
    return 0;
}

/* Called for every event of the build, never concurrently; returns 0 to go on. */
static int on_progress(const xarch_progress_event* event, void* payload) {
    steps* s = (steps*)payload;
    switch (event->kind) {
        case XARCH_PROGRESS_VERTEX_STARTED:
            printf("#%zu %s\n", step_number(s, event->vertex), event->name);
            break;
        case XARCH_PROGRESS_VERTEX_CACHED:
            printf("#%zu %s CACHED\n", step_number(s, event->vertex), event->name);
            break;
        case XARCH_PROGRESS_LOG:
            printf("#%zu %s\n", step_number(s, event->vertex), event->message);
            break;
        case XARCH_PROGRESS_VERTEX_ERROR:
            printf("#%zu ERROR: %s\n", step_number(s, event->vertex), event->message);
            break;
        default:
            break;
    }
    fflush(stdout);
    return 0;
}

static int fail(const char* what, int rc) {
    fprintf(stderr, "build_seed: %s: %s (%s)\n", what, xarch_error_last()->message,
            xarch_error_code_name(rc));
    return 1;
}

int main(int argc, char** argv) {
    const char* platform_text = argc > 3 ? argv[3] : "amd64,arm,arm64";
    xarch_platform_list* list = NULL;
    const xarch_platform* platforms[16];
    size_t count;
    size_t i;
    char output[4096];
    const char* outputs[1];
    xarch_context* context = NULL;
    xarch_builder* builder = NULL;
    xarch_build_result* result = NULL;
    xarch_builder_options builder_options = XARCH_BUILDER_OPTIONS_INIT;
    xarch_build_options options = XARCH_BUILD_OPTIONS_INIT;
    steps progress;
    int rc;
    int status = 1;

    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: build_seed CONTEXT LAYOUT [PLATFORMS [CACHE]]\n");
        return 2;
    }
    memset(&progress, 0, sizeof progress);
    if ((rc = xarch_platform_parse_list(&list, platform_text)) != XARCH_OK) {
        return fail("--platform", rc);
    }
    count = xarch_platform_list_size(list);
    if (count > sizeof platforms / sizeof platforms[0]) {
        count = sizeof platforms / sizeof platforms[0];
    }
    for (i = 0; i < count; ++i) {
        platforms[i] = xarch_platform_list_get(list, i);
    }
    /* type=oci,tar=false: an OCI image layout directory, as `-o type=oci,dest=DIR,tar=false`. */
    if (snprintf(output, sizeof output, "type=oci,tar=false,dest=%s", argv[2]) >=
        (int)sizeof output) {
        fprintf(stderr, "build_seed: the layout path is too long\n");
        goto done;
    }
    outputs[0] = output;

    if ((rc = xarch_context_new(&context, argv[1], NULL)) != XARCH_OK) {
        fail("context", rc);
        goto done;
    }
    builder_options.cache_dir = argc > 4 ? argv[4] : NULL;
    if ((rc = xarch_builder_new(&builder, &builder_options)) != XARCH_OK) {
        fail("builder", rc);
        goto done;
    }
    options.platforms = platforms;
    options.platforms_count = count;
    options.outputs = outputs;
    options.outputs_count = 1;
    options.progress_cb = on_progress;
    options.payload = &progress;
    if ((rc = xarch_builder_build(&result, builder, context, &options)) != XARCH_OK) {
        fail("build", rc);
        goto done;
    }
    printf("%s\n", xarch_build_result_digest(result));
    status = 0;
done:
    xarch_build_result_free(result);
    xarch_builder_free(builder);
    xarch_context_free(context);
    xarch_platform_list_free(list);
    return status;
}
