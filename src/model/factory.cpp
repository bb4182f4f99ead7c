#include "elbo/model/factory.h"

#include "elbo/core/check.h"
#include "elbo/model/hierarchical_vae.h"
#include "elbo/model/vae.h"

namespace elbo::model {

std::shared_ptr<Model> make_model(const Config& config, int64_t features, const ImageShape& image) {
  const std::string& type = config.get_string("model.type");
  if (type == "hvae") return HierarchicalVae(HierarchicalVaeOptions::from_config(config, features)).ptr();
  ELBO_CHECK(type == "vae", "model.type '", type, "' is not one of: vae, hvae");
  return Vae(VaeOptions::from_config(config, features, image)).ptr();
}

}  // namespace elbo::model
