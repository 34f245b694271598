// SPDX-License-Identifier: Apache-2.0
// type=oci: the image as an OCI archive (tar=true, to dest or standard output) or into an OCI
// layout directory (tar=false), named as BuildKit's oci exporter names it.
#include "exporter/image_archive.hpp"
#include "exporter/output_file.hpp"
#include "exporter/outputs.hpp"

#include <xarch/reference.hpp>

namespace xarch::exporter {

void ensure_layers(const ExportRequest& request, ExportContext& context) {
    for (const auto& image : request.images) {
        for (const auto& layer : image.layers) {
            check_cancelled(context);
            if (!context.store.has_blob(layer.blob.digest) && context.ensure_blob &&
                !media_type::is_nondistributable(layer.blob.media_type)) {
                context.ensure_blob(layer);
            }
        }
    }
}

std::vector<std::string> full_names(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const auto& name : names) {
        out.push_back(Reference::parse(name).to_string());
    }
    return out;
}

void export_oci(const ImageExport& image,
                const OutputSpec& spec,
                ExportContext& context,
                const Vertex& vertex) {
    ensure_layers(image.request, context);
    const ImageIndex index = archive_index(image.root, full_names(image.names));
    if (spec.tar) {
        context.progress.status(vertex.id, vertex.name, "sending tarball", 0, 0, false);
        const std::vector<ArchiveFile> files{
            {"index.json", index.serialize()},
            {"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
        };
        write_output_file(spec.dest, [&](int fd) {
            write_image_archive(fd, context.store, image.blobs(), files, context.cancelled);
        });
        context.progress.status(vertex.id, vertex.name, "sending tarball", 0, 0, true);
        return;
    }
    // A layout directory: blobs first, then index.json replaced at once, so that a reader sees
    // the old index or the new one and every blob either lists.
    OciLayout layout = OciLayout::create(spec.dest);
    for (const auto& blob : image.blobs()) {
        check_cancelled(context);
        if (layout.has_blob(blob.digest)) {
            continue;
        }
        if (!context.store.has_blob(blob.digest) &&
            media_type::is_nondistributable(blob.media_type)) {
            continue;
        }
        auto writer = layout.blob_writer(blob);
        context.store.read_blob(blob.digest,
                                [&](std::span<const std::byte> bytes) { writer.write(bytes); });
        writer.commit();
        context.progress.status(vertex.id, vertex.name, blob.digest.to_string(), blob.size,
                                blob.size, true);
    }
    for (const auto& entry : index.manifests) {
        const auto name = entry.annotations.find(std::string(annotation::kRefName));
        layout.add_manifest(entry, name == entry.annotations.end() ? "" : name->second);
    }
}

}  // namespace xarch::exporter
