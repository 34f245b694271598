// SPDX-License-Identifier: Apache-2.0
// Internals of the OCI module shared between its files and with its tests.
#pragma once

#include "oci/json.hpp"

#include <xarch/descriptor.hpp>
#include <xarch/digest.hpp>
#include <xarch/image_index.hpp>
#include <xarch/oci_layout.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace xarch::oci {

// A Digest from text that is known to be well formed (computed here).
Digest make_digest(std::string text);

// One step of the ChainID rule on the digests' string forms: sha256(parent + " " + diff_id).
// Works on any strings, so that image-spec's own test vectors ("sha256:a") can be checked.
std::string chain_id_step(std::string_view parent, std::string_view diff_id);

// A descriptor object at `path` of a document being read.
Descriptor read_descriptor(const json::Reader& reader,
                           const json::bj::value& value,
                           std::string_view path);
void write_descriptor(json::Writer& writer, const Descriptor& descriptor);

// The `{"imageLayoutVersion": "1.0.0"}` file of a layout. Throws Error(kInvalidArgument).
void parse_layout_header(std::string_view json);
std::string layout_header();

// Bounds on what the layout code reads into memory, against hostile or corrupted input.
inline constexpr std::size_t kMaxIndexBytes = std::size_t{64} << 20;
inline constexpr std::size_t kMaxManifestBytes = std::size_t{16} << 20;
inline constexpr std::size_t kMaxLayoutHeaderBytes = std::size_t{64} << 10;

// Every descriptor reachable from `roots` in `layout`, each under its digest (the first
// descriptor met for it): the roots themselves and, for each index and manifest whose blob is
// present, what it references (manifests, config, layers, subject). Blobs that are absent are
// listed but not followed. Throws Error(kInvalidArgument) when a present index or manifest cannot
// be parsed.
std::map<Digest, Descriptor> reachable(const OciLayout& layout, std::span<const Descriptor> roots);

// Read-modify-write of index.json under the layout's exclusive lock; a missing index.json reads
// as an empty index.
void update_index(const OciLayout& layout, const std::function<void(ImageIndex&)>& change);

// What OciLayout::add_manifest() does to the index: with a ref name, replace the entries of that
// name; without, skip a descriptor that is present already.
void add_to_index(ImageIndex& index, Descriptor descriptor, std::string_view ref_name);

}  // namespace xarch::oci
