// SPDX-License-Identifier: Apache-2.0
// build_on_nodes: route, build everywhere at once, then push and write the index. Nothing is
// pushed before every platform has built, so a failing node leaves every tag where it was.
#include "drivers/multi_node.hpp"

#include "drivers/builders/routing.hpp"
#include "drivers/docker/build.hpp"
#include "drivers/docker/push.hpp"
#include "engine/client.hpp"
#include "engine/endpoint.hpp"
#include "exporter/metadata.hpp"
#include "oci/fs.hpp"
#include "util/progress_reporter.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace xarch::drivers {
namespace {

using Type = OutputSpec::Type;

bool pushes(const OutputSpec& output) {
    return output.type == Type::kRegistry || (output.type == Type::kImage && output.push);
}

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

std::string_view type_name(Type type) {
    switch (type) {
        case Type::kRegistry:
            return "registry";
        case Type::kImage:
            return "image";
        case Type::kOci:
            return "oci";
        case Type::kDocker:
            return "docker";
        case Type::kLocal:
            return "local";
        case Type::kTar:
            return "tar";
    }
    return "unknown";
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
                            std::string(type_name(output.type)) + " output" + why);
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
            } catch (const Error& e) {
                error_.emplace(e.code(), where + ": " + e.what());
            } catch (const std::exception& e) {
                error_.emplace(ErrorCode::kInternal, where + ": " + e.what());
            }
        }
        run.cancel();
    }
    void throw_if_failed() {
        if (error_) {
            throw *error_;
        }
    }

