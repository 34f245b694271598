// SPDX-License-Identifier: Apache-2.0
// The exporters: what a finished build becomes, for each of buildx's --output types (a registry
// push, an OCI archive or layout, a docker archive or `--load`, a local directory, a tar of the
// filesystem), and the metadata buildx writes with --metadata-file.
#pragma once

#include "layer/merged_view.hpp"
#include "util/progress_reporter.hpp"

#include <xarch/builder.hpp>
#include <xarch/descriptor.hpp>
#include <xarch/digest.hpp>
#include <xarch/image_index.hpp>
#include <xarch/oci_layout.hpp>
#include <xarch/platform.hpp>
#include <xarch/registry.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace xarch::exporter {

struct LayerRef {
    Descriptor blob;  // compressed, as in the manifest
    Digest diff_id;
    std::string source_repository;  // a repository holding the blob when the store may lack it
};

struct BuiltImage {
    Platform platform;
    RawContent config;
    RawContent manifest;
    std::vector<LayerRef> layers;
};

struct ExportRequest {
    std::vector<BuiltImage> images;  // one per platform, in the --platform order
    RawContent index;                // OCI index over images (also when one platform)
    std::vector<std::string> tags;   // -t; each output's name= adds to them
    std::vector<OutputSpec> outputs;
};

struct ExportContext {
    OciLayout& store;  // the cache's content store; configs/manifests/index are in it
    Registry& registry;
    util::ProgressReporter& progress;
    // True once the build is cancelled; checked between blobs and files.
    std::function<bool()> cancelled;
    // Makes a blob present in `store` (fetches a base layer from its source repository).
    std::function<void(const LayerRef&)> ensure_blob;
    // The final filesystem of image i (type=local, type=tar).
    std::function<layer::MergedView(std::size_t image)> filesystem;
    std::string docker_host;  // for --load; "" means $DOCKER_HOST, else the local socket
};

// What export_all() made: the root it exported (the image manifest when one platform was
// built, as BuildKit exports it without attestations, else the index) and the metadata buildx
// writes with --metadata-file ("{}" when no output is an image).
struct ExportResult {
    Descriptor descriptor;
    std::string metadata_json;
};

// Runs every output of the request, in order. Each output is written whole or not at all: files
// and directories appear by rename, a pushed tag moves only after everything it references is
// in the registry. Throws Error(kInvalidArgument) for an output that cannot be honoured (checked
// for all outputs before any is written), Error(kCancelled), and what the registry, the Docker
// Engine or the disk report.
ExportResult export_all(const ExportRequest& request, ExportContext& context);

// type=registry, or type=image with push=true: the output pushes to a registry.
bool pushes(const OutputSpec& spec);
// buildx's name of an output type: "registry", "image", "oci", "docker", "local", "tar".
std::string_view type_name(OutputSpec::Type type);

}  // namespace xarch::exporter
