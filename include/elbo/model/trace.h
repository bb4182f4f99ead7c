#pragma once
#include "elbo/dist/distribution.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo::model {

using torch::Tensor;

/// What a site of a model's joint is (Pyro's poutine.trace sites, typed).
enum class SiteKind {
  latent,      ///< continuous, per example, reparameterized: z ~ q(z | x)
  enumerated,  ///< discrete, per example, summed out exactly under q's probabilities where unobserved (M2's label)
  observed,    ///< per example, scored under p, with a mask (missing entries drop out exactly)
  global,      ///< one per model (weights with a prior); its KL counts once per pass over the data
};

/// "latent", "enumerated", "observed" or "global".
const char* to_string(SiteKind kind);

/// One named random variable of a model's joint, scored for a batch of B examples and K particles.
///
/// Shapes: a per-example site's `log_p`, `log_q` are [K, B] (summed over its event dimensions),
/// its analytic `kl` [K or 1, B, D]. When the trace holds an enumerated site with C values, every
/// other per-example site carries a leading enumeration axis: [C, K, B] and [C, K or 1, B, D].
struct Site {
  std::string name;  ///< e.g. "x", "z", "z1", "y", "w"
  SiteKind kind = SiteKind::latent;
  /// latent: the particles z [K, B, D]; observed: the data [B, F]; enumerated: the labels [B]
  /// (any value where unobserved); global: the K draws of the weights this batch used [K, ...].
  Tensor value;
  /// latent, observed: log p(value | parents) [(C,) K, B]; enumerated: log p(c) [C, 1, B];
  /// global: log p(w) of each particle's draw [K, 1].
  Tensor log_p;
  /// latent: log q(value | ...) [(C,) K, B]; enumerated: log q(c | x) [C, 1, B] (every row);
  /// global: log q(w) of each draw [K, 1]; observed: undefined.
  Tensor log_q;
  /// latent: the closed-form KL(q || p) per dimension [(C,) K or 1, B, D] where one exists and is an
  /// unbiased estimate of E_q[log q - log p]; global: the closed-form KL of the whole site (scalar);
  /// undefined otherwise.
  Tensor kl;
  /// observed: [B, F] 1 = observed, 0 = missing; enumerated: [B] 1 = value observed; undefined = all observed.
  Tensor mask;
  /// enumerated: the weights [C, B] of the values under which the other sites are averaged:
  /// q(c | x) where unobserved, one-hot at the observed value where observed.
  Tensor weight;
  /// latent: q over [B, D] when its parameters do not depend on particles (the encoder's q), else null.
  dist::DistributionPtr q;
  /// latent: E_q[z] [B, D] (for active units and the aggregate posterior).
  Tensor q_mean;
  /// global: the share of the site's KL each example carries, 1 / N for N training examples.
  double share = 1.0;
  /// Event dimensions summed into log_p (1 for vectors, 0 for scalars).
  int64_t event_dims = 1;
};

/// An ordered set of named sites: what a model returns for a batch and K particles, never a loss.
/// Every objective and diagnostic is written against these reductions, so a new family gets all
/// of them unchanged.
struct Trace {
  std::vector<Site> sites;

  /// The site called `name`, or nullptr.
  const Site* find(const std::string& name) const;
  /// The sites of one kind, in order.
  std::vector<const Site*> of_kind(SiteKind kind) const;
  /// The latent sites (per-example continuous codes), in order.
  std::vector<const Site*> latents() const { return of_kind(SiteKind::latent); }
  /// The enumerated site, or nullptr (at most one per trace).
  const Site* enumerated() const;
  /// Examples B in the batch.
  int64_t batch_size() const;
  /// Particles K per example.
  int64_t particles() const;

  /// log p(x | latents) summed over observed sites, [K, B], averaged over enumerated values under their weights.
  Tensor log_likelihood() const;
  /// KL(q || p) per example, [K or 1, B]: per latent site the closed form where it has one and
  /// `analytic`, else log q - log p; the enumerated site's sum_c w_c (log q(c|x) - log p(c)) where
  /// unobserved and -log p(y) where observed; each global site's KL times its share. Averaged over
  /// enumerated values under their weights.
  Tensor kl(bool analytic = true) const;
  /// The terms of kl() site by site (latent, enumerated and global sites, in order), each [K or 1, B].
  std::vector<std::pair<std::string, Tensor>> kl_by_site(bool analytic = true) const;
  /// The analytic KL per dimension of every latent site, concatenated: [K or 1, B, D_total];
  /// undefined if a latent site has none.
  Tensor kl_per_dim() const;
  /// Importance log-weights log p(x, z) - log q(z | x), [K, B]: enumerated values summed out exactly
  /// (log sum_c p(c) p(x, z_c | c) / q(z_c | x, c)), labelled rows at their label; global sites
  /// add (log p(w) - log q(w)) times their share.
  Tensor log_weights() const;
  /// log q(y | x) of the enumerated site at its observed values [B] (0 where unobserved), and the
  /// observed mask [B]; both undefined without an enumerated site.
  Tensor observed_label_log_q() const;
};

}  // namespace elbo::model
