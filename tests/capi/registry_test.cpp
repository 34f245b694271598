// SPDX-License-Identifier: Apache-2.0
// xarch_registry against the shared test registries (tests/integration/registry): the seeded
// busybox index, pull to a layout and push back, copy of a platform subset, create_index and
// inspect, blobs and tags, TLS + Basic auth through a credentials callback, faults through the
// proxy, cancellation, NULL arguments. Skips when the registries are not there.
#include "capi_test_util.hpp"
#include "integration/registry/registry_env.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <vector>

namespace xarch_capi_test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using xarch::test::RegistryEnv;
using xarch::test::ScopedFault;

using ReferencePtr = std::unique_ptr<xarch_reference, Deleter<xarch_reference_free>>;
using RegistryPtr = std::unique_ptr<xarch_registry, Deleter<xarch_registry_free>>;

// An xarch_buf released at scope exit.
struct Buf {
    xarch_buf value = XARCH_BUF_INIT;
    Buf() = default;
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
    ~Buf() { xarch_buf_dispose(&value); }
    xarch_buf* operator&() { return &value; }  // NOLINT(google-runtime-operator)
    std::string str() const { return value.ptr ? std::string(value.ptr, value.size) : ""; }
};

struct StrArray {
    xarch_strarray value = XARCH_STRARRAY_INIT;
    StrArray() = default;
    StrArray(const StrArray&) = delete;
    StrArray& operator=(const StrArray&) = delete;
    ~StrArray() { xarch_strarray_dispose(&value); }
    std::vector<std::string> items() const {
        return std::vector<std::string>(value.strings, value.strings + value.count);
    }
};

// A JSON string field's first value ("digest" of a descriptor is its own: fields come in
// image-spec order, the top level first).
std::string json_string(const std::string& json, const std::string& key) {
    std::smatch match;
    if (std::regex_search(json, match, std::regex("\"" + key + "\":\"([^\"]*)\""))) {
        return match[1];
    }
    return "";
}

std::string sha256(const std::string& bytes) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(bytes.data(), bytes.size(), md, &size, EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned int i = 0; i < size; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0xf];
    }
    return out;
}

std::string descriptor_json(const std::string& media_type, const std::string& bytes) {
    return R"({"mediaType":")" + media_type + R"(","digest":")" + sha256(bytes) + R"(","size":)" +
           std::to_string(bytes.size()) + "}";
}

std::string random_bytes(std::size_t size) {
    std::mt19937_64 generator{std::random_device{}()};
    std::string out(size, '\0');
    for (char& c : out) {
        c = static_cast<char>(generator());
    }
    return out;
}

