// SPDX-License-Identifier: Apache-2.0
// The solver's name for the cancellation token, which lives in util so that the modules below
// the solver (the executor) can take one too.
#pragma once

#include "util/cancel.hpp"

namespace xarch::solver {

using util::CancelToken;
using util::is_cancellation;

}  // namespace xarch::solver
