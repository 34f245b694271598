// SPDX-License-Identifier: Apache-2.0
// build_on_nodes: route, build everywhere at once, then push and write the index. Nothing is
// pushed before every platform has built, so a failing node leaves every tag where it was.
#include "drivers/multi_node.hpp"

#include "drivers/builders/routing.hpp"
#include "drivers/docker/build.hpp"
#include "drivers/docker/push.hpp"
#include "engine/client.hpp"
#include "engine/endpoint.hpp"
#include "exporter/exporter.hpp"
#include "exporter/metadata.hpp"
#include "oci/fs.hpp"
#include "util/progress_reporter.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace xarch::drivers {
namespace {

using Type = OutputSpec::Type;

bool loads(const OutputSpec& output) {
    return output.type == Type::kDocker && output.dest.empty();
}

// The names every image output gets: -t first, then each output's name=, each once.
std::vector<std::string> image_names(const BuildOptions& options) {
    std::vector<std::string> names;
    auto add = [&](const std::string& name) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            names.push_back(name);
        }
    };
    for (const std::string& tag : options.tags) {
        add(tag);
    }
    for (const OutputSpec& output : options.outputs) {
        if (output.type == Type::kRegistry || output.type == Type::kImage ||
            output.type == Type::kDocker) {
            for (const std::string& name : output.names) {
                add(name);
            }
        }
    }
    return names;
}

// What an engine cannot give: it writes its own manifests and keeps its images to itself.
void check_engine_options(const BuilderSpec& builder, const BuildOptions& options) {
    const std::string why =
        "; build those platforms on an embedded node (xarch create --append "
        "--name " +
        builder.name +
        " --driver embedded) or use the default "
        "builder";
    for (const OutputSpec& output : options.outputs) {
        if (output.type == Type::kOci || output.type == Type::kLocal || output.type == Type::kTar ||
            (output.type == Type::kDocker && !output.dest.empty())) {
            throw Error(ErrorCode::kUnsupported,
                        "the docker driver (builder \"" + builder.name +
                            "\") gives images in its engine and pushes them; it cannot write a "
                            "type=" +
                            std::string(exporter::type_name(output.type)) + " output" + why);
        }
    }
    if (!options.cache_from.empty() || !options.cache_to.empty()) {
        throw Error(ErrorCode::kUnsupported,
                    "cache export and import are not supported by the docker driver (builder \"" +
                        builder.name + "\")" + why);
    }
    if (!options.annotations.empty()) {
        throw Error(ErrorCode::kUnsupported,
                    "--annotation is not supported by the docker driver (builder \"" +
                        builder.name + "\"): the engine writes the manifests" + why);
    }
}

// Progress from all nodes through one callback, never two calls at once.
class SharedProgress {
public:
    explicit SharedProgress(ProgressCallback user) : user_(std::move(user)) {}
    ProgressCallback callback() {
        if (!user_) {
            return {};
        }
        return [this](const ProgressEvent& event) {
            std::lock_guard lock(mutex_);
            user_(event);
        };
    }

private:
    ProgressCallback user_;
    std::mutex mutex_;
};

// The first failure among the nodes (the others are then cancelled and their kCancelled is
// not what went wrong).
class FirstFailure {
public:
    void record(const std::string& where, const solver::CancelToken& run) {
        std::lock_guard lock(mutex_);
        if (!error_) {
            try {
                throw;
            } catch (const BuildError& e) {
                BuildError::Step step{e.step(), e.platform(), e.exit_code(), e.last_lines()};
                error_ =
                    std::make_exception_ptr(BuildError(where + ": " + e.what(), std::move(step)));
            } catch (const Error& e) {
                error_ = std::make_exception_ptr(Error(e.code(), where + ": " + e.what()));
            } catch (const std::exception& e) {
                error_ =
                    std::make_exception_ptr(Error(ErrorCode::kInternal, where + ": " + e.what()));
            }
        }
        run.cancel();
    }
    void throw_if_failed() {
        if (error_) {
            std::rethrow_exception(error_);
        }
    }

private:
    std::mutex mutex_;
    std::exception_ptr error_;  // an Error, or a BuildError that keeps its step
};

