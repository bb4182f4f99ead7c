#include "elbo/objective/factory.h"

#include "elbo/objective/elbo.h"
#include "elbo/objective/iwae.h"

namespace elbo::objective {

std::shared_ptr<Objective> make_objective(const Config& c) {
  if (c.get_string("objective.type") == "iwae") return std::make_shared<Iwae>(c.get_int("objective.particles"));
  return std::make_shared<Elbo>(ElboOptions()
                                    .particles(c.get_int("objective.particles"))
                                    .analytic_kl(c.get_string("objective.kl") == "analytic")
                                    .beta(c.get_double("objective.beta"))
                                    .warmup_steps(c.get_int("objective.warmup_steps"))
                                    .free_bits(c.get_double("objective.free_bits")));
}

}  // namespace elbo::objective
