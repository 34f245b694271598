// SPDX-License-Identifier: Apache-2.0
// pin_base_images: the planner says which stages the target reaches and their bases, expanded
// for the platform; their FROM lines are written again with the digests.
#include "drivers/docker/pin_bases.hpp"

#include "dockerfile/parser.hpp"
#include "dockerfile/plan.hpp"

#include <xarch/reference.hpp>

#include <map>

namespace xarch::drivers::docker {
namespace {

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            lines.emplace_back(text.substr(start));
            break;
        }
        lines.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        out += lines[i];
        if (i + 1 < lines.size()) {
            out += '\n';
        }
    }
    return out;
}

// "FROM --platform=$BUILDPLATFORM repo@sha256:... AS build"
std::string pinned_from(const dockerfile::Instruction& from, const std::string& pinned) {
    std::string line = from.keyword_as_written;
    for (const std::string& flag : from.flags) {
        line += " " + flag;
    }
    line += " " + pinned;
    if (from.args.size() >= 3) {
        line += " " + from.args[1] + " " + from.args[2];
    }
    // A CR ending the original line stays (a CRLF file keeps its line ends).
    return line;
}

}  // namespace

PinnedDockerfile pin_base_images(std::string_view dockerfile_text,
                                 const std::string& file_name,
                                 const std::map<std::string, std::string>& build_args,
                                 const std::string& target,
                                 const Platform& platform,
                                 const Platform& build_platform,
                                 const ResolveBase& resolve) {
    dockerfile::ParseOptions parse_options;
    parse_options.file_name = file_name;
    const dockerfile::ParseResult parsed = dockerfile::parse(dockerfile_text, parse_options);
    dockerfile::PlanOptions plan_options;
    plan_options.build_args = build_args;
    plan_options.platforms = {platform};
    plan_options.build_platform = build_platform;
    plan_options.target = target;
    const dockerfile::Plan plan = dockerfile::plan(parsed, plan_options);

    // Stage position -> the pinned reference of its base.
    std::map<int, std::string> pins;
    PinnedDockerfile result;
    for (const dockerfile::StageInstance& instance : plan.instances) {
        if (instance.base_kind != dockerfile::BaseKind::kImage ||
            pins.contains(instance.stage_index)) {
            continue;
        }
        const std::optional<Digest> digest = resolve(instance.base_image, instance.platform);
        if (!digest) {
            result.notes.push_back("FROM " + instance.base_image + " left as written for " +
                                   instance.platform.to_string() +
                                   " (not found in its registry: the engine's own image)");
            continue;
        }
        const std::string pinned = Reference::parse(instance.base_image)
                                       .without_tag()
                                       .without_digest()
                                       .with_digest(digest->to_string())
                                       .to_string();
        result.notes.push_back("FROM " + instance.base_image + " -> " + pinned);
        pins.emplace(instance.stage_index, pinned);
    }

    std::vector<std::string> lines = split_lines(dockerfile_text);
    int stage = -1;
    for (const dockerfile::Instruction& instruction : parsed.instructions) {
        if (instruction.keyword != "from") {
            continue;
        }
        ++stage;
        const auto pin = pins.find(stage);
        if (pin == pins.end() || instruction.start_line < 1 ||
            static_cast<std::size_t>(instruction.end_line) > lines.size()) {
            continue;
        }
        const std::size_t first = static_cast<std::size_t>(instruction.start_line) - 1;
        const bool crlf = !lines[first].empty() && lines[first].back() == '\r';
        lines[first] = pinned_from(instruction, pin->second) + (crlf ? "\r" : "");
        for (std::size_t i = first + 1; i < static_cast<std::size_t>(instruction.end_line); ++i) {
            lines[i] = crlf ? "\r" : "";
        }
        result.changed = true;
    }
    result.text = result.changed ? join_lines(lines) : std::string(dockerfile_text);
    return result;
}

}  // namespace xarch::drivers::docker
