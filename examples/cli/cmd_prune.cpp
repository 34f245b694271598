// SPDX-License-Identifier: Apache-2.0
// `xarch prune`: removes build cache, least recently used first, like `docker buildx prune`.
#include "command.hpp"
#include "xarch/builder.hpp"
#include "xarch/error.hpp"

// The cache is internal (lib/cache); the tool reaches it through lib/ on its include path, as
// `xarch debug` does, so that pruning needs no Builder (and no registry set-up).
#include "cache/byte_size.hpp"
#include "cache/cache.hpp"

#include <iostream>
#include <ostream>
#include <string>

namespace xarch::cli {

namespace {

int run_prune(const ParsedArgs& args, Io& io) {
    PruneOptions options;
    if (args.has("keep-storage")) {
        const std::string text = args.get("keep-storage");
        try {
            options.keep_storage = cache::parse_byte_size(text);
        } catch (const xarch::Error& e) {
            throw UsageError("invalid argument \"" + text +
                             "\" for \"--keep-storage\" flag: " + e.what());
        }
    }
    if (args.has("cache-dir") && args.get("cache-dir").empty()) {
        throw UsageError("--cache-dir needs a directory");
    }
    if (!args.has("force")) {
        io.err << "WARNING! This will remove all dangling build cache. Are you sure you want to "
                  "continue? [y/N] "
               << std::flush;
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "y" && answer != "Y" && answer != "yes") {
            return kExitOk;
        }
    }
    cache::Cache cache(args.has("cache-dir") ? std::filesystem::path(args.get("cache-dir"))
                                             : cache::Cache::default_dir());
    const PruneResult result = cache.prune(options);
    io.out << "Total:\t" << cache::format_byte_size(result.freed_bytes) << '\n';
    return kExitOk;
}

}  // namespace

Command make_prune_command() {
    return Command{
        .name = "prune",
        .usage = "[OPTIONS]",
        .summary = "Remove build cache",
        .description =
            "Remove build cache: cached step results, unpacked layers, RUN snapshots and the\n"
            "blobs only they use, least recently used first. Waits for builds using the cache\n"
            "to finish. Cache mounts (RUN --mount=type=cache) go only when everything does.",
        .flags = {{"keep-storage", '\0', true, "bytes",
                   "Amount of disk space to keep for cache (e.g. 10gb, 512MB)", ""},
                  {"cache-dir", '\0', true, "string",
                   "Cache directory (default $XDG_CACHE_HOME/xarch or ~/.cache/xarch)", ""},
                  {"force", 'f', false, "", "Do not prompt for confirmation", ""}},
        .subcommands = {},
        .run = run_prune,
    };
}

}  // namespace xarch::cli