std::string node_label(const BuilderSpec& builder, const NodeSpec& node, const Platform& p) {
    return "builder \"" + builder.name + "\" node \"" + node.name + "\" (" +
           (node.endpoint.empty() ? std::string(to_string(node.driver)) : node.endpoint) +
           ") building " + p.to_string();
}

std::vector<Platform> wanted_platforms(const BuildOptions& options,
                                       const std::vector<NodeStatus>& statuses) {
    std::vector<Platform> wanted;
    for (const Platform& p : options.platforms) {
        const Platform n = p.normalized();
        if (std::find(wanted.begin(), wanted.end(), n) == wanted.end()) {
            wanted.push_back(n);
        }
    }
    if (wanted.empty()) {
        // As buildx: the first node's own platform.
        for (const NodeStatus& s : statuses) {
            if (s.running() && !s.native.empty()) {
                wanted.push_back(s.native.front().normalized());
                break;
            }
        }
    }
    if (wanted.empty()) {
        wanted.push_back(Platform::host());  // no node is up: routing says which and why
    }
    return wanted;
}

// A base's digest for a platform, to pin it (pin_bases.hpp): so every platform can build at
// once, also several on one engine, without one finding another's image under a tag.
docker::ResolveBase resolver_for(Registry& registry) {
    return [&registry](const std::string& reference,
                       const Platform& platform) -> std::optional<Digest> {
        try {
            return registry.resolve_platform(Reference::parse(reference), platform).digest;
        } catch (const Error& e) {
            if (e.code() == ErrorCode::kCancelled) {
                throw;
            }
            return std::nullopt;  // an image only the engine has: left as written
        }
    };
}

// Runs `work(i)` for each i on a thread of its own and waits for all of them.
void at_once(const std::vector<std::size_t>& items, const std::function<void(std::size_t)>& work) {
    std::vector<std::thread> threads;
    threads.reserve(items.size());
    for (std::size_t i : items) {
        threads.emplace_back([&work, i] { work(i); });
    }
    for (std::thread& t : threads) {
        t.join();
    }
}

// One build over a builder's nodes, phase by phase: route, prepare (check what the engines
// cannot give, connect), build everywhere, push, write the index and the files.
class NodesBuild {
public:
    NodesBuild(const BuilderSpec& builder,
               BuildContext& context,
               const BuildOptions& options,
               Registry& registry,
               const CredentialsLookup& credentials,
               const solver::CancelToken& token)
        : builder_(builder),
          context_(context),
          options_(options),
          registry_(registry),
          credentials_(credentials),
          token_(token),
          run_(token.child()),
          shared_(options.progress),
          progress_(shared_.callback()) {}

    // Which node builds which platform. One node builds whatever is asked of it (an engine
    // that cannot says so itself): no need to ask it what it runs first.
    void route() {
        if (builder_.nodes.size() == 1) {
            wanted_ = wanted_platforms(options_, {});
            if (options_.platforms.empty() && builder_.nodes.front().driver == Driver::kDocker) {
                connect(0);
                wanted_ = {engine_platforms_.at(0)};
            }
            node_of_.assign(wanted_.size(), 0);
        } else {
            std::vector<NodeStatus> statuses(builder_.nodes.size());
            std::vector<std::size_t> nodes(builder_.nodes.size());
            for (std::size_t i = 0; i < nodes.size(); ++i) {
                nodes[i] = i;
            }
            at_once(nodes, [&](std::size_t i) { statuses[i] = inspect_node(builder_.nodes[i]); });
            wanted_ = wanted_platforms(options_, statuses);
            for (const Assignment& a : route_platforms(builder_, statuses, wanted_)) {
                node_of_.push_back(a.node);
            }
        }
        for (std::size_t i = 0; i < node_of_.size(); ++i) {
            if (builder_.nodes.at(node_of_[i]).driver == Driver::kDocker) {
                on_engines_.push_back(i);
            } else {
                on_embedded_.push_back(i);
                embedded_node_ = node_of_[i];
            }
        }
    }

