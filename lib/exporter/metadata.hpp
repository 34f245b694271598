// SPDX-License-Identifier: Apache-2.0
// The exporter response BuildKit returns for image outputs and buildx writes with
// --metadata-file: containerimage.digest, containerimage.descriptor,
// containerimage.config.digest, image.name.
#pragma once

#include <xarch/descriptor.hpp>
#include <xarch/digest.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xarch::exporter {

// The keys of one exporter's response; several outputs merge into one (a later key wins, as
// BuildKit merges exporter responses).
class Metadata {
public:
    // What an image exporter reports for `root`: its digest and descriptor, the config digest
    // when the root is a single manifest, the names when there are any (comma-joined).
    void add_image(const Descriptor& root,
                   const std::optional<Digest>& config,
                   const std::vector<std::string>& names);

    // buildx's json.MarshalIndent(map, "", "  "): keys sorted, objects for the decoded JSON
    // values; "{}" when empty.
    std::string to_json() const;

private:
    std::map<std::string, std::string> json_values_;  // key -> compact JSON value
};

}  // namespace xarch::exporter
