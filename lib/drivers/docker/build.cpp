// SPDX-License-Identifier: Apache-2.0
// POST /build on one engine: the query, the automatic platform args, the streamed context and
// the answer read by BuildProgress.
#include "drivers/docker/build.hpp"

#include "dockerfile/instructions.hpp"
#include "dockerfile/parser.hpp"
#include "drivers/docker/build_progress.hpp"
#include "drivers/docker/context_tar.hpp"
#include "registry/url.hpp"

#include <xarch/error.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <exception>
#include <filesystem>

namespace xarch::drivers::docker {
namespace {

void add_declared(const dockerfile::Command& command, std::vector<std::string>& names) {
    if (const auto* arg = command.get<dockerfile::ArgCommand>()) {
        for (const dockerfile::ArgDefinition& definition : arg->args) {
            if (std::find(names.begin(), names.end(), definition.key) == names.end()) {
                names.push_back(definition.key);
            }
        }
    }
}

std::string json_object(const std::map<std::string, std::string>& values) {
    boost::json::object object;
    for (const auto& [key, value] : values) {
        object[key] = value;
    }
    return boost::json::serialize(object);
}

}  // namespace

std::map<std::string, std::string> automatic_platform_args(
    const Platform& platform, const std::optional<Platform>& build_platform) {
    const Platform target = platform.normalized();
    const Platform host = (build_platform ? *build_platform : Platform::host()).normalized();
    return {
        {"TARGETPLATFORM", target.to_string()}, {"TARGETOS", target.os()},
        {"TARGETARCH", target.architecture()},  {"TARGETVARIANT", target.variant()},
        {"BUILDPLATFORM", host.to_string()},    {"BUILDOS", host.os()},
        {"BUILDARCH", host.architecture()},     {"BUILDVARIANT", host.variant()},
    };
}

std::vector<std::string> declared_args(std::string_view dockerfile_text,
                                       std::string_view file_name) {
    dockerfile::ParseOptions options;
    options.file_name = std::string(file_name);
    const dockerfile::Program program =
        dockerfile::parse_program(dockerfile::parse(dockerfile_text, options));
    std::vector<std::string> names;
    for (const dockerfile::Command& command : program.meta_args) {
        add_declared(command, names);
    }
    for (const dockerfile::Stage& stage : program.stages) {
        for (const dockerfile::Command& command : stage.commands) {
            add_declared(command, names);
        }
    }
    return names;
}

std::map<std::string, std::string> engine_build_args(const BuildContext& context,
                                                     std::string_view dockerfile_text,
                                                     const EngineBuild& build) {
    const std::optional<std::filesystem::path> path = context.dockerfile_path();
    const std::vector<std::string> declared =
        declared_args(dockerfile_text, path ? path->filename().string() : "Dockerfile");
    std::map<std::string, std::string> args;
    for (auto& [key, value] : automatic_platform_args(build.platform, build.build_platform)) {
        if (std::find(declared.begin(), declared.end(), key) != declared.end()) {
            args[key] = value;
        }
    }
    for (const auto& [key, value] : context.build_args()) {
        args[key] = value;
    }
    return args;
}

std::string build_query(const BuildContext& context,
                        const EngineBuild& build,
                        std::string_view dockerfile_name,
                        const std::map<std::string, std::string>& build_args) {
    std::string query;
    auto add = [&](std::string_view key, std::string_view value) {
        if (!query.empty()) {
            query += '&';
        }
        query += key;
        query += '=';
        query += registry::percent_encode(value);
    };
    for (const std::string& tag : build.tags) {
        add("t", tag);
    }
    add("platform", build.platform.to_string());
    add("dockerfile", dockerfile_name);
    if (!context.target().empty()) {
        add("target", context.target());
    }
    if (!build_args.empty()) {
        add("buildargs", json_object(build_args));
    }
    if (!context.labels().empty()) {
        add("labels", json_object(context.labels()));
    }
    if (build.no_cache) {
        add("nocache", "1");
    }
    if (build.pull) {
        add("pull", "1");
    }
    if (!build.network.empty()) {
        add("networkmode", build.network);
    }
    add("rm", "1");
    add("forcerm", "1");
    add("version", "1");
    return query;
}

EngineBuildResult build(engine::Client& client,
                        BuildContext& context,
                        const EngineBuild& build,
                        const ProgressCallback& progress,
                        const std::function<bool()>& cancelled) {
    BuildProgress events(build.node, build.platform, progress);
    std::string query;
    std::optional<ContextTar> tar;
    try {
        const std::string dockerfile_text = context.dockerfile_text();
        const std::map<std::string, std::string> args =
            engine_build_args(context, dockerfile_text, build);
        std::optional<std::string> pinned;
        if (build.resolve_base) {
            const std::optional<std::filesystem::path> path = context.dockerfile_path();
            PinnedDockerfile pin =
                pin_base_images(dockerfile_text, path ? path->filename().string() : "Dockerfile",
                                args, context.target(), build.platform,
                                build.build_platform ? *build.build_platform : Platform::host(),
                                build.resolve_base);
            if (pin.changed) {
                pinned = std::move(pin.text);
            }
        }
        tar.emplace(context, std::move(pinned), build.context_entries);
        query = build_query(context, build, tar->dockerfile_name(), args);
    } catch (const DockerfileError&) {
        throw;
    } catch (const Error&) {
        rethrow_named(events.who());
    }

    engine::Client::Request request;
    request.method = "POST";
    request.path_and_query = "/build?" + query;
    request.headers = {"Content-Type: application/x-tar"};
    request.body = [&](char* buffer, std::size_t size) {
        const std::size_t n = tar->read(buffer, size);
        events.context_sent(tar->bytes_read(), n == 0);
        return n;
    };
    stream_into(client, request, events, cancelled);
    return {events.image_id()};
}

}  // namespace xarch::drivers::docker
