// SPDX-License-Identifier: Apache-2.0
// xarch::DockerfileError's constructor: the located message.
#include <xarch/error.hpp>

#include <utility>

namespace xarch {

namespace {

std::string located(const std::string& file, int line, const std::string& detail) {
    if (line <= 0) {
        return file + ": " + detail;
    }
    return file + ":" + std::to_string(line) + ": " + detail;
}

}  // namespace

DockerfileError::DockerfileError(std::string file, int start_line, int end_line, std::string detail)
    : Error(ErrorCode::kInvalidArgument, located(file, start_line, detail)),
      file_(std::move(file)),
      start_line_(start_line),
      end_line_(end_line < start_line ? start_line : end_line),
      detail_(std::move(detail)) {}

}  // namespace xarch
