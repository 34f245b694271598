// SPDX-License-Identifier: Apache-2.0
// `xarch build`: docker buildx build's flags over xarch::Builder (the embedded driver).
#include "command.hpp"
#include "progress_view.hpp"
#include "registry_flags.hpp"
#include "stdin_context.hpp"
#include "xarch/builder.hpp"
#include "xarch/builders.hpp"
#include "xarch/context.hpp"
#include "xarch/error.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <thread>

namespace xarch::cli {

namespace {

// Ctrl-C (or SIGTERM) cancels the build: the library stops its steps and transfers and cleans
// up; a second Ctrl-C exits at once. The signals are taken by a thread of ours (sigwait), since a
// signal handler cannot safely call into the library.
class InterruptCancels {
public:
    explicit InterruptCancels(Builder& builder) {
        sigemptyset(&signals_);
        sigaddset(&signals_, SIGINT);
        sigaddset(&signals_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
        thread_ = std::thread([this, &builder] {
            int signal = 0;
            while (sigwait(&signals_, &signal) == 0) {
                if (done_) {
                    return;
                }
                if (interrupted_++ > 0) {
                    _exit(130);
                }
                builder.cancel();
            }
        });
    }
    ~InterruptCancels() {
        done_ = true;
        pthread_kill(thread_.native_handle(), SIGTERM);
        thread_.join();
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    }
    InterruptCancels(const InterruptCancels&) = delete;
    InterruptCancels& operator=(const InterruptCancels&) = delete;

private:
    sigset_t signals_{};
    sigset_t previous_{};
    std::atomic<bool> done_{false};
    std::atomic<int> interrupted_{0};
    std::thread thread_;
};

std::vector<Platform> parse_platforms(const std::vector<std::string>& values) {
    std::vector<Platform> out;
    for (const std::string& v : values) {
        for (Platform& p : Platform::parse_list(v)) {
            out.push_back(std::move(p));
        }
    }
    return out;
}

BuildContext open_context(const std::string& path) {
    if (path.find("://") != std::string::npos || path.starts_with("git@")) {
        throw UsageError("remote build contexts (" + path +
                         ") are not supported yet: clone or download it and give the directory");
    }
    return BuildContext::from_directory(path);
}

int run_build(const ParsedArgs& args, Io& io) {
    // Checked first: a usage error is reported before any work.
    const std::string network = args.get("network", "default");
    if (network != "default" && network != "none" && network != "host") {
        throw UsageError("invalid value \"" + network +
                         "\" for flag --network: use default, none or host");
    }
    const std::string& path = args.positional.at(0);
    if (path == "-" && args.get("file") == "-") {
        throw UsageError("the context and the Dockerfile cannot both come from stdin");
    }
    // PATH "-": standard input is a context archive or the Dockerfile (an empty context then).
    std::unique_ptr<StdinContext> stdin_context;
    std::optional<BuildContext> directory_context;
    if (path == "-") {
        stdin_context = std::make_unique<StdinContext>(STDIN_FILENO);
    } else {
        directory_context.emplace(open_context(path));
    }
    BuildContext& context = stdin_context ? stdin_context->context() : *directory_context;
    if (args.has("file")) {
        const std::string file = args.get("file");
        if (stdin_context && stdin_context->dockerfile_from_stdin()) {
            throw UsageError("ambiguous Dockerfile source: both stdin and -f \"" + file +
                             "\" give a Dockerfile: drop -f, or send a context archive on stdin");
        }
        if (file == "-") {
            context.set_dockerfile_text(std::string(std::istreambuf_iterator<char>(std::cin), {}));
        } else {
            context.set_dockerfile(file);
        }
    }
    for (const std::string& a : args.all("build-arg")) {
        context.add_build_arg(a);
    }
    for (const std::string& l : args.all("label")) {
        context.add_label(l);
    }
    for (const std::string& c : args.all("build-context")) {
        context.add_named_context(c);
    }
    for (const std::string& s : args.all("secret")) {
        context.add_secret(s);
    }
    for (const std::string& s : args.all("ssh")) {
        context.add_ssh(s);
    }
    context.set_target(args.get("target"));

    BuildOptions options;
    options.platforms = parse_platforms(args.all("platform"));
    options.tags = args.all("tag");
    for (const std::string& o : args.all("output")) {
        options.outputs.push_back(OutputSpec::parse(o));
    }
    if (args.has("push")) {
        options.outputs.push_back(OutputSpec::parse("type=registry"));
    }
    if (args.has("load")) {
        options.outputs.push_back(OutputSpec::parse("type=docker"));
    }
    options.annotations = args.all("annotation");
    for (const std::string& value : args.all("allow")) {
        // A comma list, as buildx's string slice flag takes it.
        std::size_t start = 0;
        while (start <= value.size()) {
            const std::size_t comma = std::min(value.find(',', start), value.size());
            const std::string entitlement = value.substr(start, comma - start);
            if (entitlement != "network.host" && entitlement != "security.insecure") {
                throw Error(ErrorCode::kInvalidArgument,
                            "invalid entitlement: " + entitlement +
                                " (use network.host or security.insecure)");
            }
            options.allow.push_back(entitlement);
            start = comma + 1;
        }
    }
    options.network = network;
    options.no_cache = args.has("no-cache");
    options.pull = args.has("pull");
    for (const std::string& c : args.all("cache-from")) {
        options.cache_from.push_back(CacheSpec::parse(c));
    }
    for (const std::string& c : args.all("cache-to")) {
        options.cache_to.push_back(CacheSpec::parse(c));
    }
    options.metadata_file = args.get("metadata-file");
    options.iid_file = args.get("iidfile");

    const bool quiet = args.has("quiet");
    const std::string mode = quiet ? "quiet" : args.get("progress", "auto");
    std::unique_ptr<ProgressView> view =
        ProgressView::create(mode, io.err, isatty(STDERR_FILENO) != 0);
    options.progress = [&view](const ProgressEvent& event) { view->on_event(event); };
    // --builder, else $XARCH_BUILDER (buildx: BUILDX_BUILDER), else the one `xarch use` chose.
    const BuilderStore store;
    std::string builder_name = args.get("builder");
    if (const char* env = std::getenv("XARCH_BUILDER"); builder_name.empty() && env != nullptr) {
        builder_name = env;
    }
    const BuilderSpec builder_spec =
        builder_name.empty() ? store.current() : store.get(builder_name);
    if (options.outputs.empty()) {
        if (builder_spec.driver() == Driver::kDocker) {
            io.err << "WARNING: No output specified with the docker driver. The image stays in "
                      "the engine that built it. To push result image into registry use --push\n";
        } else {
            io.err << "WARNING: No output specified with the embedded driver. Build result will "
                      "only remain in the build cache. To push result image into registry use "
                      "--push or to load image into docker use --load\n";
        }
    }

    BuilderOptions builder_options;
    builder_options.builder = builder_spec;
    builder_options.cache_dir = args.get("cache-dir");
    builder_options.registry = registry_options(args);
    Builder builder(std::move(builder_options));
    const InterruptCancels interrupts(builder);
    BuildResult result;
    try {
        result = builder.build(context, options);
    } catch (...) {
        view->finish(false);
        throw;
    }
    view->finish(true);
    if (quiet) {
        io.out << result.descriptor.digest.to_string() << "\n";
    }
    return kExitOk;
}

}  // namespace

Command make_build_command() {
    std::vector<FlagSpec> flags = {
        {"allow", '\0', true, "stringSlice",
         "Allow extra privileged entitlement (e.g., \"network.host\", \"security.insecure\")", ""},
        {"annotation", '\0', true, "stringArray", "Add annotation to the image", ""},
        {"build-arg", '\0', true, "stringArray", "Set build-time variables", ""},
        {"build-context", '\0', true, "stringArray", "Additional build contexts (e.g., name=path)",
         ""},
        {"builder", '\0', true, "string", "Override the configured builder instance", ""},
        {"cache-dir", '\0', true, "string", "Build cache directory (default $XDG_CACHE_HOME/xarch)",
         ""},
        {"cache-from", '\0', true, "stringArray",
         "External cache sources (e.g., \"type=registry,ref=host/repo:cache\")", ""},
        {"cache-to", '\0', true, "stringArray",
         "Cache export destinations (e.g., \"type=registry,ref=host/repo:cache,mode=max\")", ""},
        {"file", 'f', true, "string", "Name of the Dockerfile (default: \"PATH/Dockerfile\")", ""},
        {"iidfile", '\0', true, "string", "Write the image ID to a file", ""},
        {"label", '\0', true, "stringArray", "Set metadata for an image", ""},
        {"load", '\0', false, "", "Shorthand for \"--output=type=docker\"", ""},
        {"metadata-file", '\0', true, "string", "Write build result metadata to a file", ""},
        {"network", '\0', true, "string",
         "Set the networking mode for the RUN instructions during build (\"default\", \"none\", "
         "\"host\")",
         "default"},
        {"no-cache", '\0', false, "", "Do not use cache when building the image", ""},
        {"output", 'o', true, "stringArray",
         "Output destination (format: \"type=local,dest=path\")", ""},
        {"platform", '\0', true, "stringArray", "Set target platform for build", ""},
        {"pull", '\0', false, "", "Always attempt to pull all referenced images", ""},
        {"progress", '\0', true, "string",
         "Set type of progress output (\"auto\", \"quiet\", \"plain\", \"tty\", \"rawjson\")",
         "auto"},
        {"push", '\0', false, "", "Shorthand for \"--output=type=registry\"", ""},
        {"quiet", 'q', false, "", "Suppress the build output and print image ID on success", ""},
        {"secret", '\0', true, "stringArray",
         "Secret to expose to the build (format: \"id=mysecret[,src=/local/secret]\")", ""},
        {"ssh", '\0', true, "stringArray", "SSH agent socket or keys to expose to the build", ""},
        {"tag", 't', true, "stringArray",
         "Image identifier (format: \"[registry/]repository[:tag]\")", ""},
        {"target", '\0', true, "string", "Set the target build stage to build", ""},
    };
    for (FlagSpec& f : registry_flags()) {
        flags.push_back(std::move(f));
    }
    return Command{
        .name = "build",
        .usage = "[OPTIONS] PATH | -",
        .summary = "Start a build",
        .description =
            "Build an image from a Dockerfile for one or more platforms, as docker buildx\n"
            "build does: in this process (the embedded driver: steps cached in the build cache,\n"
            "layers identical for several platforms built once, RUN in a sandbox, foreign\n"
            "platforms through QEMU) or on the nodes of a builder made with `xarch create`\n"
            "(Docker Engines, each platform on the node that runs it natively); the result\n"
            "pushed, written or loaded as --output says.\n\n"
            "PATH \"-\" reads standard input: a tar archive (plain or compressed) is the\n"
            "context; anything else is the Dockerfile, built with an empty context.\n\n"
            "Examples:\n"
            "  xarch build --platform amd64,arm,arm64 -t localhost:5000/app --push .\n"
            "  xarch build -o type=oci,dest=app.tar .\n"
            "  xarch build --load -t app .\n"
            "  xarch build --builder engines --platform amd64,arm64 -t localhost:5000/app --push .",
        .flags = std::move(flags),
        .subcommands = {},
        .run = run_build,
        .min_args = 1,
        .max_args = 1,
    };
}

}  // namespace xarch::cli
