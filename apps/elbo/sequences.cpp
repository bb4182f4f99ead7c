// elbo sequences RUN: a DNA run against Markov-chain baselines, k-mer spectra and GC content.
#include "commands.h"
#include "elbo/run/sequences.h"

#include <iostream>

namespace elbo::cli {

Action add_sequences(CLI::App& app) {
  struct Args {
    std::string run;
    SequenceOptions options;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory of a model trained on sequences (data.format = \"fasta\")")
      ->required();
  app.add_option("--orders", args->options.max_order, "Markov chains of orders 0..K fitted on the training windows")
      ->capture_default_str()
      ->check(CLI::Range(0, 10));
  app.add_option("--n", args->options.n, "windows drawn from the model and from the best chain, and shuffled held-out "
                 "windows")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", args->options.seed, "seed of the draws and the shuffle")->capture_default_str();
  app.add_option("--out", args->options.out, "directory of sequences.json, kmer_jsd.svg and gc.svg (default: RUN)");
  return [args]() -> int {
    const SequenceChecks c = check_sequences(load_run(args->run), args->options);
    const std::string out = args->options.out.empty() ? args->run : args->options.out;
    std::cout << c.table << "wrote " << out << "/sequences.json, kmer_jsd.svg and gc.svg\n";
    return 0;
  };
}

}  // namespace elbo::cli