// A repository of this test's own: the registries are shared by tests running at once.
std::string repo_name(const std::string& what) {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "capi/";
    for (char c : std::string(info->name()) + "-" + what) {
        name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return name + "-" + std::to_string(::getpid());
}

ReferencePtr make_reference(const std::string& text) {
    xarch_reference* reference = nullptr;
    EXPECT_EQ(xarch_reference_parse(&reference, text.c_str()), XARCH_OK)
        << text << ": " << last_message();
    return ReferencePtr(reference);
}

// The credentials callback's payload: what it answers and whom it was asked about.
struct CredentialsPayload {
    std::string user;
    std::string password;
    std::vector<std::string> asked;
};

int answer_credentials(const char* registry,
                       const char** username,
                       const char** secret,
                       void* payload) {
    auto* p = static_cast<CredentialsPayload*>(payload);
    p->asked.emplace_back(registry);
    *username = p->user.c_str();
    *secret = p->password.c_str();
    return 0;
}

class CapiRegistry : public testing::Test {
protected:
    void SetUp() override {
        std::string why;
        auto env = xarch::test::load_registry_env(&why);
        if (!env) {
            GTEST_SKIP() << why;
        }
        env_ = std::move(*env);
    }

    // Anonymous, so that the developer's ~/.docker/config.json cannot change the outcome.
    static xarch_registry_options anonymous_options() {
        xarch_registry_options options = XARCH_REGISTRY_OPTIONS_INIT;
        options.flags = XARCH_REGISTRY_ANONYMOUS;
        options.retry_attempts = 2;
        return options;
    }

    static RegistryPtr client(const xarch_registry_options& options = anonymous_options()) {
        xarch_registry* registry = nullptr;
        EXPECT_EQ(xarch_registry_new(&registry, &options), XARCH_OK) << last_message();
        return RegistryPtr(registry);
    }

    ReferencePtr busybox(const std::string& registry) const {
        return make_reference(registry + "/" + env_.busybox_repo + ":" + env_.busybox_tag);
    }
    ReferencePtr busybox_manifest(const std::string& platform) const {
        return make_reference(env_.plain + "/" + env_.busybox_repo + "@" +
                              env_.busybox_manifest(platform));
    }
    ReferencePtr on(const std::string& registry, const std::string& what) const {
        return make_reference(registry + "/" + repo_name(what) + ":latest");
    }
    std::string seeded_blob(const std::string& digest) const {
        return read_file(env_.busybox_oci + "/blobs/sha256/" + digest.substr(7));
    }

    RegistryEnv env_;
};

TEST_F(CapiRegistry, ResolvesAndFetchesTheSeededIndex) {
    RegistryPtr registry = client();
    ReferencePtr busybox_ref = busybox(env_.plain);
    Buf descriptor;
    ASSERT_EQ(xarch_registry_resolve(&descriptor, registry.get(), busybox_ref.get()), XARCH_OK)
        << last_message();
    EXPECT_EQ(json_string(descriptor.str(), "digest"), env_.busybox_index_digest);
    EXPECT_EQ(json_string(descriptor.str(), "mediaType"),
              "application/vnd.oci.image.index.v1+json");
    EXPECT_THAT(descriptor.str(),
                HasSubstr("\"size\":" + env_.get("XARCH_TEST_BUSYBOX_INDEX_SIZE")));

    Buf bytes;
    Buf media_type;
    Buf digest;
    ASSERT_EQ(xarch_registry_fetch_manifest(&bytes, &media_type, &digest, registry.get(),
                                            busybox_ref.get()),
              XARCH_OK)
        << last_message();
    EXPECT_EQ(digest.str(), env_.busybox_index_digest);
    EXPECT_EQ(media_type.str(), "application/vnd.oci.image.index.v1+json");
    EXPECT_EQ(bytes.str(), seeded_blob(env_.busybox_index_digest)) << "exact bytes";
    EXPECT_EQ(sha256(bytes.str()), env_.busybox_index_digest);

    xarch_platform* arm64 = nullptr;
    ASSERT_EQ(xarch_platform_parse(&arm64, "linux/arm64"), XARCH_OK);
    PlatformPtr arm64_owner(arm64);
    Buf chosen;
    ASSERT_EQ(xarch_registry_resolve_platform(&chosen, registry.get(), busybox_ref.get(), arm64),
              XARCH_OK)
        << last_message();
    EXPECT_EQ(json_string(chosen.str(), "digest"), env_.busybox_manifest("linux/arm64"));

    PlatformPtr s390x = parse("linux/s390x");
    Buf none;
    EXPECT_EQ(
        xarch_registry_resolve_platform(&none, registry.get(), busybox_ref.get(), s390x.get()),
        XARCH_ENOTFOUND);
    EXPECT_THAT(last_message(), HasSubstr("linux/s390x"));
    EXPECT_THAT(last_message(), HasSubstr("linux/arm/v7"));
    EXPECT_EQ(none.value.ptr, nullptr) << "the buffer stays empty on failure";
}

TEST_F(CapiRegistry, PullsToALayoutAndPushesItBack) {
    RegistryPtr registry = client();
    TempDir dir;
    const std::string layout = dir / "layout";
    Buf pulled;
    ASSERT_EQ(xarch_registry_pull(&pulled, registry.get(), busybox(env_.plain).get(),
                                  layout.c_str(), nullptr, 0),
              XARCH_OK)
        << last_message();
    EXPECT_EQ(json_string(pulled.str(), "digest"), env_.busybox_index_digest);
    EXPECT_THAT(read_file(layout + "/index.json"), HasSubstr(env_.busybox_index_digest));
    // Every blob the index reaches is in the layout, under its own digest.
    for (const char* platform : {"linux/amd64", "linux/arm64", "linux/arm/v7"}) {
        const std::string manifest =
            read_file(layout + "/blobs/sha256/" + env_.busybox_manifest(platform).substr(7));
        ASSERT_FALSE(manifest.empty()) << platform;
        EXPECT_EQ(sha256(manifest), env_.busybox_manifest(platform));
        std::smatch match;
        std::string rest = manifest;
        while (std::regex_search(rest, match, std::regex("\"digest\":\"(sha256:[0-9a-f]{64})\""))) {
            const std::string blob =
                read_file(layout + "/blobs/sha256/" + match[1].str().substr(7));
            EXPECT_EQ(sha256(blob), match[1].str());
            rest = match.suffix();
        }
    }

    // Back to a new repository, the root named by its tag, then by its digest.
    ReferencePtr by_tag = on(env_.plain, "by-tag");
    Buf pushed;
    ASSERT_EQ(xarch_registry_push(&pushed, registry.get(), layout.c_str(), env_.busybox_tag.c_str(),
                                  by_tag.get()),
              XARCH_OK)
        << last_message();
    EXPECT_EQ(json_string(pushed.str(), "digest"), env_.busybox_index_digest);
    Buf resolved;
    ASSERT_EQ(xarch_registry_resolve(&resolved, registry.get(), by_tag.get()), XARCH_OK);
    EXPECT_EQ(json_string(resolved.str(), "digest"), env_.busybox_index_digest);

    ReferencePtr by_digest = on(env_.plain, "by-digest");
    ASSERT_EQ(xarch_registry_push(nullptr, registry.get(), layout.c_str(),
                                  env_.busybox_index_digest.c_str(), by_digest.get()),
              XARCH_OK)
        << last_message();
    Buf raw;
    ASSERT_EQ(
        xarch_registry_fetch_manifest(&raw, nullptr, nullptr, registry.get(), by_digest.get()),
        XARCH_OK);
    EXPECT_EQ(raw.str(), seeded_blob(env_.busybox_index_digest));

    EXPECT_EQ(xarch_registry_push(nullptr, registry.get(), layout.c_str(), "no-such-name",
                                  by_digest.get()),
              XARCH_ENOTFOUND);
    EXPECT_THAT(last_message(), HasSubstr("no-such-name"));
    EXPECT_THAT(last_message(), HasSubstr(env_.busybox_tag));
}

TEST_F(CapiRegistry, PullsAndCopiesAPlatformSubset) {
    RegistryPtr registry = client();
    PlatformPtr arm64 = parse("linux/arm64");
    PlatformPtr arm = parse("linux/arm/v7");
    const xarch_platform* chosen[] = {arm64.get(), arm.get()};

    ReferencePtr dst = on(env_.plain, "subset");
    Buf copied;
    ASSERT_EQ(xarch_registry_copy(&copied, registry.get(), busybox(env_.plain).get(), dst.get(),
                                  chosen, 2),
              XARCH_OK)
        << last_message();
    Buf index;
    ASSERT_EQ(xarch_registry_fetch_manifest(&index, nullptr, nullptr, registry.get(), dst.get()),
              XARCH_OK);
    EXPECT_THAT(index.str(), HasSubstr(env_.busybox_manifest("linux/arm64")));
    EXPECT_THAT(index.str(), HasSubstr(env_.busybox_manifest("linux/arm/v7")));
    EXPECT_THAT(index.str(), Not(HasSubstr(env_.busybox_manifest("linux/amd64"))));
    EXPECT_EQ(json_string(copied.str(), "digest"), sha256(index.str()));

    TempDir dir;
    const std::string layout = dir / "one";
    ASSERT_EQ(xarch_registry_pull(nullptr, registry.get(), busybox(env_.plain).get(),
                                  layout.c_str(), chosen, 1),
              XARCH_OK)
        << last_message();
    EXPECT_TRUE(
        fs::exists(layout + "/blobs/sha256/" + env_.busybox_manifest("linux/arm64").substr(7)));
    EXPECT_FALSE(
        fs::exists(layout + "/blobs/sha256/" + env_.busybox_manifest("linux/amd64").substr(7)));
}

TEST_F(CapiRegistry, CreatesAnIndexAndInspectsIt) {
    RegistryPtr registry = client();
    ReferencePtr dst = on(env_.plain, "created");
    ReferencePtr amd64 = busybox_manifest("linux/amd64");
    ReferencePtr arm64 = busybox_manifest("linux/arm64");
    const xarch_reference* sources[] = {amd64.get(), arm64.get()};
    const char* keys[] = {"org.opencontainers.image.description"};
    const char* values[] = {"two"};
    Buf created;
    ASSERT_EQ(xarch_registry_create_index(&created, registry.get(), dst.get(), sources, 2, keys,
                                          values, 1),
              XARCH_OK)
        << last_message();

    Buf descriptor;
    Buf raw;
    Buf config;
    ASSERT_EQ(xarch_registry_inspect(&descriptor, &raw, &config, registry.get(), dst.get()),
              XARCH_OK)
        << last_message();
    EXPECT_EQ(json_string(descriptor.str(), "digest"), json_string(created.str(), "digest"));
    EXPECT_EQ(sha256(raw.str()), json_string(created.str(), "digest"));
    EXPECT_THAT(raw.str(), HasSubstr(env_.busybox_manifest("linux/amd64")));
    EXPECT_THAT(raw.str(), HasSubstr(env_.busybox_manifest("linux/arm64")));
    // buildx's bytes: Go's json.MarshalIndent.
    EXPECT_THAT(raw.str(), HasSubstr(R"("org.opencontainers.image.description": "two")"));
    EXPECT_EQ(config.str(), "") << "an index has no config";

    Buf single;
    Buf single_config;
    ASSERT_EQ(xarch_registry_inspect(&single, nullptr, &single_config, registry.get(), arm64.get()),
              XARCH_OK);
    EXPECT_EQ(json_string(single_config.str(), "architecture"), "arm64");
}

TEST_F(CapiRegistry, BlobsTagsCatalogAndDelete) {
    RegistryPtr registry = client();
    const std::string name = repo_name("blobs");
    ReferencePtr repo = make_reference(env_.plain + "/" + name);
    const std::string content = random_bytes(100 * 1024 + 3);
    const std::string blob = descriptor_json("application/octet-stream", content);
    const std::string digest = sha256(content);

    EXPECT_EQ(xarch_registry_blob_exists(registry.get(), repo.get(), digest.c_str()), 0);
    ASSERT_EQ(xarch_registry_push_blob(registry.get(), repo.get(), blob.c_str(), content.data(),
                                       content.size()),
              XARCH_OK)
        << last_message();
    EXPECT_EQ(xarch_registry_blob_exists(registry.get(), repo.get(), digest.c_str()), 1);

    // A descriptor that does not match the data is refused before any upload.
    const std::string other = descriptor_json("application/octet-stream", "other");
    EXPECT_EQ(xarch_registry_push_blob(registry.get(), repo.get(), other.c_str(), content.data(),
                                       content.size()),
              XARCH_EDIGEST);

    // Fetched to a callback and to a file, both checked against the digest.
    std::string received;
    auto sink = [](const void* data, size_t size, void* payload) {
        static_cast<std::string*>(payload)->append(static_cast<const char*>(data), size);
        return 0;
    };
    ASSERT_EQ(xarch_registry_fetch_blob(registry.get(), repo.get(), blob.c_str(), sink, &received),
              XARCH_OK)
        << last_message();
    EXPECT_EQ(received, content);
    TempDir dir;
    ASSERT_EQ(xarch_registry_fetch_blob_to_file(registry.get(), repo.get(), blob.c_str(),
                                                (dir / "blob").c_str()),
              XARCH_OK)
        << last_message();
    EXPECT_EQ(read_file(dir / "blob"), content);
    auto stop = [](const void*, size_t, void*) { return 7; };
    EXPECT_EQ(xarch_registry_fetch_blob(registry.get(), repo.get(), blob.c_str(), stop, nullptr),
              XARCH_ECANCELLED);
    EXPECT_THAT(last_message(), HasSubstr("returned 7"));

    // From a file, and mounted into another repository.
    const std::string file_content = random_bytes(4096);
    write_file(dir / "upload", file_content);
    const std::string file_blob = descriptor_json("application/octet-stream", file_content);
    ASSERT_EQ(xarch_registry_push_blob_from_file(registry.get(), repo.get(), file_blob.c_str(),
                                                 (dir / "upload").c_str()),
              XARCH_OK)
        << last_message();
    EXPECT_EQ(xarch_registry_blob_exists(registry.get(), repo.get(), sha256(file_content).c_str()),
              1);
    EXPECT_EQ(xarch_registry_push_blob_from_file(registry.get(), repo.get(), file_blob.c_str(),
                                                 (dir / "absent").c_str()),
              XARCH_ENOTFOUND);
    EXPECT_EQ(xarch_registry_push_blob_from_file(registry.get(), repo.get(), blob.c_str(),
                                                 (dir / "upload").c_str()),
              XARCH_EDIGEST)
        << "the file is not the blob the descriptor describes";
    EXPECT_THAT(last_message(), HasSubstr("upload"));
    ReferencePtr other_repo = make_reference(env_.plain + "/" + name + "-mounted");
    EXPECT_EQ(
        xarch_registry_mount_blob(registry.get(), other_repo.get(), digest.c_str(), repo.get()), 1)
        << last_message();
    EXPECT_EQ(xarch_registry_blob_exists(registry.get(), other_repo.get(), digest.c_str()), 1);

    // Tags: an empty-config manifest under three tags.
    const std::string config = "{}";
    const std::string config_blob = descriptor_json("application/vnd.oci.empty.v1+json", config);
    ASSERT_EQ(xarch_registry_push_blob(registry.get(), repo.get(), config_blob.c_str(),
                                       config.data(), config.size()),
              XARCH_OK);
    const std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("config":)" +
        config_blob + R"(,"layers":[]})";
    for (const char* tag : {"a", "b", "c"}) {
        ReferencePtr tagged = make_reference(env_.plain + "/" + name + ":" + tag);
        Buf pushed;
        ASSERT_EQ(xarch_registry_push_manifest(&pushed, registry.get(), tagged.get(),
                                               manifest.data(), manifest.size(),
                                               "application/vnd.oci.image.manifest.v1+json"),
                  XARCH_OK)
            << last_message();
        EXPECT_EQ(json_string(pushed.str(), "digest"), sha256(manifest));
    }
    StrArray tags;
    ASSERT_EQ(xarch_registry_list_tags(&tags.value, registry.get(), repo.get(), 0), XARCH_OK)
        << last_message();
    EXPECT_THAT(tags.items(), testing::UnorderedElementsAre("a", "b", "c"));
    StrArray catalog;
    ASSERT_EQ(xarch_registry_catalog(&catalog.value, registry.get(), env_.plain.c_str(), 0),
              XARCH_OK)
        << last_message();
    EXPECT_THAT(catalog.items(), testing::Contains(name));
    Buf referrers;
    ASSERT_EQ(
        xarch_registry_referrers(&referrers, registry.get(), repo.get(), sha256(manifest).c_str()),
        XARCH_OK)
        << last_message();
    EXPECT_THAT(referrers.str(), HasSubstr("\"manifests\":[]"));

    ReferencePtr a = make_reference(env_.plain + "/" + name + ":a");
    ASSERT_EQ(xarch_registry_delete_manifest(registry.get(), a.get()), XARCH_OK) << last_message();
    Buf gone;
    EXPECT_EQ(xarch_registry_fetch_manifest(&gone, nullptr, nullptr, registry.get(), a.get()),
              XARCH_ENOTFOUND);
}

TEST_F(CapiRegistry, TlsWithTheCaAndACredentialsCallback) {
    CredentialsPayload payload{env_.user, env_.password, {}};
    xarch_registry_options options = XARCH_REGISTRY_OPTIONS_INIT;
    options.ca_bundle = env_.tls_ca.c_str();
    options.credentials_cb = &answer_credentials;
    options.payload = &payload;
    RegistryPtr registry = client(options);
    ReferencePtr busybox_ref = busybox(env_.tls);
    Buf descriptor;
    ASSERT_EQ(xarch_registry_resolve(&descriptor, registry.get(), busybox_ref.get()), XARCH_OK)
        << last_message();
    EXPECT_EQ(json_string(descriptor.str(), "digest"), env_.busybox_index_digest);
    ASSERT_FALSE(payload.asked.empty());
    EXPECT_EQ(payload.asked.front(), env_.tls);

    // Anonymous: refused.
    xarch_registry_options anonymous = anonymous_options();
    anonymous.ca_bundle = env_.tls_ca.c_str();
    RegistryPtr without = client(anonymous);
    Buf refused;
    EXPECT_EQ(xarch_registry_resolve(&refused, without.get(), busybox_ref.get()), XARCH_EAUTH);
}

TEST_F(CapiRegistry, AWrongPasswordIsEauthAndNeverInTheMessage) {
    const std::string wrong = "wrong-" + std::to_string(std::random_device{}()) + "-secret";
    CredentialsPayload payload{env_.user, wrong, {}};
    xarch_registry_options options = anonymous_options();
    options.ca_bundle = env_.tls_ca.c_str();
    options.credentials_cb = &answer_credentials;
    options.payload = &payload;
    RegistryPtr registry = client(options);
    Buf descriptor;
    EXPECT_EQ(xarch_registry_resolve(&descriptor, registry.get(), busybox(env_.tls).get()),
              XARCH_EAUTH);
    EXPECT_THAT(last_message(), Not(HasSubstr(wrong)));
    EXPECT_THAT(last_message(), Not(HasSubstr(env_.password)));
    EXPECT_FALSE(last_message().empty());

    // A callback that refuses: XARCH_EAUTH naming the registry.
    options.credentials_cb = [](const char*, const char**, const char**, void*) { return 3; };
    RegistryPtr refusing = client(options);
    EXPECT_EQ(xarch_registry_resolve(&descriptor, refusing.get(), busybox(env_.tls).get()),
              XARCH_EAUTH);
    EXPECT_THAT(last_message(), HasSubstr(env_.tls));
}

TEST_F(CapiRegistry, ACorruptedBlobIsEdigestAndLeavesNothing) {
    RegistryPtr registry = client();
    const std::string name = repo_name("corrupt");
    ReferencePtr on_plain = make_reference(env_.plain + "/" + name + ":latest");
    ASSERT_EQ(xarch_registry_copy(nullptr, registry.get(), busybox(env_.plain).get(),
                                  on_plain.get(), nullptr, 0),
              XARCH_OK)
        << last_message();
    ScopedFault fault(env_,
                      R"({"kind":"corrupt-body","path":"^/v2/)" + name + R"(/blobs/","count":-1})");

    // The arm64 manifest's first blob (its config) through the proxy, which flips a byte.
    const std::string manifest = seeded_blob(env_.busybox_manifest("linux/arm64"));
    std::smatch match;
    ASSERT_TRUE(std::regex_search(
        manifest, match,
        std::regex(R"(\{"mediaType":"[^"]+","digest":"sha256:[0-9a-f]{64}","size":[0-9]+\})")));
    const std::string blob = match[0];
    ReferencePtr through_proxy = make_reference(env_.fault_proxy + "/" + name);
    TempDir dir;
    EXPECT_EQ(xarch_registry_fetch_blob_to_file(registry.get(), through_proxy.get(), blob.c_str(),
                                                (dir / "config").c_str()),
              XARCH_EDIGEST);
    EXPECT_TRUE(fs::is_empty(dir.path())) << "neither the file nor a temporary is left";

    const std::string layout = dir / "layout";
    ReferencePtr image = make_reference(env_.fault_proxy + "/" + name + ":latest");
    EXPECT_EQ(xarch_registry_pull(nullptr, registry.get(), image.get(), layout.c_str(), nullptr, 0),
              XARCH_EDIGEST);
    EXPECT_THAT(read_file(layout + "/index.json"), Not(HasSubstr(env_.busybox_index_digest)));
}

TEST_F(CapiRegistry, ProgressReportsAndItsNonzeroReturnCancels) {
    struct Seen {
        int events = 0;
        bool consistent = true;
        int answer = 0;
    } seen;
    auto progress = [](const xarch_transfer_progress* p, void* payload) {
        auto* s = static_cast<Seen*>(payload);
        ++s->events;
        s->consistent = s->consistent && p->version == XARCH_TRANSFER_PROGRESS_VERSION &&
                        std::string(p->digest).rfind("sha256:", 0) == 0 &&
                        (p->has_total == 0 || p->done <= p->total);
        return s->answer;
    };
    xarch_registry_options options = anonymous_options();
    options.progress_cb = progress;
    options.payload = &seen;
    RegistryPtr registry = client(options);
    TempDir dir;
    ASSERT_EQ(xarch_registry_pull(nullptr, registry.get(), busybox(env_.plain).get(),
                                  (dir / "ok").c_str(), nullptr, 0),
              XARCH_OK)
        << last_message();
    EXPECT_GT(seen.events, 0);
    EXPECT_TRUE(seen.consistent);

    seen.answer = 1;
    EXPECT_EQ(xarch_registry_pull(nullptr, registry.get(), busybox(env_.plain).get(),
                                  (dir / "cancelled").c_str(), nullptr, 0),
              XARCH_ECANCELLED);
    EXPECT_EQ(last_code(), XARCH_ECANCELLED);
}

TEST(CapiRegistryOffline, OptionsAndNullArguments) {
    xarch_registry_options options;
    EXPECT_EQ(xarch_registry_options_init(&options, XARCH_REGISTRY_OPTIONS_VERSION), XARCH_OK);
    EXPECT_EQ(options.version, static_cast<unsigned int>(XARCH_REGISTRY_OPTIONS_VERSION));
    EXPECT_EQ(options.credentials_cb, nullptr);
    EXPECT_EQ(xarch_registry_options_init(&options, 0), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_options_init(&options, XARCH_REGISTRY_OPTIONS_VERSION + 1),
              XARCH_EUNSUPPORTED);
    EXPECT_EQ(xarch_registry_options_init(nullptr, 1), XARCH_EINVAL);

    xarch_registry* registry = nullptr;
    xarch_registry_options bad = XARCH_REGISTRY_OPTIONS_INIT;
    bad.version = 0;
    EXPECT_EQ(xarch_registry_new(&registry, &bad), XARCH_EINVAL);
    bad = xarch_registry_options XARCH_REGISTRY_OPTIONS_INIT;
    bad.flags = 0x80;
    EXPECT_EQ(xarch_registry_new(&registry, &bad), XARCH_EINVAL);
    bad.flags = 0;
    bad.insecure_registries_count = 1;
    EXPECT_EQ(xarch_registry_new(&registry, &bad), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("insecure_registries"));
    EXPECT_EQ(registry, nullptr);
    EXPECT_EQ(xarch_registry_new(nullptr, nullptr), XARCH_EINVAL);

    ASSERT_EQ(xarch_registry_new(&registry, nullptr), XARCH_OK) << last_message();
    RegistryPtr owner(registry);
    xarch_reference* reference = nullptr;
    ASSERT_EQ(xarch_reference_parse(&reference, "127.0.0.1:1/capi/null"), XARCH_OK);
    ReferencePtr ref_owner(reference);
    xarch_buf buf = XARCH_BUF_INIT;
    xarch_strarray array = XARCH_STRARRAY_INIT;
    const std::string blob =
        R"({"mediaType":"a/b","digest":"sha256:)" + std::string(64, '0') + R"(","size":1})";
    auto sink = [](const void*, size_t, void*) { return 0; };

    EXPECT_EQ(xarch_registry_resolve(nullptr, registry, reference), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_resolve(&buf, nullptr, reference), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_resolve(&buf, registry, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_fetch_manifest(nullptr, nullptr, nullptr, registry, reference),
              XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_resolve_platform(&buf, registry, reference, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_push_manifest(&buf, registry, reference, nullptr, 3, "a/b"),
              XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_push_manifest(&buf, registry, reference, "{}", 2, nullptr),
              XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_delete_manifest(registry, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_fetch_blob(registry, reference, nullptr, sink, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_fetch_blob(registry, reference, blob.c_str(), nullptr, nullptr),
              XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_fetch_blob(registry, reference, "{not json", sink, nullptr),
              XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_fetch_blob_to_file(registry, reference, blob.c_str(), nullptr),
              XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_blob_exists(registry, reference, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_blob_exists(registry, reference, "sha256:nothex"), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("sha256:nothex"));
    EXPECT_EQ(xarch_registry_push_blob(registry, reference, blob.c_str(), nullptr, 1),
              XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_push_blob_from_file(registry, reference, blob.c_str(), nullptr),
              XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_mount_blob(registry, reference, blob.c_str(), nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_list_tags(nullptr, registry, reference, 0), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_list_tags(&array, registry, nullptr, 0), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_catalog(&array, registry, nullptr, 0), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_referrers(&buf, registry, reference, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_push(&buf, registry, nullptr, "latest", reference), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_push(&buf, registry, "/nonexistent", nullptr, reference),
              XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_pull(&buf, registry, reference, nullptr, nullptr, 0), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_pull(&buf, registry, reference, "/tmp/x", nullptr, 2), XARCH_EINVAL);
    EXPECT_EQ(xarch_registry_copy(&buf, registry, reference, nullptr, nullptr, 0), XARCH_EINVAL);
    EXPECT_EQ(
        xarch_registry_create_index(&buf, registry, reference, nullptr, 1, nullptr, nullptr, 0),
        XARCH_EINVAL);
    const xarch_reference* one_null[] = {nullptr};
    EXPECT_EQ(
        xarch_registry_create_index(&buf, registry, reference, one_null, 1, nullptr, nullptr, 0),
        XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("index 0"));
    EXPECT_EQ(xarch_registry_inspect(nullptr, nullptr, nullptr, registry, reference), XARCH_EINVAL);
    EXPECT_EQ(buf.ptr, nullptr);
    EXPECT_EQ(array.strings, nullptr);
    xarch_registry_free(nullptr);  // a no-op
}

}  // namespace
}  // namespace xarch_capi_test
