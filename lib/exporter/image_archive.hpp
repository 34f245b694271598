// SPDX-License-Identifier: Apache-2.0
// An image archive as BuildKit's oci and docker exporters write it (containerd's archive
// exporter): oci-layout, index.json, blobs/<alg>/<hex> and, for docker, manifest.json, as one
// tar streamed to a file descriptor.
#pragma once

#include <xarch/descriptor.hpp>
#include <xarch/image_index.hpp>
#include <xarch/oci_layout.hpp>

#include <functional>
#include <string>
#include <vector>

namespace xarch::exporter {

// A small file of the archive given by its bytes (index.json, manifest.json).
struct ArchiveFile {
    std::string name;
    std::string bytes;
};

// Writes the tar to `fd`: `files` and the blobs (read from `store`; a nondistributable layer
// absent from it is left out, any other absent blob is Error(kNotFound)), with the directories
// they need, sorted by name, uid/gid 0, mtime 0, modes 0644 and 0755. `cancelled` is checked
// between blobs.
void write_image_archive(int fd,
                         const OciLayout& store,
                         const std::vector<Descriptor>& blobs,
                         const std::vector<ArchiveFile>& files,
                         const std::function<bool()>& cancelled);

// index.json of an archive: the root under each name with BuildKit's annotations
// (io.containerd.image.name: the full name, org.opencontainers.image.ref.name: its tag), or
// once without annotations when there are no names.
ImageIndex archive_index(const Descriptor& root, const std::vector<std::string>& full_names);

}  // namespace xarch::exporter
