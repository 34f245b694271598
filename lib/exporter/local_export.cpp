// SPDX-License-Identifier: Apache-2.0
// type=local and type=tar: the final filesystem of the build (not the image) in a directory or
// a tar; with several platforms, a subdirectory per platform as BuildKit lays them out.
#include "exporter/output_file.hpp"
#include "exporter/outputs.hpp"
#include "layer/writer.hpp"
#include "oci/fs.hpp"

#include <xarch/error.hpp>

namespace xarch::exporter {

void export_local(const ExportRequest& request,
                  const OutputSpec& spec,
                  ExportContext& context,
                  const Vertex& vertex) {
    replace_directory(spec.dest, [&](const std::filesystem::path& dir) {
        if (request.images.size() == 1) {
            layer::export_directory(context.filesystem(0), dir);
            return;
        }
        for (std::size_t i = 0; i < request.images.size(); ++i) {
            check_cancelled(context);
            const std::string sub = platform_directory(request.images[i].platform);
            context.progress.status(vertex.id, vertex.name, "copying files " + sub, 0, 0, false);
            layer::export_directory(context.filesystem(i), dir / sub);
            context.progress.status(vertex.id, vertex.name, "copying files " + sub, 0, 0, true);
        }
    });
}

void export_tar(const ExportRequest& request,
                const OutputSpec& spec,
                ExportContext& context,
                const Vertex& vertex) {
    std::vector<layer::Entry> entries;
    if (request.images.size() == 1) {
        entries = context.filesystem(0).all();
    } else {
        for (std::size_t i = 0; i < request.images.size(); ++i) {
            const std::string sub = platform_directory(request.images[i].platform);
            layer::Entry dir;
            dir.path = sub;
            dir.type = layer::EntryType::kDirectory;
            dir.mode = 0755;
            entries.push_back(std::move(dir));
            for (auto entry : context.filesystem(i).all()) {
                entry.path = sub + "/" + entry.path;
                if (entry.type == layer::EntryType::kHardlink) {
                    entry.link_target = sub + "/" + entry.link_target;
                }
                entries.push_back(std::move(entry));
            }
        }
    }
    check_cancelled(context);
    context.progress.status(vertex.id, vertex.name, "sending tarball", 0, 0, false);
    write_output_file(spec.dest, [&](int fd) {
        layer::write_tar(std::move(entries), [&](std::span<const std::byte> bytes) {
            oci::fs::write_all(fd, bytes.data(), bytes.size(), spec.dest.empty() ? "-" : spec.dest);
        });
    });
    context.progress.status(vertex.id, vertex.name, "sending tarball", 0, 0, true);
}

}  // namespace xarch::exporter
