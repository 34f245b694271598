// SPDX-License-Identifier: Apache-2.0
// ImageState: history bookkeeping and the JSON form stored in the cache.
#include "image_state.hpp"

#include <xarch/error.hpp>

#include <boost/json.hpp>

namespace xarch::solver {

namespace bj = boost::json;

void ImageState::add_layer(LayerInfo layer, std::string created_by) {
    config.rootfs.diff_ids.push_back(layer.diff_id);
    History h;
    h.created = layer.created;
    h.created_by = std::move(created_by);
    h.comment = std::string(kHistoryComment);
    config.history.push_back(std::move(h));
    layers.push_back(std::move(layer));
}

void ImageState::add_history(std::string created_by) {
    History h;
    h.created_by = std::move(created_by);
    h.comment = std::string(kHistoryComment);
    h.empty_layer = true;
    config.history.push_back(std::move(h));
}

std::string to_record(const ImageState& state) {
    bj::object out;
    out["version"] = 1;
    out["config"] = state.config.serialize();
    bj::array layers;
    bj::array blobs;
    for (const LayerInfo& l : state.layers) {
        bj::object o;
        o["blob"] = bj::parse(l.blob.serialize());
        o["diff_id"] = l.diff_id.to_string();
        if (!l.source_repository.empty()) {
            o["source"] = l.source_repository;
        }
        if (!l.created.empty()) {
            o["created"] = l.created;
        }
        layers.push_back(std::move(o));
        if (l.source_repository.empty()) {
            blobs.push_back(bj::parse(l.blob.serialize()));
        }
    }
    out["layers"] = std::move(layers);
    out["blobs"] = std::move(blobs);
    out["key"] = state.key.to_string();
    out["base_history"] = state.base_history;
    if (!state.base_name.empty()) {
        out["base_name"] = state.base_name;
        out["base_digest"] = state.base_digest.to_string();
    }
    return bj::serialize(out);
}

ImageState from_record(std::string_view json) {
    try {
        const bj::object o = bj::parse(json).as_object();
        if (o.at("version").to_number<int>() != 1) {
            throw Error(ErrorCode::kInvalidArgument, "unknown cache record version");
        }
        ImageState state;
        state.config = parse_config(o.at("config").as_string());
        for (const bj::value& v : o.at("layers").as_array()) {
            const bj::object& l = v.as_object();
            LayerInfo layer;
            layer.blob = parse_descriptor(bj::serialize(l.at("blob")));
            layer.diff_id = Digest::parse(l.at("diff_id").as_string());
            if (const bj::value* s = l.if_contains("source")) {
                layer.source_repository = std::string(s->as_string());
            }
            if (const bj::value* c = l.if_contains("created")) {
                layer.created = std::string(c->as_string());
            }
            state.layers.push_back(std::move(layer));
        }
        state.key = Digest::parse(o.at("key").as_string());
        state.base_history = o.at("base_history").to_number<std::size_t>();
        std::string shared_source;
        if (const bj::value* s = o.if_contains("source_repository")) {
            // A record imported from a registry cache: its blobs are in that repository.
            shared_source = std::string(s->as_string());
        }
        for (LayerInfo& layer : state.layers) {
            if (layer.source_repository.empty()) {
                layer.source_repository = shared_source;
            }
        }
        if (const bj::value* b = o.if_contains("base_name")) {
            state.base_name = std::string(b->as_string());
            state.base_digest = Digest::parse(o.at("base_digest").as_string());
        }
        return state;
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorCode::kInvalidArgument, std::string("corrupt build cache record: ") +
                                                     e.what() +
                                                     "; run `xarch prune` to clear the cache");
    }
}

}  // namespace xarch::solver