    bool engines_needed() const { return !on_engines_.empty(); }
    const std::vector<Platform>& platforms() const { return wanted_; }

    // What the engines cannot give is refused, and bad names too, before any build.
    void prepare() {
        check_engine_options(builder_, options_);
        names_ = image_names(options_);
        push_ = std::any_of(options_.outputs.begin(), options_.outputs.end(), exporter::pushes);
        single_ = wanted_.size() == 1;
        if (push_ && names_.empty()) {
            throw Error(ErrorCode::kInvalidArgument,
                        "tag is needed when pushing to registry: add -t NAME or name=NAME");
        }
        if (std::any_of(options_.outputs.begin(), options_.outputs.end(), loads) && !single_) {
            throw Error(ErrorCode::kInvalidArgument,
                        "docker exporter does not currently support exporting manifest lists: "
                        "--load takes one platform; push instead");
        }
        for (const std::string& name : names_) {
            refs_.push_back(Reference::parse(name));
        }
        for (std::size_t i : on_engines_) {
            connect(node_of_[i]);
        }
    }

    // Every platform on its node at once; the first failure cancels the others and is thrown.
    void build(const ScanOptions& scan, const EmbeddedBuild& embedded) {
        // The engines walk the context while they send it, as `docker build` does; with the
        // embedded node beside them, which scans it, it is scanned here once for all, before
        // any build starts, and not again.
        if (!on_embedded_.empty()) {
            context_.scan(scan);
        }
        const docker::ResolveBase resolve_base = resolver_for(registry_);
        std::vector<std::size_t> jobs = on_engines_;
        const std::size_t embedded_job = wanted_.size();  // one job for all embedded platforms
        if (!on_embedded_.empty()) {
            jobs.push_back(embedded_job);
        }
        at_once(jobs, [&](std::size_t i) {
            if (i == embedded_job) {
                build_embedded(embedded);
            } else {
                build_on_engine(i, resolve_base);
            }
        });
        token_.throw_if_cancelled();
        failure_.throw_if_failed();
    }

    // Each engine pushes what it built (all at once); then the index over the pushed digests
    // goes under the tags.
    void push() {
        if (!push_) {
            return;
        }
        at_once(on_engines_, [&](std::size_t i) { push_from_engine(i); });
        token_.throw_if_cancelled();
        failure_.throw_if_failed();
        if (single_) {
            descriptor_ = manifests_.at(0);
            descriptor_.platform.reset();
        } else {
            write_index();
        }
    }

    // The result, and --metadata-file and --iidfile written.
    BuildResult finish() {
        BuildResult result;
        for (std::size_t i = 0; i < wanted_.size(); ++i) {
            PlatformImage image;
            image.platform = wanted_[i];
            image.config = configs_.at(i);
            image.manifest = manifests_.count(i) != 0 ? manifests_.at(i) : Descriptor{};
            result.images.push_back(std::move(image));
        }
        result.descriptor = descriptor_;
        if (!push_ && single_) {
            result.descriptor.digest = result.images.front().config;
        }
        result.warnings = warnings_;
        exporter::Metadata metadata;
        if (push_ || single_) {
            metadata.add_image(
                result.descriptor,
                single_ ? std::optional<Digest>(result.images.front().config) : std::nullopt,
                names_);
        }
        result.metadata_json = metadata.to_json();
        if (!options_.metadata_file.empty()) {
            oci::fs::write_file_atomic(options_.metadata_file, result.metadata_json);
        }
        if (!options_.iid_file.empty()) {
            // docker build --iidfile: the image ID; buildx after a push: the pushed root.
            const Digest id =
                single_ && !push_ ? result.images.front().config : result.descriptor.digest;
            oci::fs::write_file_atomic(options_.iid_file, id.to_string());
        }
        return result;
    }

private:
    // One client per engine node, made once; its engine's own platform is BUILDPLATFORM there.
    void connect(std::size_t node) {
        if (clients_.contains(node)) {
            return;
        }
        const NodeSpec& spec = builder_.nodes.at(node);
        try {
            auto client = std::make_shared<engine::Client>(engine::resolve_endpoint(spec.endpoint));
            engine_platforms_.emplace(node, client->platform());
            clients_.emplace(node, std::move(client));
        } catch (const Error& e) {
            throw Error(e.code(), "builder \"" + builder_.name + "\" node \"" + spec.name +
                                      "\": " + e.what());
        }
    }

