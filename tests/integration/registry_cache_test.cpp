// SPDX-License-Identifier: Apache-2.0
// The registry build cache (--cache-to / --cache-from type=registry) against the shared test
// registry: export, import into a fresh cache directory, re-export of imported records whose
// blobs stay in the registry, and the refs that are not caches. skopeo checks what was pushed.
#include "cache/registry_cache.hpp"

#include "integration/registry/registry_env.hpp"
#include "unit/cache/cache_test_util.hpp"

#include <xarch/error.hpp>
#include <xarch/image_index.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <string>

namespace xarch::cache {
namespace {

namespace bj = boost::json;
using test::TempDir;

RegistryOptions anonymous() {
    RegistryOptions options;
    options.credentials = nullptr;  // the developer's docker config must not change the outcome
    return options;
}

std::string record_with(const std::vector<Descriptor>& blobs, const std::string& step) {
    bj::array array;
    for (const Descriptor& d : blobs) {
        array.push_back(bj::parse(d.serialize()));
    }
    return bj::serialize(bj::object{{"step", step}, {"blobs", std::move(array)}});
}

class RegistryCacheTest : public testing::Test {
protected:
    void SetUp() override {
        std::string why;
        auto env = xarch::test::load_registry_env(&why);
        if (!env) {
            GTEST_SKIP() << why;
        }
        env_ = std::move(*env);
        // Repositories of our own: the registry is shared by tests running in parallel.
        unique_ =
            std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}() % 100000);
    }
    Reference ref(const std::string& repo, const std::string& tag = "buildcache") const {
        return Reference::parse(env_.plain + "/xarch-cache-test/" + unique_ + "/" + repo + ":" +
                                tag);
    }

    xarch::test::RegistryEnv env_;
    std::string unique_;
};

TEST_F(RegistryCacheTest, ExportThenImportIntoAFreshCache) {
    TempDir tmp;
    Cache source(tmp.path() / "a");
    const layer::LayerBlob one = test::store_layer(source, 11);
    const layer::LayerBlob two = test::store_layer(source, 12);
    const Descriptor config = source.content().store_blob(std::string(media_type::kOciConfig),
                                                          R"({"architecture":"arm64"})");
    const Digest k1 = Digest::of("step one");
    const Digest k2 = Digest::of("step two");
    source.put_record(k1, record_with({one.descriptor, config}, "one"));
    source.put_record(k2, record_with({one.descriptor, two.descriptor}, "two"));

    Registry registry(anonymous());
    const Reference cache_ref = ref("app");
    export_to_registry(source, registry, cache_ref, {k1, k2, Digest::of("never built")});

    // What was pushed: an index holding the cache manifest, its layers each referenced blob once.
    const RawContent root = registry.fetch_manifest(cache_ref);
    ASSERT_TRUE(media_type::is_index(root.media_type)) << root.media_type;
    const ImageIndex index = parse_index(root.bytes, root.media_type);
    ASSERT_EQ(index.manifests.size(), 1U);
    EXPECT_EQ(index.manifests[0].artifact_type, kCacheArtifactType);
    const Manifest manifest = parse_manifest(
        registry.fetch_manifest(cache_ref.with_digest(index.manifests[0].digest.to_string()))
            .bytes);
    EXPECT_EQ(manifest.artifact_type, kCacheArtifactType);
    EXPECT_EQ(manifest.config.media_type, kCacheRecordsMediaType);
    ASSERT_EQ(manifest.layers.size(), 3U);
    for (const Descriptor& blob : {one.descriptor, two.descriptor, config}) {
        EXPECT_TRUE(registry.blob_exists(cache_ref, blob.digest)) << blob.digest;
    }
    const bj::value records = bj::parse(registry.fetch_blob(cache_ref, manifest.config));
    EXPECT_EQ(records.at("records").as_object().size(), 2U);
    int status = 0;
    const std::string raw = layer::test::run(
        "skopeo inspect --raw --tls-verify=false docker://" + cache_ref.to_string(), status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(raw, root.bytes);

    // Import: records land with the repository their blobs come from; no blob is fetched.
    Cache fresh(tmp.path() / "b");
    EXPECT_EQ(import_from_registry(fresh, registry, cache_ref), 2U);
    for (const Digest& key : {k1, k2}) {
        const std::optional<std::string> got = fresh.get_record(key);
        ASSERT_TRUE(got) << key;
        bj::value expected = bj::parse(*source.get_record(key));
        expected.as_object()["source_repository"] = cache_ref.name();
        EXPECT_EQ(bj::parse(*got), expected);
    }
    EXPECT_FALSE(fresh.get_record(Digest::of("never built")));
    EXPECT_FALSE(fresh.content().has_blob(one.descriptor.digest));

    // Exporting the imported records elsewhere mounts their blobs from where they are.
    const Reference elsewhere = ref("other");
    export_to_registry(fresh, registry, elsewhere, {k1, k2});
    for (const Descriptor& blob : {one.descriptor, two.descriptor, config}) {
        EXPECT_TRUE(registry.blob_exists(elsewhere, blob.digest)) << blob.digest;
    }
    Cache third(tmp.path() / "c");
    EXPECT_EQ(import_from_registry(third, registry, elsewhere), 2U);
}

TEST_F(RegistryCacheTest, AMissingCacheImportsNothing) {
    TempDir tmp;
    Cache cache(tmp.path());
    Registry registry(anonymous());
    EXPECT_EQ(import_from_registry(cache, registry, ref("never-pushed")), 0U);

    cache.put_record(Digest::of("k"), R"({"blobs":[]})");
    const Reference pushed = ref("tagged");
    export_to_registry(cache, registry, pushed, {Digest::of("k")});
    EXPECT_EQ(import_from_registry(cache, registry, pushed.with_tag("other-tag")), 0U);
    EXPECT_EQ(import_from_registry(cache, registry, pushed), 1U);
}

TEST_F(RegistryCacheTest, AnImageIsNotACache) {
    TempDir tmp;
    Cache cache(tmp.path());
    Registry registry(anonymous());
    const Reference busybox =
        Reference::parse(env_.plain + "/" + env_.busybox_repo + ":" + env_.busybox_tag);
    try {
        import_from_registry(cache, registry, busybox);
        ADD_FAILURE() << "imported an image as a cache";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_NE(std::string(e.what()).find(busybox.to_string()), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace xarch::cache
