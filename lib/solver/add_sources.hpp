// SPDX-License-Identifier: Apache-2.0
// What ADD does beyond COPY: a local archive (tar, plain or gzip, bzip2, xz or zstd compressed)
// is unpacked at the destination, and an http(s) URL is downloaded, its --checksum verified.
#pragma once

#include "layer/entry.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::solver {

// Whether `file` is an archive ADD unpacks, by its content as BuildKit's untar detection:
// a compression magic (gzip, bzip2, xz, zstd) over a tar, or a bare tar ("ustar" header).
bool is_archive(const std::filesystem::path& file);

// The archive's entries, their bytes extracted under `dir` (created); paths relative to the
// archive root, cleaned, never leaving it. Throws Error(kInvalidArgument) naming the archive for
// an unreadable one or an entry that would leave its root.
std::vector<layer::Entry> extract_archive(const std::filesystem::path& file,
                                          const std::filesystem::path& dir);

// Downloads `url` into a fresh file under `dir`: the entry is named as BuildKit names it (the
// last segment of the URL path, "__unnamed__" when there is none), mode 0600, mtime from
// Last-Modified when the server sends it, else the download time (as BuildKit's http source;
// the Dockerfile frontend names the file itself, so Content-Disposition is not used).
// `checksum` ("sha256:<hex>", may be empty) is verified: Error(kDigestMismatch) quoting both
// digests. Network failures and HTTP errors are Error(kNetwork) quoting the URL.
layer::Entry fetch_url(std::string_view url,
                       std::string_view checksum,
                       const std::filesystem::path& dir);

}  // namespace xarch::solver
