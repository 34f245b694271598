// SPDX-License-Identifier: Apache-2.0
// type=docker: the image as BuildKit's docker exporter writes it (an OCI archive plus Docker's
// manifest.json), at dest or, without one, loaded into the Docker Engine (--load).
#include "exporter/docker_load.hpp"
#include "exporter/image_archive.hpp"
#include "exporter/output_file.hpp"
#include "exporter/outputs.hpp"
#include "oci/fs.hpp"
#include "oci/json.hpp"

#include <xarch/error.hpp>
#include <xarch/reference.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace xarch::exporter {
namespace {

namespace stdfs = std::filesystem;

std::string blob_path(const Digest& digest) {
    return "blobs/" + std::string(digest.algorithm()) + "/" + std::string(digest.hex());
}

// manifest.json: [{"Config", "RepoTags", "Layers"}] as containerd's archive exporter marshals
// it (RepoTags in Docker's short form, null when the image has no name).
std::string docker_manifest(const BuiltImage& image, const std::vector<std::string>& names) {
    oci::json::Writer writer;
    writer.begin_array();
    writer.begin_object();
    writer.key("Config");
    writer.string(blob_path(image.config.digest));
    writer.key("RepoTags");
    if (names.empty()) {
        writer.raw("null");
    } else {
        std::vector<std::string> tags;
        for (const auto& name : names) {
            tags.push_back(Reference::parse(name).familiar());
        }
        writer.strings(tags);
    }
    writer.key("Layers");
    const Manifest manifest = parse_manifest(image.manifest.bytes, image.manifest.media_type);
    if (manifest.layers.empty()) {
        writer.raw("null");
    } else {
        std::vector<std::string> layers;
        for (const auto& layer : manifest.layers) {
            layers.push_back(blob_path(layer.digest));
        }
        writer.strings(layers);
    }
    writer.end_object();
    writer.end_array();
    return writer.take();
}

// A temporary file that is removed when it goes out of scope.
class TempFile {
public:
    TempFile() : path_(stdfs::temp_directory_path() / oci::fs::temp_name()) {}
    ~TempFile() { ::unlink(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const stdfs::path& path() const { return path_; }

private:
    stdfs::path path_;
};

}  // namespace

void export_docker(const ImageExport& image,
                   const OutputSpec& spec,
                   ExportContext& context,
                   const Vertex& vertex) {
    if (image.request.images.size() != 1) {
        throw Error(ErrorCode::kInvalidArgument,
                    "docker exporter does not support exporting manifest lists, use the oci "
                    "exporter instead");
    }
    ensure_layers(image.request, context);
    const auto names = full_names(image.names);
    const std::vector<ArchiveFile> files{
        {"index.json", archive_index(image.root, names).serialize()},
        {"manifest.json", docker_manifest(image.request.images.front(), names)},
        {"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
    };
    const auto write = [&](int fd) {
        write_image_archive(fd, context.store, image.blobs(), files, context.cancelled);
    };
    context.progress.status(vertex.id, vertex.name, "sending tarball", 0, 0, false);
    if (!spec.dest.empty()) {
        write_output_file(spec.dest, write);
        context.progress.status(vertex.id, vertex.name, "sending tarball", 0, 0, true);
        return;
    }
    const std::string host = docker_host(context.docker_host);
    TempFile archive;
    {
        util::UniqueFd fd(
            ::open(archive.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!fd) {
            oci::fs::fail("create", archive.path(), errno);
        }
        write(fd.get());
        oci::fs::close(fd, archive.path());
    }
    context.progress.status(vertex.id, vertex.name, "sending tarball", 0, 0, true);
    context.progress.status(vertex.id, vertex.name, "importing to docker", 0, 0, false);
    docker_load(
        host, archive.path(),
        [&](std::string_view line) { context.progress.log(vertex.id, vertex.name, line); },
        context.cancelled);
    context.progress.status(vertex.id, vertex.name, "importing to docker", 0, 0, true);
}

}  // namespace xarch::exporter
