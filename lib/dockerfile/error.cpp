// SPDX-License-Identifier: Apache-2.0
// The constructors of xarch::DockerfileError and xarch::BuildError: the located message.
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

DockerfileError::DockerfileError(ErrorCode code,
                                 const std::string& message,
                                 std::string file,
                                 int start_line,
                                 int end_line,
                                 std::string detail)
    : Error(code, message),
      file_(std::move(file)),
      start_line_(start_line),
      end_line_(end_line < start_line ? start_line : end_line),
      detail_(std::move(detail)) {}

BuildError::BuildError(
    std::string file, int start_line, int end_line, std::string detail, Step step)
    // Copies, not moves: the order in which arguments are evaluated is unspecified.
    : DockerfileError(ErrorCode::kBuildFailed,
                      located(file, start_line, detail),
                      file,
                      start_line,
                      end_line,
                      detail),
      step_(std::move(step)) {}

BuildError::BuildError(const std::string& message, Step step)
    : DockerfileError(ErrorCode::kBuildFailed, message, "", 0, 0, message),
      step_(std::move(step)) {}

}  // namespace xarch
