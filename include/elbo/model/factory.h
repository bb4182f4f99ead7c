#pragma once
#include "elbo/core/config.h"
#include "elbo/core/image_shape.h"
#include "elbo/data/schema.h"
#include "elbo/model/model.h"

#include <memory>

namespace elbo::model {

/// Builds the model a run config describes (model.type: vae, hvae, m2, classifier) for data
/// with the fields of `schema` (features, image shape, label classes).
std::shared_ptr<Model> make_model(const Config& config, const data::Schema& schema);

/// Whether the model `config` describes runs convolutions (a vae's conv or conv1d networks, a bnn's
/// Bayesian convolutions): what set_threads' automatic choice depends on.
bool uses_convolutions(const Config& config);

/// make_model for data with only the input "x": `features` per example and, for images, `image`
/// (label classes from model.classes).
std::shared_ptr<Model> make_model(const Config& config, int64_t features, const ImageShape& image);

}  // namespace elbo::model
