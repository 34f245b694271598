// SPDX-License-Identifier: Apache-2.0
// The fields of one CSV record as buildx reads --output and --cache-to values (Go's
// encoding/csv rules, through tonistiigi/go-csvvalue): comma-separated, a field in double quotes
// may hold commas and doubled quotes, a quote inside an unquoted field is an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace xarch::exporter {

// The fields of `line` (one trailing "\n" or "\r\n" is ignored). Throws
// Error(kInvalidArgument) with Go's message ("parse error on line 1, column 7: bare \" in
// non-quoted-field") prefixed by `what` and the quoted line; an empty line is an error too.
std::vector<std::string> csv_fields(std::string_view line, std::string_view what);

}  // namespace xarch::exporter