private:
    std::mutex mutex_;
    std::optional<Error> error_;
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
    // One client per engine node, made once; its engine's own platform is BUILDPLATFORM there.
    std::map<std::size_t, std::shared_ptr<engine::Client>> clients;
    std::map<std::size_t, Platform> engine_platforms;
    auto connect = [&](std::size_t node) {
        if (clients.contains(node)) {
            return;
        }
        const NodeSpec& spec = builder.nodes.at(node);
        try {
            auto client = std::make_shared<engine::Client>(engine::resolve_endpoint(spec.endpoint));
            engine_platforms.emplace(node, client->platform());
            clients.emplace(node, std::move(client));
        } catch (const Error& e) {
            throw Error(e.code(),
                        "builder \"" + builder.name + "\" node \"" + spec.name + "\": " + e.what());
        }
    };

    std::vector<Platform> wanted;
    std::vector<std::size_t> node_of;  // per wanted platform
    if (builder.nodes.size() == 1) {
        // One node builds whatever is asked of it (an engine that cannot says so itself): no
        // need to ask it what it runs first.
        wanted = wanted_platforms(options, {});
        if (options.platforms.empty() && builder.nodes.front().driver == Driver::kDocker) {
            connect(0);
            wanted = {engine_platforms.at(0)};
        }
        node_of.assign(wanted.size(), 0);
    } else {
        std::vector<NodeStatus> statuses(builder.nodes.size());
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < builder.nodes.size(); ++i) {
            threads.emplace_back([&, i] { statuses[i] = inspect_node(builder.nodes[i]); });
        }
        for (std::thread& t : threads) {
            t.join();
        }
        wanted = wanted_platforms(options, statuses);
        for (const Assignment& a : route_platforms(builder, statuses, wanted)) {
            node_of.push_back(a.node);
        }
    }

    std::vector<std::size_t> on_engines;   // indexes into wanted
    std::vector<std::size_t> on_embedded;  // indexes into wanted
    std::optional<std::size_t> embedded_node;
    for (std::size_t i = 0; i < node_of.size(); ++i) {
        if (builder.nodes.at(node_of[i]).driver == Driver::kDocker) {
            on_engines.push_back(i);
        } else {
            on_embedded.push_back(i);
            embedded_node = node_of[i];
        }
    }
    if (on_engines.empty()) {
        BuildOptions local = options;
        local.platforms = wanted;
        return embedded(context, local, token, false);
    }
    check_engine_options(builder, options);
    const std::vector<std::string> names = image_names(options);
    const bool push = std::any_of(options.outputs.begin(), options.outputs.end(), pushes);
    const bool load = std::any_of(options.outputs.begin(), options.outputs.end(), loads);
    const bool single = wanted.size() == 1;
    if (push && names.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "tag is needed when pushing to registry: add -t NAME or name=NAME");
    }
    if (load && !single) {
        throw Error(ErrorCode::kInvalidArgument,
                    "docker exporter does not currently support exporting manifest lists: "
                    "--load takes one platform; push instead");
    }
    std::vector<Reference> refs;
    for (const std::string& name : names) {
        refs.push_back(Reference::parse(name));  // a bad name is refused before any build
    }

    for (std::size_t i : on_engines) {
        connect(node_of[i]);
    }

    SharedProgress shared(options.progress);
    const ProgressCallback progress = shared.callback();
    const solver::CancelToken run = token.child();
    const auto cancelled = [run] { return run.cancelled(); };
    FirstFailure failure;
    std::vector<std::string> image_ids(wanted.size());
    std::optional<BuildResult> embedded_result;
    // The context is read by every build at once: scanned here, before any starts, and not
    // again.
    context.scan(scan);
    {
        std::vector<std::thread> threads;
        // Every platform at once, also several on one engine: each build's bases are pinned
        // to its platform's digest (pin_bases.hpp), so no build finds another's under a tag.
        const docker::ResolveBase resolve_base =
            [&registry](const std::string& reference,
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
        for (std::size_t i : on_engines) {
            threads.emplace_back([&, i] {
                const std::size_t node_index = node_of[i];
                const NodeSpec& node = builder.nodes[node_index];
                try {
                    docker::EngineBuild build;
                    build.platform = wanted[i];
                    for (const Reference& ref : refs) {
                        build.tags.push_back(
                            single ? ref.to_string()
                                   : ref.with_tag(platform_tag(ref.tag(), wanted[i])).to_string());
                    }
                    build.no_cache = options.no_cache;
                    build.pull = options.pull;
                    build.node = node.name;
                    build.build_platform = engine_platforms.at(node_index);
                    build.resolve_base = resolve_base;
                    image_ids[i] =
                        docker::build(*clients.at(node_index), context, build, progress, cancelled)
                            .image_id;
                } catch (...) {
                    // The driver's errors name the node and platform already.
                    failure.record("builder \"" + builder.name + "\"", run);
                }
            });
        }
        if (!on_embedded.empty()) {
            threads.emplace_back([&] {
                const NodeSpec& node = builder.nodes[*embedded_node];
                BuildOptions local = options;
                local.platforms.clear();
                for (std::size_t i : on_embedded) {
                    local.platforms.push_back(wanted[i]);
                }
                local.tags.clear();
                local.outputs.clear();
                if (push) {
                    // By digest: the index written below is what the tags will name.
                    OutputSpec by_digest;
                    by_digest.type = Type::kImage;
                    by_digest.push = true;
                    by_digest.names = {refs.front().without_tag().to_string()};
                    by_digest.attributes["push-by-digest"] = "true";
                    local.outputs.push_back(std::move(by_digest));
                }
                local.metadata_file.clear();
                local.iid_file.clear();
                local.progress = progress;
                try {
                    embedded_result = embedded(context, local, run, true);
                } catch (...) {
                    failure.record(node_label(builder, node, local.platforms.front()), run);
                }
            });
        }
        for (std::thread& t : threads) {
            t.join();
        }
    }
    token.throw_if_cancelled();
    failure.throw_if_failed();

    BuildResult result;
    result.images.resize(wanted.size());
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        result.images[i].platform = wanted[i];
    }
    for (std::size_t i : on_engines) {
        result.images[i].config = Digest::parse(image_ids[i]);
    }
    if (embedded_result) {
        for (std::size_t k = 0; k < on_embedded.size(); ++k) {
            result.images[on_embedded[k]].config = embedded_result->images.at(k).config;
            result.images[on_embedded[k]].manifest = embedded_result->images.at(k).manifest;
        }
        result.warnings = embedded_result->warnings;
    }

    if (push) {
        // Each engine pushes what it built (in parallel), then the index goes under the tags.
        std::vector<std::thread> threads;
        for (std::size_t i : on_engines) {
            threads.emplace_back([&, i] {
                const NodeSpec& node = builder.nodes[node_of[i]];
                try {
                    const std::vector<Reference> targets =
                        single ? refs
                               : std::vector<Reference>{refs.front().with_tag(
                                     platform_tag(refs.front().tag(), wanted[i]))};
                    for (const Reference& target : targets) {
                        const docker::PushedManifest pushed =
                            docker::push(*clients.at(node_of[i]), target, credentials, progress,
                                         cancelled, node.name);
                        Descriptor manifest;
                        manifest.media_type = std::string(media_type::kDockerManifest);
                        manifest.digest = pushed.digest;
                        manifest.size = pushed.size;
                        manifest.platform = wanted[i];
                        result.images[i].manifest = manifest;
                    }
                } catch (...) {
                    failure.record(node_label(builder, node, wanted[i]) + " (push)", run);
                }
            });
        }
        for (std::thread& t : threads) {
            t.join();
        }
        token.throw_if_cancelled();
        failure.throw_if_failed();
        if (single) {
            result.descriptor = result.images.front().manifest;
            result.descriptor.platform.reset();
        } else {
            std::vector<Reference> manifests;
            for (const PlatformImage& image : result.images) {
                manifests.push_back(
                    refs.front().without_tag().with_digest(image.manifest.digest.to_string()));
            }
            // As buildx shows it: "exporting manifest list", then one push per name.
            util::ProgressReporter reporter(progress);
            const std::string vertex = "export:manifest-list";
            const std::string name = "exporting manifest list";
            reporter.started(vertex, name);
            try {
                const RawContent index = registry.create_index(refs, manifests, {});
                result.descriptor = index.descriptor();
                for (const Reference& ref : refs) {
                    reporter.status(vertex, name,
                                    "pushing manifest for " + ref.to_string() + "@" +
                                        result.descriptor.digest.to_string(),
                                    0, 0, true);
                }
            } catch (const Error& e) {
                reporter.failed(vertex, name, e.what());
                throw;
            }
            reporter.completed(vertex, name);
        }
    } else if (single) {
        result.descriptor.digest = result.images.front().config;
    }

    exporter::Metadata metadata;
    if (push || single) {
        metadata.add_image(
            result.descriptor,
            single ? std::optional<Digest>(result.images.front().config) : std::nullopt, names);
    }
    result.metadata_json = metadata.to_json();
    if (!options.metadata_file.empty()) {
        oci::fs::write_file_atomic(options.metadata_file, result.metadata_json);
    }
    if (!options.iid_file.empty()) {
        // docker build --iidfile: the image ID; buildx after a push: the pushed root.
        const Digest id = single && !push ? result.images.front().config : result.descriptor.digest;
        oci::fs::write_file_atomic(options.iid_file, id.to_string());
    }
    return result;
}

}  // namespace xarch::drivers
