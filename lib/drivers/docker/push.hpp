// SPDX-License-Identifier: Apache-2.0
// An engine's image tagged and pushed by the engine itself (POST /images/{id}/tag, POST
// /images/{name}/push), with the pushed manifest's digest and size read from its answer.
#pragma once

#include "drivers/docker/engine_messages.hpp"
#include "engine/client.hpp"
#include "util/progress_reporter.hpp"

#include <xarch/credentials.hpp>
#include <xarch/digest.hpp>
#include <xarch/progress.hpp>
#include <xarch/reference.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace xarch::drivers::docker {

// POST /images/{id}/tag?repo=&tag=: `ref` (which must have a tag) names `image_id` on the
// engine. Throws the client's errors with the reference named.
void tag(engine::Client& client, std::string_view image_id, const Reference& ref);

struct PushedManifest {
    Digest digest;
    std::int64_t size = 0;
};

// The answer of one push read into progress: a vertex "pushing <ref> from <node>" (started on
// construction) with kStatus per layer and the engine's other lines as kLog; the digest and
// size from the final aux message. Fed from one thread.
class PushProgress {
public:
    PushProgress(const Reference& ref, std::string node, ProgressCallback callback);

    // One message. An {"error"} emits kVertexError and is recorded; nothing here throws.
    void on_message(const boost::json::object& message);
    // Completes the vertex and returns what the aux message said. Throws after an {"error"}:
    // Error(kAuthentication) when the registry refused the credentials, Error(kNetwork) when
    // the engine could not reach it, else Error(kRegistry), each naming the ref and carrying
    // the engine's text; Error(kRegistry) when no aux message gave a digest.
    PushedManifest finish();
    // The push ended by an exception: kVertexError with `message`.
    void abort(std::string_view message);

    bool failed() const { return !engine_error_.empty(); }
    // "pushing <ref> from <node>": the vertex name and the prefix of error messages.
    const std::string& name() const { return name_; }
    const std::string& who() const { return name_; }

private:
    std::string ref_;
    std::string name_;
    std::string vertex_;
    util::ProgressReporter reporter_;
    LayerStatuses statuses_;
    bool done_ = false;
    std::string engine_error_;
    std::string digest_;
    std::int64_t size_ = 0;
};

// POST /images/{name}/push?tag= with X-Registry-Auth made from `credentials` (looked up for the
// ref's registry; a null lookup or nullopt means anonymous). `ref` must have a tag; the engine
// pushes the image that tag names on it. The digest and size come from the engine's answer,
// never from resolving the tag. Throws as PushProgress::finish(), the client's errors with the
// ref named, Error(kCancelled) when `cancelled` returns true. `node` names the builder node in
// the vertex ("" names the engine by its host).
PushedManifest push(engine::Client& client,
                    const Reference& ref,
                    const CredentialsLookup& credentials,
                    const ProgressCallback& progress,
                    const std::function<bool()>& cancelled,
                    std::string_view node = {});

}  // namespace xarch::drivers::docker
