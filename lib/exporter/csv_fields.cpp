// SPDX-License-Identifier: Apache-2.0
// One CSV record split as go-csvvalue's Fields does it, with its error positions.
#include "exporter/csv_fields.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

namespace xarch::exporter {
namespace {

[[noreturn]] void fail(std::string_view what,
                       std::string_view line,
                       std::size_t column,
                       std::string_view why) {
    throw Error(ErrorCode::kInvalidArgument, std::string(what) + " " + util::quote(line) +
                                                 ": parse error on line 1, column " +
                                                 std::to_string(column) + ": " + std::string(why));
}

constexpr std::string_view kBareQuote = "bare \" in non-quoted-field";
constexpr std::string_view kQuote = "extraneous or missing \" in quoted-field";

}  // namespace

std::vector<std::string> csv_fields(std::string_view line, std::string_view what) {
    const std::string_view original = line;
    if (line.ends_with("\r\n")) {
        line.remove_suffix(2);
    } else if (line.ends_with('\n')) {
        line.remove_suffix(1);
    }
    if (line.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    std::string(what) + " is empty: give type=... and its attributes");
    }
    std::vector<std::string> fields;
    std::size_t pos = 0;  // byte offset of `line`'s start in the record, for Go's columns
    for (;;) {
        if (line.empty() || line.front() != '"') {
            const std::size_t comma = line.find(',');
            const std::string_view field = line.substr(0, comma);
            if (const std::size_t quote = field.find('"'); quote != std::string_view::npos) {
                fail(what, original, pos + quote + 1, kBareQuote);
            }
            fields.emplace_back(field);
            if (comma == std::string_view::npos) {
                return fields;
            }
            line.remove_prefix(comma + 1);
            pos += comma + 1;
            continue;
        }
        // A quoted field: up to the quote that is not doubled, then a comma or the end.
        line.remove_prefix(1);
        pos += 1;
        std::string field;
        for (;;) {
            const std::size_t quote = line.find('"');
            if (quote == std::string_view::npos) {
                fail(what, original, pos + 1, kQuote);
            }
            field.append(line.substr(0, quote));
            line.remove_prefix(quote + 1);
            pos += quote + 1;
            if (!line.empty() && line.front() == '"') {
                field.push_back('"');
                line.remove_prefix(1);
                pos += 1;
                continue;
            }
            break;
        }
        fields.push_back(std::move(field));
        if (line.empty()) {
            return fields;
        }
        if (line.front() != ',') {
            fail(what, original, pos, kQuote);
        }
        line.remove_prefix(1);
        pos += 1;
    }
}

}  // namespace xarch::exporter
