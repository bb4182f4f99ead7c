#include "elbo/objective/factory.h"

#include "elbo/objective/elbo.h"
#include "elbo/objective/geco.h"
#include "elbo/objective/iwae.h"
#include "elbo/objective/tcvae.h"

namespace elbo::objective {

std::shared_ptr<Objective> make_objective(const Config& c, int64_t train_size, int64_t labelled) {
  const std::string type = c.get_string("objective.type");
  const bool analytic_kl = c.get_string("objective.kl") == "analytic";
  // MIWAE is the IWAE bound of a trace whose observed sites carry the data's mask: one objective.
  if (type == "iwae" || type == "miwae") return std::make_shared<Iwae>(c.get_int("objective.particles"));
  if (type == "tcvae")
    return std::make_shared<TcVae>(c.get_int("objective.particles"), c.get_double("objective.beta"), train_size,
                                   analytic_kl);
  if (type == "geco")
    return std::make_shared<Geco>(GecoOptions()
                                      .particles(c.get_int("objective.particles"))
                                      .analytic_kl(analytic_kl)
                                      .target(c.get_double("objective.geco_target"))
                                      .alpha(c.get_double("objective.geco_alpha"))
                                      .rate(c.get_double("objective.geco_rate"))
                                      .initial(c.get_double("objective.geco_initial"))
                                      .min(c.get_double("objective.geco_min"))
                                      .max(c.get_double("objective.geco_max")));
  return std::make_shared<Elbo>(ElboOptions()
                                    .particles(c.get_int("objective.particles"))
                                    .analytic_kl(analytic_kl)
                                    .beta(c.get_double("objective.beta"))
                                    .warmup_steps(c.get_int("objective.warmup_steps"))
                                    .free_bits(c.get_double("objective.free_bits"))
                                    .classification_weight(
                                        labelled > 0 ? c.get_double("objective.alpha") * static_cast<double>(train_size) /
                                                           static_cast<double>(labelled)
                                                     : 0.0));
}

}  // namespace elbo::objective
