// SPDX-License-Identifier: Apache-2.0
// The AST as BuildKit's Node.Dump() prints it: one `(keyword ["--flags"] "arg" ...)` per
// instruction, Go-quoted. The format of the `result` files in BuildKit's parser testfiles (and
// shared/conformance/dockerfile-parser/README.md), and what `xarch debug dockerfile-ast` prints.
#pragma once

#include "parser.hpp"

#include <string>

namespace xarch::dockerfile {

// One instruction without the surrounding parentheses: `run "echo hi"`.
std::string dump(const Instruction& node);

// The whole tree, one instruction a line, with no trailing newline (the result files have the
// dump followed by one "\n").
std::string dump(const ParseResult& result);

}  // namespace xarch::dockerfile
