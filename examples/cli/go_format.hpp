// SPDX-License-Identifier: Apache-2.0
// Go's text/tabwriter, as buildx's printers use it, so that `xarch imagetools` prints what
// `docker buildx imagetools` prints, byte for byte (json.Indent is oci::json::indent).
#pragma once

#include <algorithm>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch::cli {

// Go's text/tabwriter as buildx sets it up (min width 0, tab width 0, padding 1, blanks, no
// flags): tab-terminated cells are aligned per column block, i.e. per run of consecutive lines
// that have a cell in that column; the last cell of a line is not aligned. Empty cells are
// padded too, so buildx's separator lines ("\t\n") end in blanks, and so do ours.
class TabWriter {
public:
    explicit TabWriter(std::ostream& out) : out_(out) {}

    // Text with '\t' ending cells and '\n' ending lines, as given to Go's fmt.Fprintf(w, ...).
    void write(std::string_view text) {
        for (char c : text) {
            if (c == '\t' || c == '\n') {
                cells_.push_back(std::move(cell_));
                cell_.clear();
                if (c == '\n') {
                    lines_.push_back(std::move(cells_));
                    cells_.clear();
                }
            } else {
                cell_ += c;
            }
        }
    }

    void flush() {
        std::vector<std::size_t> widths;
        format(0, lines_.size(), widths);
        lines_.clear();
    }

private:
    static constexpr std::size_t kPadding = 1;

    // Characters, not bytes, as Go counts them (UTF-8 continuation bytes do not count).
    static std::size_t width_of(const std::string& text) {
        return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
            return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        }));
    }

    void format(std::size_t line0, std::size_t line1, std::vector<std::size_t>& widths) {
        const std::size_t column = widths.size();
        for (std::size_t at = line0; at < line1; ++at) {
            if (column + 1 >= lines_[at].size()) {
                continue;
            }
            // A block of lines with a cell in this column starts here.
            write_lines(line0, at, widths);
            line0 = at;
            std::size_t width = 0;
            for (; at < line1 && column + 1 < lines_[at].size(); ++at) {
                width = std::max(width, width_of(lines_[at][column]) + kPadding);
            }
            widths.push_back(width);
            format(line0, at, widths);
            widths.pop_back();
            line0 = at;
            if (at == line1) {
                break;
            }
        }
        write_lines(line0, line1, widths);
    }

    void write_lines(std::size_t line0,
                     std::size_t line1,
                     const std::vector<std::size_t>& widths) const {
        for (std::size_t i = line0; i < line1; ++i) {
            const auto& cells = lines_[i];
            for (std::size_t j = 0; j < cells.size(); ++j) {
                out_ << cells[j];
                if (j < widths.size()) {
                    out_ << std::string(widths[j] - width_of(cells[j]), ' ');
                }
            }
            out_ << '\n';
        }
    }

    std::ostream& out_;
    std::vector<std::vector<std::string>> lines_;
    std::vector<std::string> cells_;
    std::string cell_;
};

}  // namespace xarch::cli
