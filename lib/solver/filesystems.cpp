// SPDX-License-Identifier: Apache-2.0
// Unpacked layers and merged views of image states.
#include "filesystems.hpp"

#include "layer/unpack.hpp"

#include <xarch/error.hpp>
#include <xarch/reference.hpp>

namespace xarch::solver {

void Filesystems::ensure_blob(const LayerInfo& layer) {
    OciLayout& store = cache_.content();
    if (store.has_blob(layer.blob.digest)) {
        return;
    }
    blobs_.get(layer.blob.digest.to_string(), [&] {
        if (store.has_blob(layer.blob.digest)) {
            return true;
        }
        if (layer.source_repository.empty()) {
            throw Error(ErrorCode::kNotFound, "layer " + layer.blob.digest.to_string() +
                                                  " is missing from the build cache " +
                                                  cache_.dir().string() +
                                                  "; build again with --no-cache");
        }
        const Reference repository = Reference::parse_repository(layer.source_repository);
        BlobWriter writer = store.blob_writer(layer.blob);
        registry_.fetch_blob(repository, layer.blob,
                             [&](std::span<const std::byte> bytes) { writer.write(bytes); });
        writer.commit();
        return true;
    });
}

void Filesystems::remember(const Digest& diff_id, std::vector<layer::Entry> entries) {
    auto built = std::make_shared<layer::MergedView::Layer>();
    built->entries = std::move(entries);
    layers_.get(diff_id.to_string(),
                [&] { return std::shared_ptr<const layer::MergedView::Layer>(std::move(built)); });
}

std::shared_ptr<const layer::MergedView::Layer> Filesystems::layer(const LayerInfo& info) {
    return layers_.get(info.diff_id.to_string(), [&] {
        return cache_.unpacked(info.diff_id, [&](const std::filesystem::path& dir) {
            ensure_blob(info);
            const std::filesystem::path blob = cache_.content().blob_path(info.blob.digest);
            std::FILE* file = std::fopen(blob.c_str(), "rb");
            if (file == nullptr) {
                throw Error(ErrorCode::kIo, "cannot open " + blob.string());
            }
            std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(file, &std::fclose);
            const BlobReader reader = [file](std::span<std::byte> buffer) {
                return std::fread(buffer.data(), 1, buffer.size(), file);
            };
            return layer::unpack_layer(reader, dir, info.diff_id);
        });
    });
}

std::shared_ptr<const layer::MergedView> Filesystems::view(const ImageState& state) {
    return views_.get(state.key.to_string(), [&] {
        std::vector<std::shared_ptr<const layer::MergedView::Layer>> layers;
        layers.reserve(state.layers.size());
        for (const LayerInfo& info : state.layers) {
            layers.push_back(layer(info));
        }
        return std::make_shared<const layer::MergedView>(std::move(layers));
    });
}

}  // namespace xarch::solver
