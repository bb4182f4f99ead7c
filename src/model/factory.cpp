#include "elbo/model/factory.h"

#include "elbo/core/check.h"
#include "elbo/model/bnn.h"
#include "elbo/model/brnn.h"
#include "elbo/model/classifier.h"
#include "elbo/model/crystal_vae.h"
#include "elbo/model/hierarchical_vae.h"
#include "elbo/model/m2.h"
#include "elbo/model/multimodal_vae.h"
#include "elbo/model/vae.h"

namespace elbo::model {

std::shared_ptr<Model> make_model(const Config& config, const data::Schema& schema) {
  const std::string& type = config.get_string("model.type");
  const int64_t features = schema.features();
  const int64_t classes = config.get_int("model.classes");
  if (config.get_string("data.format") == "fasta")
    ELBO_CHECK(type == "vae" && config.get_string("model.likelihood") == "categorical" &&
                   config.get_int("model.categories") == 4,
               "data.format = \"fasta\" gives each base as its index 0..3: it needs model.type = \"vae\" "
               "with model.likelihood = \"categorical\" and model.categories = 4 (got model.type = \"", type,
               "\", model.likelihood = \"", config.get_string("model.likelihood"), "\", model.categories = ",
               config.get_int("model.categories"), ")");
  ELBO_CHECK((config.get_string("data.format") == "crystals") == (type == "crystal"),
             type == "crystal" ? "model.type = \"crystal\" reads crystal structures: set data.format = \"crystals\""
                               : "data.format = \"crystals\" gives each crystal as lattice, count, species and "
                                 "coordinates: it needs model.type = \"crystal\"",
             " (got model.type = \"", type, "\", data.format = \"", config.get_string("data.format"), "\")");
  if (type == "crystal") return CrystalVae(CrystalVaeOptions::from_config(config, schema)).ptr();
  if (type == "hvae") return HierarchicalVae(HierarchicalVaeOptions::from_config(config, features)).ptr();
  if (type == "multimodal") return MultimodalVae(MultimodalVaeOptions::from_config(config, schema)).ptr();
  if (type == "bnn") return Bnn(BnnOptions::from_config(config, schema)).ptr();
  if (type == "brnn") {
    ELBO_CHECK(config.get_string("data.format") == "series", "model.type = \"brnn\" reads windows of a time series: "
               "set data.format = \"series\"");
    return Brnn(BrnnOptions::from_config(config, schema)).ptr();
  }
  if (type == "m2") return M2(M2Options::from_config(config, features, classes)).ptr();
  if (type == "classifier")
    return Classifier(features, classes, config.get_ints("model.hidden"),
                      nn::parse_activation(config.get_string("model.activation")))
        .ptr();
  ELBO_CHECK(type == "vae", "model.type '", type, "' is not one of: vae, hvae, m2, classifier, multimodal, bnn, brnn, crystal");
  return Vae(VaeOptions::from_config(config, features, schema.image)).ptr();
}

bool uses_convolutions(const Config& config) {
  const std::string type = config.get_string("model.type");
  const auto conv = [&](const std::string& key) {
    const std::string network = config.get_string(key);
    return network == "conv" || network == "conv1d";
  };
  return (type == "vae" && (conv("model.encoder") || conv("model.decoder"))) || (type == "bnn" && conv("model.encoder"));
}

std::shared_ptr<Model> make_model(const Config& config, int64_t features, const ImageShape& image) {
  return make_model(config, data::Schema::of_features(features, image));
}

}  // namespace elbo::model
