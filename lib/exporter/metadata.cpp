// SPDX-License-Identifier: Apache-2.0
// The metadata file's JSON, byte for byte as buildx writes it for the same response.
#include "exporter/metadata.hpp"

#include "oci/json.hpp"

namespace xarch::exporter {
namespace {

std::string json_string(std::string_view text) {
    oci::json::Writer writer;
    writer.string(text);
    return writer.take();
}

}  // namespace

void Metadata::add_image(const Descriptor& root,
                         const std::optional<Digest>& config,
                         const std::vector<std::string>& names) {
    // BuildKit marshals the root descriptor without the annotations it uses internally.
    Descriptor descriptor;
    descriptor.media_type = root.media_type;
    descriptor.digest = root.digest;
    descriptor.size = root.size;
    json_values_["containerimage.descriptor"] = descriptor.serialize();
    json_values_["containerimage.digest"] = json_string(root.digest.to_string());
    if (config) {
        json_values_["containerimage.config.digest"] = json_string(config->to_string());
    } else {
        json_values_.erase("containerimage.config.digest");
    }
    if (!names.empty()) {
        std::string joined;
        for (const auto& name : names) {
            joined += (joined.empty() ? "" : ",") + name;
        }
        json_values_["image.name"] = json_string(joined);
    }
}

std::string Metadata::to_json() const {
    oci::json::Writer writer;
    writer.begin_object();
    for (const auto& [key, value] : json_values_) {
        writer.key(key);
        writer.raw(value);
    }
    writer.end_object();
    return oci::json::indent(writer.text());
}

}  // namespace xarch::exporter
