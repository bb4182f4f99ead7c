#pragma once
// Inverse design in latent space: gradient ascent on codes z toward a property predicted by a
// PropertyHead, held near the prior so that the decoder still knows the region.
#include "elbo/diag/property_head.h"

#include <torch/types.h>

#include <cstdint>

namespace elbo::diag {

/// What to design for and how.
struct DesignOptions {
  bool maximize = false;  ///< "max": maximize f(z) / s, else reach `target`
  double target = 0;      ///< the property value wanted (in the head's units), unless maximize
  int64_t steps = 300;    ///< Adam steps
  double lr = 0.05;       ///< Adam's learning rate
  double prior_sd = 1;    ///< p(z) = N(0, prior_sd^2 I)
  Tensor free;            ///< [D]: 1 where z_i moves, 0 where it stays at its start (e.g. the inactive units,
                          ///< which the decoder ignores); undefined: every dimension moves
};

/// The designs and their way there.
struct Design {
  Tensor start;      ///< [n, D] the start codes
  Tensor codes;      ///< [n, D] the codes after `steps` steps
  Tensor objective;  ///< [steps + 1, n] J(z) before each step and at the end
  Tensor predicted;  ///< [steps + 1, n] f(z) at the same points
};

/// The design objective per code, [n] for z [n, D]:
///   target t:  J(z) = log N(t; f(z), s^2) + log N(z; 0, prior_sd^2 I)
///   maximize:  J(z) = f(z) / s + log N(z; 0, prior_sd^2 I)
/// The first is the log posterior of z given the property c = t, up to a constant; the second
/// rewards the predicted property in units of the head's noise sd, so that the prior's pull,
/// -|z|^2 / (2 prior_sd^2), weighs a gain that the head can tell apart from its noise.
/// With a linear head f(z) = w.z + b and prior_sd = 1 the maximizers are closed form:
/// z* = w (t - b) / (s^2 + |w|^2) (target; a ridge regression's solution) and z* = w / s (maximize).
Tensor design_objective(const PropertyHead& head, const Tensor& z, const DesignOptions& options);

/// Gradient ascent on J (design_objective) over the codes, one Adam on all n codes (J is a sum of
/// independent terms, so each design follows its own path), from `start` [n, D]; with options.free only
/// the dimensions it marks move (their gradient is kept, the others' zeroed, so Adam leaves them be). This is the
/// latent-space optimization of Gómez-Bombarelli et al. (2018), "Automatic chemical design using a
/// data-driven continuous representation of molecules", ACS Central Science 4(2): 268-276, with
/// the prior term keeping the codes where the decoder was trained.
Design design_codes(const PropertyHead& head, const Tensor& start, const DesignOptions& options);

}  // namespace elbo::diag
