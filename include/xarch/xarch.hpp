// SPDX-License-Identifier: Apache-2.0
// The whole public C++ API of xarch.
#pragma once

#include "xarch/emulators.hpp"
#include "xarch/error.hpp"
#include "xarch/platform.hpp"
#include "xarch/version.hpp"
