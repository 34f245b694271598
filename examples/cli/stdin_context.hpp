// SPDX-License-Identifier: Apache-2.0
// `xarch build -`: standard input read as buildx reads it. A tar archive (plain, gzip, bzip2, xz
// or zstd) is the build context; anything else is the Dockerfile, built with an empty context.
#pragma once

#include "xarch/context.hpp"

#include <filesystem>
#include <memory>

namespace xarch::cli {

class StdinContext {
public:
    // Reads `fd` (standard input) to its end. Throws xarch::Error as BuildContext::from_tar_fd
    // does for a bad archive.
    explicit StdinContext(int fd);
    ~StdinContext();
    StdinContext(const StdinContext&) = delete;
    StdinContext& operator=(const StdinContext&) = delete;

    BuildContext& context() { return *context_; }
    // True when standard input was the Dockerfile (its text is set on the context already).
    bool dockerfile_from_stdin() const { return empty_dir_ != std::filesystem::path(); }

private:
    // The empty context of a Dockerfile read from standard input; removed with this.
    std::filesystem::path empty_dir_;
    std::unique_ptr<BuildContext> context_;
};

}  // namespace xarch::cli
