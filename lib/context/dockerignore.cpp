// SPDX-License-Identifier: Apache-2.0
#include "context/dockerignore.hpp"

#include "context/filepath_match.hpp"
#include "util/go_text.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

namespace xarch::context {
namespace {

// bufio.Scanner's default limit: a line and its '\n' must fit in 64 KiB.
constexpr std::size_t kMaxLine = 64 * 1024 - 1;

bool is_file(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec);
}

}  // namespace

std::vector<std::string> read_ignore_patterns(std::string_view content) {
    std::vector<std::string> out;
    std::size_t number = 0;
    while (!content.empty()) {
        const std::size_t nl = content.find('\n');
        std::string_view line = content.substr(0, nl);
        content.remove_prefix(nl == std::string_view::npos ? content.size() : nl + 1);
        ++number;
        if (line.size() > kMaxLine) {
            throw Error(ErrorCode::kInvalidArgument,
                        "line " + std::to_string(number) + " is longer than " +
                            std::to_string(kMaxLine) + " bytes (bufio.Scanner: token too long)");
        }
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") {
            line.remove_prefix(3);
        }
        // A comment only when '#' is the very first character.
        if (!line.empty() && line[0] == '#') {
            continue;
        }
        std::string_view pattern = util::go::trim_space(line);
        if (pattern.empty()) {
            continue;
        }
        const bool invert = pattern[0] == '!';
        if (invert) {
            pattern = util::go::trim_space(pattern.substr(1));
        }
        std::string cleaned;
        if (!pattern.empty()) {
            cleaned = clean_path(pattern);
            // "/foo" means the same as "foo": patterns are relative to the context.
            if (cleaned.size() > 1 && cleaned[0] == '/') {
                cleaned.erase(0, 1);
            }
        }
        out.push_back(invert ? "!" + cleaned : cleaned);
    }
    return out;
}

std::optional<std::filesystem::path> find_ignore_file(const std::filesystem::path& context_dir,
                                                      const std::filesystem::path& dockerfile) {
    if (!dockerfile.empty() && dockerfile != "-") {
        std::filesystem::path beside = dockerfile;
        beside += kDockerignoreName;
        if (is_file(beside)) {
            return beside;
        }
    }
    std::filesystem::path in_context = context_dir / kDockerignoreName;
    if (is_file(in_context)) {
        return in_context;
    }
    return std::nullopt;
}

std::vector<std::string> load_ignore_patterns(const std::filesystem::path& context_dir,
                                              const std::filesystem::path& dockerfile) {
    const std::optional<std::filesystem::path> file = find_ignore_file(context_dir, dockerfile);
    if (!file) {
        return {};
    }
    std::ifstream in(*file, std::ios::binary);
    if (!in.is_open()) {
        throw Error(ErrorCode::kIo,
                    "cannot read " + util::quote(file->string()) + ": " + std::strerror(errno));
    }
    const std::string content((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    if (in.bad()) {
        throw Error(ErrorCode::kIo, "cannot read " + util::quote(file->string()));
    }
    try {
        return read_ignore_patterns(content);
    } catch (const Error& e) {
        throw Error(e.code(), "failed parsing " + util::quote(file->string()) + ": " + e.what());
    }
}

}  // namespace xarch::context
