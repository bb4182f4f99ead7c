// Builds a VAE through the installed library and checks one ELBO evaluation.
#include <elbo/model/vae.h>
#include <elbo/objective/elbo.h>

#include <cmath>
#include <iostream>

int main() {
  elbo::model::VaeOptions options;
  options.features = 16;
  options.latent_dim = 2;
  options.hidden = {8};
  elbo::model::Vae vae(options);
  elbo::data::Batch batch{torch::rand({4, 16})};
  elbo::objective::Value v = elbo::objective::Elbo()(vae->forward(batch, 1), 0);
  const double loss = v.loss.item<double>();
  std::cout << "consumer: loss " << loss << "\n";
  return std::isfinite(loss) && loss > 0 ? 0 : 1;
}
