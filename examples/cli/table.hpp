// SPDX-License-Identifier: Apache-2.0
// Column-aligned text tables as docker's CLI prints them (tabwriter: min width 0, padding 3).
#pragma once

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace xarch::cli {

class Table {
public:
    explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }

    void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

    void print(std::ostream& out) const {
        std::vector<std::size_t> width;
        for (const auto& row : rows_) {
            if (width.size() < row.size()) {
                width.resize(row.size(), 0);
            }
            for (std::size_t c = 0; c < row.size(); ++c) {
                width[c] = std::max(width[c], row[c].size());
            }
        }
        for (const auto& row : rows_) {
            std::string line;
            for (std::size_t c = 0; c < row.size(); ++c) {
                line += row[c];
                if (c + 1 < row.size()) {
                    line += std::string(width[c] - row[c].size() + kPadding, ' ');
                }
            }
            // Trailing blanks of empty last cells are noise in a terminal and in golden files.
            line.erase(line.find_last_not_of(' ') + 1);
            out << line << '\n';
        }
    }

private:
    static constexpr std::size_t kPadding = 3;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace xarch::cli
