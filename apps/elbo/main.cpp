// elbo: train, evaluate and sample variational autoencoders from the command line.
#include "commands.h"

#include <c10/util/Exception.h>
#include <climits>
#include <malloc.h>

#include <iostream>
#include <map>

int main(int argc, char** argv) {
  // Keep freed tensor memory in the heap for the next step: above glibc's default
  // thresholds every large tensor is a fresh mmap, page-faulted in again, and a heap
  // whose free top passes the trim threshold is given back and faulted in again at the
  // next batch (measured: the conv VAE's IWAE evaluation after 10 epochs, whose 4096
  // particle rows take ~550 MB, 30 s per 100 test images with a 512 MiB threshold and
  // 6 s with this one; the default model's IWAE evaluation 1.3x faster with both).
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  CLI::App app{"elbo: ELBO-based variational inference (VAEs) — train, evaluate, sample"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "elbo 0.1.0");
  app.set_help_all_flag("--help-all", "Print this help with every subcommand's options and exit (the man page's text)");
  std::map<CLI::App*, elbo::cli::Action> actions;
  auto add = [&](const char* name, const char* help, elbo::cli::Action (*make)(CLI::App&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    actions[sub] = make(*sub);
  };
  add("train", "train a model from a TOML config (default: MLP VAE on Fashion-MNIST)", elbo::cli::add_train);
  add("evaluate", "test ELBO, IWAE log p(x), ELBO gap, Pinsker bound, KL per dimension, active units",
      elbo::cli::add_evaluate);
  add("sample", "draw samples from the prior through the decoder", elbo::cli::add_sample);
  add("reconstruct", "reconstruct test examples (inputs above reconstructions)", elbo::cli::add_reconstruct);
  add("encode", "write posterior means and scales of test (or training) examples to CSV", elbo::cli::add_encode);
  add("refine", "optimize q(z|x) per test example (non-amortized inference) and write the refined latents",
      elbo::cli::add_refine);
  add("impute", "fill missing entries with draws from p(x_mis | x_obs) (importance resampling) or their quantiles",
      elbo::cli::add_impute);
  add("predict", "predictive distributions: a bnn's or classifier's p(y | x) per row (probabilities and entropy, or "
      "mean, sd and quantiles), or modalities of a multimodal run decoded from others", elbo::cli::add_predict);
  add("forecast", "continue a Bayesian GRU's series: sample paths, their quantiles per step, coverage and CRPS on the "
      "held-out tail, and a picture", elbo::cli::add_forecast);
  add("sequences", "a DNA run against Markov-chain baselines (test bits/base), and the k-mer spectra and GC content "
      "of its samples against held-out windows", elbo::cli::add_sequences);
  add("score", "per-sequence ELBO and IWAE log-likelihood of a FASTA file in bits per base, and with --mutations "
      "the ELBO change of every single-base substitution", elbo::cli::add_score);
  add("design", "inverse design: move latent codes toward a property predicted from them, decode and measure them", elbo::cli::add_design);
  add("lattice", "write the built-in lattice fields (data.lattice_*: Gaussian free field, Ising) as IDX and CSV files",
      elbo::cli::add_lattice);
  add("export", "write a run's weights as a PyTorch state dict (torch.load gives a dict of tensors) and its config "
      "as JSON beside it, or (--format cif) a crystal run's data split as CIF files", elbo::cli::add_export);
  add("report", "rebuild a run's report.html from metrics.jsonl and its checkpoint, also while it trains (it says "
      "which step it shows)", elbo::cli::add_report);
  add("sweep", "train one run per value of a config key (e.g. objective.beta) and draw the rate-distortion curve",
      elbo::cli::add_sweep);
  add("config", "print every config key with its default and meaning, a resolved config, or (--estimate) the memory "
      "its training needs", elbo::cli::add_config);
  add("completion", "print a bash completion script: subcommands, their options and config keys for --set",
      elbo::cli::add_completion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    for (auto& [sub, action] : actions)
      if (sub->parsed()) return action();
  } catch (const std::invalid_argument& e) {
    std::cerr << elbo::cli::error_prefix << ": error: " << e.what() << "\n";
    return 2;
  } catch (const std::domain_error& e) {
    std::cerr << elbo::cli::error_prefix << ": numerical failure: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << elbo::cli::error_prefix << ": internal error (LibTorch): " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << elbo::cli::error_prefix << ": error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
