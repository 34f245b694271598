// SPDX-License-Identifier: Apache-2.0
// The Dockerfile an engine builds one platform from: every stage's base image pinned to that
// platform's manifest digest. An engine's classic builder keeps one image per tag and finds a
// base by its tag: with two platforms of one base built on one engine, a platform would be
// built from the other's image (and `pull=1` does not help: the engine sees the index digest
// unchanged and calls the tag up to date). A digest names one platform's image only.
#pragma once

#include <xarch/digest.hpp>
#include <xarch/platform.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::drivers::docker {

// The manifest digest of `reference` for `platform`; nullopt when it cannot be known (an image
// only the engine has): that base is then left as written.
using ResolveBase =
    std::function<std::optional<Digest>(const std::string& reference, const Platform& platform)>;

struct PinnedDockerfile {
    std::string text;
    // "FROM busybox:latest -> 127.0.0.1:5000/library/busybox@sha256:..." per pinned base, and
    // the bases left as written with why; for the build's progress.
    std::vector<std::string> notes;
    bool changed = false;
};

// Plans `dockerfile_text` for `platform` as BuildKit would (build args, automatic platform
// args for `build_platform`, --target) and rewrites the FROM line of each stage the target
// reaches whose base is an image to `<repository>@<digest>` (FROM --platform and AS kept).
// The rewritten FROM takes the place of the original's first line and the lines it continued
// on stay as empty lines, so that line numbers in the engine's messages still match the file.
// Throws DockerfileError as the planner does.
PinnedDockerfile pin_base_images(std::string_view dockerfile_text,
                                 const std::string& file_name,
                                 const std::map<std::string, std::string>& build_args,
                                 const std::string& target,
                                 const Platform& platform,
                                 const Platform& build_platform,
                                 const ResolveBase& resolve);

}  // namespace xarch::drivers::docker