    // Several platforms: each image first gets a tag of its own ("TAG-linux-arm64").
    Reference engine_ref(const Reference& ref, std::size_t i) const {
        return single_ ? ref : ref.with_tag(platform_tag(ref.tag(), wanted_[i]));
    }

    void build_on_engine(std::size_t i, const docker::ResolveBase& resolve_base) {
        const std::size_t node = node_of_[i];
        try {
            docker::EngineBuild build;
            build.platform = wanted_[i];
            for (const Reference& ref : refs_) {
                build.tags.push_back(engine_ref(ref, i).to_string());
            }
            build.no_cache = options_.no_cache;
            build.pull = options_.pull;
            build.network = options_.network == "default" ? std::string() : options_.network;
            build.node = builder_.nodes[node].name;
            build.build_platform = engine_platforms_.at(node);
            build.resolve_base = resolve_base;
            build.context_entries = on_embedded_.empty() ? docker::ContextEntries::kWalked
                                                         : docker::ContextEntries::kScanned;
            const std::string id =
                docker::build(*clients_.at(node), context_, build, progress_, cancelled()).image_id;
            std::lock_guard lock(mutex_);
            configs_[i] = Digest::parse(id);
        } catch (...) {
            // The driver's errors name the node and platform already.
            failure_.record("builder \"" + builder_.name + "\"", run_);
        }
    }

    // The embedded node's platforms in one build of this process; a push goes by digest (the
    // index written afterwards is what the tags will name).
    void build_embedded(const EmbeddedBuild& embedded) {
        BuildOptions local = options_;
        local.platforms.clear();
        for (std::size_t i : on_embedded_) {
            local.platforms.push_back(wanted_[i]);
        }
        local.tags.clear();
        local.outputs.clear();
        if (push_) {
            OutputSpec by_digest;
            by_digest.type = Type::kImage;
            by_digest.push = true;
            by_digest.names = {refs_.front().without_tag().to_string()};
            by_digest.attributes["push-by-digest"] = "true";
            local.outputs.push_back(std::move(by_digest));
        }
        local.metadata_file.clear();
        local.iid_file.clear();
        local.progress = progress_;
        try {
            const BuildResult built = embedded(context_, local, run_, true);
            std::lock_guard lock(mutex_);
            for (std::size_t k = 0; k < on_embedded_.size(); ++k) {
                configs_[on_embedded_[k]] = built.images.at(k).config;
                if (push_) {
                    manifests_[on_embedded_[k]] = built.images.at(k).manifest;
                }
            }
            warnings_ = built.warnings;
        } catch (...) {
            failure_.record(
                node_label(builder_, builder_.nodes[*embedded_node_], local.platforms.front()),
                run_);
        }
    }

    void push_from_engine(std::size_t i) {
        const NodeSpec& node = builder_.nodes[node_of_[i]];
        try {
            const std::vector<Reference> targets =
                single_ ? refs_ : std::vector<Reference>{engine_ref(refs_.front(), i)};
            for (const Reference& target : targets) {
                const docker::PushedManifest pushed =
                    docker::push(*clients_.at(node_of_[i]), target, credentials_, progress_,
                                 cancelled(), node.name);
                Descriptor manifest;
                manifest.media_type = std::string(media_type::kDockerManifest);
                manifest.digest = pushed.digest;
                manifest.size = pushed.size;
                manifest.platform = wanted_[i];
                std::lock_guard lock(mutex_);
                manifests_[i] = manifest;
            }
        } catch (...) {
            failure_.record(node_label(builder_, node, wanted_[i]) + " (push)", run_);
        }
    }

