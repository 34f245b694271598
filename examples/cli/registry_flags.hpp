// SPDX-License-Identifier: Apache-2.0
// Flags shared by the commands that talk to registries, mapped onto RegistryOptions. Credentials
// come from Docker's config.json ($DOCKER_CONFIG or ~/.docker), as RegistryOptions does by default.
#pragma once

#include "args.hpp"
#include "xarch/registry.hpp"

#include <vector>

namespace xarch::cli {

inline std::vector<FlagSpec> registry_flags() {
    return {
        {"insecure-registry", '\0', true, "stringArray",
         "Reach this registry (host[:port]) over plain HTTP or unverified TLS; loopback always is",
         ""},
        {"ca-bundle", '\0', true, "file", "Also trust the CAs in this PEM file", ""},
    };
}

inline RegistryOptions registry_options(const ParsedArgs& args) {
    RegistryOptions options;
    options.insecure_registries = args.all("insecure-registry");
    options.ca_bundle = args.get("ca-bundle");
    return options;
}

}  // namespace xarch::cli
