#pragma once
#include "elbo/data/dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace elbo::data {

/// One record of a FASTA file.
struct FastaRecord {
  std::string name;      ///< the header's text after '>' up to the first whitespace
  std::string sequence;  ///< upper case, whitespace removed, U read as T
  int64_t line = 0;      ///< 1-based line of the header
};

/// Reads a FASTA file, plain or gzip (detected by the magic bytes). Sequence lines may wrap at any
/// width and hold whitespace (ignored) and '\r'; letters are upper-cased. Throws
/// std::invalid_argument naming the file, line and record: no '>' header before the first sequence
/// line, a header without a name, a record with no sequence, a character outside the IUPAC
/// nucleotide codes ACGTUNRYKMSWBDHV and '-', no record at all, a gzip stream that is corrupt or
/// ends early.
std::vector<FastaRecord> read_fasta(const std::string& path);

/// The bases a sequence window's x indexes: x = k stands for kDnaAlphabet[k].
constexpr const char* kDnaAlphabet = "ACGT";

/// A0 C1 G2 T3 (U as T; either case), -1 for ambiguous codes (N, the other IUPAC codes, '-').
int base_index(char base);

/// The Watson-Crick complement: A<->T, C<->G, and of the IUPAC codes the set of complements
/// (R = AG <-> Y = CT, K <-> M, B <-> V, D <-> H; S, W, N, '-' are their own). Upper case out.
char complement(char base);

/// How sequences are cut into windows (data.window, data.stride, data.ambiguous).
struct WindowOptions {
  int64_t window = 200;         ///< bases per window
  int64_t stride = 200;         ///< bases between window starts
  bool drop_ambiguous = false;  ///< drop windows with an ambiguous base, else mask those bases
};

/// Windows of every record: starts 0, stride, 2 stride, ... with start + window <= length, in file
/// order. x [N, window] float32 holds the base indices 0..3 (kDnaAlphabet); an ambiguous base
/// either drops its window (drop_ambiguous) or is masked: x = 0 and mask = 0 there (mask [N, window]
/// float32, undefined when no base is masked). alphabet = kDnaAlphabet. Refuses, naming `name` (the
/// file), a window longer than every sequence and a set with no window left.
Dataset sequence_windows(const std::vector<FastaRecord>& records, const WindowOptions& options,
                         const std::string& name);

/// The windows followed by their reverse complements: window i + N is window i read backwards with
/// each base index k -> 3 - k (A <-> T, C <-> G); the mask is reversed, masked bases stay x = 0.
/// Labels and targets, if any, are repeated.
Dataset reverse_complements(const Dataset& windows);

/// Whole records split into training and test sequences, so that no test window shares a base
/// with a training window.
struct SequenceSplit {
  std::vector<FastaRecord> train, test;
};

/// Holds out floor(test_fraction * n) records (at least one, at most n - 1) drawn by a seeded
/// shuffle; both parts keep the file order. Refuses a single record (give the test sequences
/// their own file: data.test).
SequenceSplit split_records(std::vector<FastaRecord> records, double test_fraction, uint64_t seed);

/// The bases of one window x [L] (indices 0..3) as text over kDnaAlphabet, e.g. "ACGT".
std::string bases(const torch::Tensor& window);

/// Windows [N, L] of base indices as FASTA records named prefix1 .. prefixN.
std::vector<FastaRecord> fasta_records(const torch::Tensor& windows, const std::string& prefix);

/// Records as FASTA text: ">name" lines, then the sequence wrapped at `width` bases per line.
std::string format_fasta(const std::vector<FastaRecord>& records, int64_t width = 60);

}  // namespace elbo::data
