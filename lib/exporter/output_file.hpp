// SPDX-License-Identifier: Apache-2.0
// Outputs that appear whole or not at all: a file written beside its destination and renamed
// over it, a directory filled beside its destination and swapped in; "-" is standard output.
#pragma once

#include <filesystem>
#include <functional>

namespace xarch::exporter {

// Calls `write(fd)` on a temporary file next to `dest`, then fsyncs it and renames it over
// `dest`; on any failure the temporary file is removed and `dest` is left as it was. With dest
// "-" writes to standard output instead (refused when it is a terminal, as buildx refuses).
void write_output_file(const std::filesystem::path& dest, const std::function<void(int fd)>& write);

// Calls `fill(dir)` on a new directory next to `dest`, then puts it in place of `dest` (an old
// `dest` is renamed aside and removed afterwards); on failure the new directory is removed and
// `dest` is left as it was.
void replace_directory(const std::filesystem::path& dest,
                       const std::function<void(const std::filesystem::path& dir)>& fill);

}  // namespace xarch::exporter
