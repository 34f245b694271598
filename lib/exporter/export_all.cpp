// SPDX-License-Identifier: Apache-2.0
// export_all(): the outputs of a build checked together, then run one after another under
// buildx's progress vertexes, and the metadata of the image outputs merged.
#include "exporter/exporter.hpp"
#include "exporter/metadata.hpp"
#include "exporter/outputs.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>
#include <xarch/reference.hpp>

#include <algorithm>
#include <set>

namespace xarch::exporter {
namespace {

using Type = OutputSpec::Type;

bool is_image_output(const OutputSpec& spec) {
    return spec.type == Type::kRegistry || spec.type == Type::kImage || spec.type == Type::kOci ||
           spec.type == Type::kDocker;
}

// -t first, then the output's name=, each once.
std::vector<std::string> names_of(const ExportRequest& request, const OutputSpec& spec) {
    std::vector<std::string> names;
    for (const auto* list : {&request.tags, &spec.names}) {
        for (const auto& name : *list) {
            if (std::find(names.begin(), names.end(), name) == names.end()) {
                names.push_back(name);
            }
        }
    }
    return names;
}

Vertex vertex_of(const OutputSpec& spec, std::size_t position) {
    const std::string suffix = position == 0 ? "" : ":" + std::to_string(position);
    switch (spec.type) {
        case Type::kRegistry:
        case Type::kImage:
            return {"export:image" + suffix, "exporting to image"};
        case Type::kOci:
            return {"export:oci" + suffix, "exporting to oci image format"};
        case Type::kDocker:
            return {"export:docker" + suffix, "exporting to docker image format"};
        case Type::kLocal:
            return {"export:local" + suffix, "exporting to client directory"};
        case Type::kTar:
            return {"export:tar" + suffix, "exporting to client tarball"};
    }
    return {"export" + suffix, "exporting"};
}

// What buildx and BuildKit refuse before anything is written.
void check_outputs(const ExportRequest& request, const ExportContext& context) {
    if (request.images.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "nothing to export: the build made no image");
    }
    std::set<std::string> stdout_users;
    for (const auto& spec : request.outputs) {
        const auto names = names_of(request, spec);
        if (spec.type == Type::kDocker && request.images.size() > 1) {
            throw Error(ErrorCode::kInvalidArgument,
                        spec.dest.empty()
                            ? "docker exporter does not currently support exporting manifest "
                              "lists: --load takes one platform; use type=oci or push instead"
                            : "docker exporter does not support exporting manifest lists, use "
                              "the oci exporter instead");
        }
        if (pushes(spec) && names.empty()) {
            throw Error(ErrorCode::kInvalidArgument,
                        "tag is needed when pushing to registry: add -t NAME or name=NAME");
        }
        if (is_image_output(spec)) {
            for (const auto& name : names) {
                Reference::parse(name);  // quotes a bad name before anything is written
            }
        }
        if ((spec.type == Type::kLocal || spec.type == Type::kTar) && !context.filesystem) {
            throw Error(ErrorCode::kInternal, "the build gave no filesystem for type=local/tar");
        }
        const bool to_stdout =
            (spec.type == Type::kTar || spec.type == Type::kOci || spec.type == Type::kDocker) &&
            spec.dest == "-";
        if (to_stdout && !stdout_users.insert("-").second) {
            throw Error(ErrorCode::kInvalidArgument,
                        "multiple outputs configured to write to stdout");
        }
    }
}

// The documents every image output reads from the store (the solver wrote them; writing a
// present blob is a no-op).
void store_documents(const ExportRequest& request, OciLayout& store) {
    for (const auto& image : request.images) {
        store.write_blob(image.config.descriptor(), image.config.bytes);
        store.write_blob(image.manifest.descriptor(), image.manifest.bytes);
    }
    if (request.images.size() > 1) {
        store.write_blob(request.index.descriptor(), request.index.bytes);
    }
}

}  // namespace

std::vector<Descriptor> ImageExport::blobs() const {
    std::vector<Descriptor> out;
    std::set<Digest> seen;
    const auto add = [&](const Descriptor& d) {
        if (seen.insert(d.digest).second) {
            out.push_back(d);
        }
    };
    if (request.images.size() > 1) {
        add(request.index.descriptor());
    }
    for (const auto& image : request.images) {
        add(image.manifest.descriptor());
        add(image.config.descriptor());
        for (const auto& layer : image.layers) {
            add(layer.blob);
        }
    }
    return out;
}

std::string platform_directory(const Platform& platform) {
    std::string name = platform.normalized().to_string();
    std::replace(name.begin(), name.end(), '/', '_');
    return name;
}

void check_cancelled(const ExportContext& context) {
    if (context.cancelled && context.cancelled()) {
        throw Error(ErrorCode::kCancelled, "build cancelled");
    }
}

ExportResult export_all(const ExportRequest& request, ExportContext& context) {
    check_outputs(request, context);
    ExportResult result;
    // BuildKit exports one platform as its manifest (an index only when there are several, or
    // attestations, which xarch does not make).
    result.descriptor = request.images.size() == 1 ? request.images.front().manifest.descriptor()
                                                   : request.index.descriptor();
    const std::optional<Digest> config =
        request.images.size() == 1 ? std::optional<Digest>(request.images.front().config.digest)
                                   : std::nullopt;
    if (std::any_of(request.outputs.begin(), request.outputs.end(), is_image_output)) {
        store_documents(request, context.store);
    }
    Metadata metadata;
    for (std::size_t i = 0; i < request.outputs.size(); ++i) {
        const OutputSpec& spec = request.outputs[i];
        check_cancelled(context);
        const Vertex vertex = vertex_of(spec, i);
        const auto by_digest = spec.attributes.find("push-by-digest");
        const ImageExport image{request, result.descriptor, names_of(request, spec),
                                by_digest != spec.attributes.end() && by_digest->second == "true"};
        context.progress.started(vertex.id, vertex.name);
        try {
            switch (spec.type) {
                case Type::kRegistry:
                case Type::kImage:
                    if (pushes(spec)) {
                        export_registry(image, context, vertex);
                    }
                    metadata.add_image(result.descriptor, config, image.names);
                    break;
                case Type::kOci:
                case Type::kDocker: {
                    if (spec.type == Type::kOci) {
                        export_oci(image, spec, context, vertex);
                    } else {
                        export_docker(image, spec, context, vertex);
                    }
                    // BuildKit's oci and docker exporters report the names fully qualified.
                    metadata.add_image(result.descriptor, config, full_names(image.names));
                    break;
                }
                case Type::kLocal:
                    export_local(request, spec, context, vertex);
                    break;
                case Type::kTar:
                    export_tar(request, spec, context, vertex);
                    break;
            }
        } catch (const std::exception& e) {
            context.progress.failed(vertex.id, vertex.name, e.what());
            throw;
        }
        context.progress.completed(vertex.id, vertex.name);
    }
    result.metadata_json = metadata.to_json();
    return result;
}

bool pushes(const OutputSpec& spec) {
    return spec.type == Type::kRegistry || (spec.type == Type::kImage && spec.push);
}

}  // namespace xarch::exporter
