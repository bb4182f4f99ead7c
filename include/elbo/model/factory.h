#pragma once
#include "elbo/core/config.h"
#include "elbo/core/image_shape.h"
#include "elbo/model/model.h"

#include <memory>

namespace elbo::model {

/// Builds the model a run config describes (model.type) for data with
/// `features` per example and, for images, `image`.
std::shared_ptr<Model> make_model(const Config& config, int64_t features, const ImageShape& image);

}  // namespace elbo::model