    // As buildx shows it: "exporting manifest list", then one push per name.
    void write_index() {
        std::vector<Reference> sources;
        for (std::size_t i = 0; i < wanted_.size(); ++i) {
            sources.push_back(
                refs_.front().without_tag().with_digest(manifests_.at(i).digest.to_string()));
        }
        util::ProgressReporter reporter(progress_);
        const std::string vertex = "export:manifest-list";
        const std::string name = "exporting manifest list";
        reporter.started(vertex, name);
        try {
            descriptor_ = registry_.create_index(refs_, sources, {}).descriptor();
            for (const Reference& ref : refs_) {
                reporter.status(vertex, name,
                                "pushing manifest for " + ref.to_string() + "@" +
                                    descriptor_.digest.to_string(),
                                0, 0, true);
            }
        } catch (const Error& e) {
            reporter.failed(vertex, name, e.what());
            throw;
        }
        reporter.completed(vertex, name);
    }

    std::function<bool()> cancelled() const {
        return [run = run_] { return run.cancelled(); };
    }

    const BuilderSpec& builder_;
    BuildContext& context_;
    const BuildOptions& options_;
    Registry& registry_;
    const CredentialsLookup& credentials_;
    const solver::CancelToken& token_;
    const solver::CancelToken run_;  // cancelled by the first failure
    SharedProgress shared_;
    const ProgressCallback progress_;
    FirstFailure failure_;

    std::vector<Platform> wanted_;
    std::vector<std::size_t> node_of_;      // per wanted platform
    std::vector<std::size_t> on_engines_;   // indexes into wanted_
    std::vector<std::size_t> on_embedded_;  // indexes into wanted_
    std::optional<std::size_t> embedded_node_;
    std::map<std::size_t, std::shared_ptr<engine::Client>> clients_;
    std::map<std::size_t, Platform> engine_platforms_;

    std::vector<std::string> names_;
    std::vector<Reference> refs_;
    bool push_ = false;
    bool single_ = false;

    std::mutex mutex_;  // guards what the builds and pushes fill in below
    std::map<std::size_t, Digest> configs_;
    std::map<std::size_t, Descriptor> manifests_;
    std::vector<std::string> warnings_;
    Descriptor descriptor_;
};

}  // namespace

bool is_embedded_only(const BuilderSpec& builder) {
    return builder.nodes.size() == 1 && builder.nodes.front().driver == Driver::kEmbedded;
}

std::string platform_tag(std::string_view tag, const Platform& platform) {
    const Platform p = platform.normalized();
    std::string out(tag.empty() ? "latest" : tag);
    for (const std::string* part : {&p.os(), &p.architecture(), &p.variant()}) {
        if (!part->empty()) {
            out += "-" + *part;
        }
    }
    return out;
}

BuildResult build_on_nodes(const BuilderSpec& builder,
                           BuildContext& context,
                           const BuildOptions& options,
                           Registry& registry,
                           const CredentialsLookup& credentials,
                           const solver::CancelToken& token,
                           const ScanOptions& scan,
                           const EmbeddedBuild& embedded) {
    if (builder.nodes.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "builder \"" + builder.name +
                                                     "\" has no nodes; add one with xarch create "
                                                     "--append --name " +
                                                     builder.name + " ENDPOINT");
    }
    NodesBuild build(builder, context, options, registry, credentials, token);
    build.route();
    if (!build.engines_needed()) {
        BuildOptions local = options;
        local.platforms = build.platforms();
        return embedded(context, local, token, false);
    }
    build.prepare();
    build.build(scan, embedded);
    build.push();
    return build.finish();
}

}  // namespace xarch::drivers
