// SPDX-License-Identifier: Apache-2.0
// The whole public C++ API of xarch.
#pragma once

#include "xarch/builder.hpp"
#include "xarch/context.hpp"
#include "xarch/credentials.hpp"
#include "xarch/descriptor.hpp"
#include "xarch/digest.hpp"
#include "xarch/emulators.hpp"
#include "xarch/error.hpp"
#include "xarch/image_index.hpp"
#include "xarch/oci_layout.hpp"
#include "xarch/platform.hpp"
#include "xarch/progress.hpp"
#include "xarch/reference.hpp"
#include "xarch/registry.hpp"
#include "xarch/version.hpp"
