#include "elbo/model/factory.h"

#include "elbo/core/check.h"
#include "elbo/model/vae.h"

namespace elbo::model {

std::shared_ptr<Model> make_model(const Config& config, int64_t features, const ImageShape& image) {
  const std::string& type = config.get_string("model.type");
  ELBO_CHECK(type == "vae", "model.type '", type, "' is not one of: vae");
  return Vae(VaeOptions::from_config(config, features, image)).ptr();
}

}  // namespace elbo::model
