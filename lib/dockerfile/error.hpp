// SPDX-License-Identifier: Apache-2.0
// DockerfileError: a parse or check failure with its place in the file. STYLE.md lists it among
// the public error classes; until include/xarch/error.hpp has it, it lives here.
#pragma once

#include <xarch/error.hpp>

#include <string>

namespace xarch::dockerfile {

class DockerfileError : public Error {
public:
    // what() is "FILE:LINE: DETAIL" ("FILE: DETAIL" when line is 0).
    DockerfileError(std::string file, int start_line, int end_line, std::string detail);

    const std::string& file() const noexcept { return file_; }
    int start_line() const noexcept { return start_line_; }  // 1-based; 0 when not tied to a line
    int end_line() const noexcept { return end_line_; }
    const std::string& detail() const noexcept { return detail_; }  // the message alone

private:
    std::string file_;
    int start_line_;
    int end_line_;
    std::string detail_;
};

}  // namespace xarch::dockerfile
