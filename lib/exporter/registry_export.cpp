// SPDX-License-Identifier: Apache-2.0
// type=registry (type=image,push=true): the image pushed under each of its names, blobs in
// parallel, base layers mounted from the repository they came from, byte counts per blob
// reported as BuildKit's "pushing layers" statuses.
#include "exporter/outputs.hpp"

#include <xarch/error.hpp>
#include <xarch/reference.hpp>

namespace xarch::exporter {
namespace {

// A LayerRef's source repository ("127.0.0.1:5000/library/busybox", maybe with a tag or
// digest) as the repository to mount from; nullopt when it names none.
std::optional<Reference> source_repository(const std::string& text) {
    if (text.empty()) {
        return std::nullopt;
    }
    try {
        return Reference::parse(text).without_tag().without_digest();
    } catch (const Error&) {
        return std::nullopt;  // then the blob must be in the store, ensured below
    }
}

}  // namespace

void export_registry(const ImageExport& image, ExportContext& context, const Vertex& vertex) {
    PushOptions options;
    for (const auto& built : image.request.images) {
        for (const auto& layer : built.layers) {
            if (auto source = source_repository(layer.source_repository)) {
                options.mount_from.emplace(layer.blob.digest, std::move(*source));
            } else if (!context.store.has_blob(layer.blob.digest) && context.ensure_blob) {
                context.ensure_blob(layer);
            }
        }
    }
    util::ProgressReporter& progress = context.progress;
    options.progress = [&](const TransferProgress& t) {
        const auto total = static_cast<std::int64_t>(t.total.value_or(0));
        const auto done = static_cast<std::int64_t>(t.done);
        progress.status(vertex.id, vertex.name, t.digest.to_string(), done, total,
                        t.total.has_value() && t.done >= *t.total);
        return !(context.cancelled && context.cancelled());
    };
    for (const auto& name : image.names) {
        check_cancelled(context);
        const Reference named = Reference::parse(name);
        const Reference destination = image.push_by_digest ? named.without_tag() : named;
        progress.status(vertex.id, vertex.name, "pushing layers", 0, 0, false);
        context.registry.push(context.store, image.root, destination, options);
        progress.status(vertex.id, vertex.name, "pushing layers", 0, 0, true);
        progress.status(vertex.id, vertex.name,
                        "pushing manifest for " + name + "@" + image.root.digest.to_string(), 0, 0,
                        true);
    }
}

}  // namespace xarch::exporter
