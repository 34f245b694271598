// SPDX-License-Identifier: Apache-2.0
// The exporters behind export_all(), one per output type, and what they share: the image being
// exported and the names it gets.
#pragma once

#include "exporter/exporter.hpp"

#include <xarch/builder.hpp>
#include <xarch/descriptor.hpp>

#include <string>
#include <vector>

namespace xarch::exporter {

// What every image output exports: the root (the manifest of a single image, else the index),
// and the names of this output (-t first, then its name=, each once).
struct ImageExport {
    const ExportRequest& request;
    Descriptor root;
    std::vector<std::string> names;
    // push-by-digest=true: the root is pushed without a tag (BuildKit's image exporter).
    bool push_by_digest = false;
    // Every blob the root reaches: the index, manifests, configs, layers (each once).
    std::vector<Descriptor> blobs() const;
};

// The progress vertex of one output, as buildx names it ("exporting to image").
struct Vertex {
    std::string id;
    std::string name;
};

// type=registry and type=image,push=true: the root and what it reaches pushed under every
// name, base layers mounted from their source repositories.
void export_registry(const ImageExport& image, ExportContext& context, const Vertex& vertex);
// type=oci: an OCI archive at dest (or standard output) or, with tar=false, an OCI layout.
void export_oci(const ImageExport& image,
                const OutputSpec& spec,
                ExportContext& context,
                const Vertex& vertex);
// type=docker: a docker archive at dest, or loaded into the Docker Engine without one.
void export_docker(const ImageExport& image,
                   const OutputSpec& spec,
                   ExportContext& context,
                   const Vertex& vertex);
// type=local: the final filesystem under dest (a subdirectory per platform when several).
void export_local(const ExportRequest& request,
                  const OutputSpec& spec,
                  ExportContext& context,
                  const Vertex& vertex);
// type=tar: the same filesystem as a tar at dest or on standard output.
void export_tar(const ExportRequest& request,
                const OutputSpec& spec,
                ExportContext& context,
                const Vertex& vertex);

// Every layer of the request present in the store (ensure_blob for those that are not).
void ensure_layers(const ExportRequest& request, ExportContext& context);

// The names fully qualified with a tag, as BuildKit's oci and docker exporters report them:
// busybox -> docker.io/library/busybox:latest.
std::vector<std::string> full_names(const std::vector<std::string>& names);

// BuildKit's name for a platform's subdirectory: "linux_arm64", "linux_arm_v7".
std::string platform_directory(const Platform& platform);

// Throws Error(kCancelled) "build cancelled" once context.cancelled() says so.
void check_cancelled(const ExportContext& context);

}  // namespace xarch::exporter
