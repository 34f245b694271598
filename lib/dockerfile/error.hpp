// SPDX-License-Identifier: Apache-2.0
// DockerfileError is public (include/xarch/error.hpp); the frontend's code names it unqualified.
#pragma once

#include <xarch/error.hpp>

namespace xarch::dockerfile {

using DockerfileError = ::xarch::DockerfileError;

}  // namespace xarch::dockerfile
