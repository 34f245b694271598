// SPDX-License-Identifier: Apache-2.0
// The build plan as text, one line per stage instance and per step: what `xarch debug plan`
// prints. The format is stable (tests and scripts read it):
//
//   instance <N> <stage> <platform> for <p1>[,<p2>...] from <base>[ uses <vars>]
//     <line> <KEYWORD> <resolved values>[ uses <vars>][ unset <names>][ deferred <names>]
//         [ (onbuild)]
//   result <platform> instance <N>
//
// <N> is the instance's index; <stage> its name or stage-<index>; <platform> the platform its
// steps run for; `for` lists the --platform builds sharing it; <base> is `image "<ref>"`
// (`+onbuild` when the image's own ONBUILD triggers are still to come), `instance <N>` or
// `scratch`. <vars> is `[K="v" ...]`, <names> `[K ...]`; `unset` names variables nothing set,
// `deferred` those only the base image's config may set (PlannedStep::deferred). Strings are
// Go-quoted ("..." with \" and \\ escapes) and lists are `[...]` with one space between items. Per
// keyword:
//   RUN [--mount=type=<t>[,from=<input>][,source=..][,target=..][,id=..][,sharing=..][,ro]]...
//       [--network=<n>] [--security=<s>] shell|exec [<args>][ files [<names>]][ proxy <vars>]
//   CMD|ENTRYPOINT shell|exec [<args>]      SHELL [<args>]
//   ENV|LABEL K="v" ...                     ARG K="v" | K ...
//   COPY|ADD [--from=<input>] [--chown=".."] [--chmod=".."] [--link] [--parents]
//       [--exclude=".."]... [--checksum=".."] [--keep-git-dir=<b>] [--unpack=<b>]
//       [<sources>] [<<NAME>...] "<dest>"
//   EXPOSE|VOLUME [<items>]                 USER|WORKDIR|STOPSIGNAL|MAINTAINER "<value>"
//   ONBUILD "<expression>"                  HEALTHCHECK [<test>] interval=.. timeout=..
//                                           start-period=.. start-interval=.. retries=N
// <input> is `instance:<N>` or `image:"<ref>"`.
#pragma once

#include "plan.hpp"

#include <string>

namespace xarch::dockerfile {

// One step, without the indentation and line number: `RUN shell ["echo hi"] uses [A="1"]`.
std::string dump_step(const PlannedStep& step);

// An instance's header line.
std::string dump_instance(const StageInstance& instance);

// The whole plan, one line each, ending with a newline.
std::string dump(const Plan& plan);

}  // namespace xarch::dockerfile
