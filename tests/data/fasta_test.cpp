// FASTA input (data.format = "fasta"): records, plain and gzip, windows of base indices with
// ambiguous bases masked or dropped, reverse complements, the split by record, and every refusal.
#include "elbo/data/fasta.h"

#include "elbo/core/config.h"
#include "elbo/core/rng.h"
#include "elbo/data/load.h"

#include "support/throws.h"
#include "temp_files.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

namespace elbo::data {
namespace {

using test::expect_invalid_argument;
using test::read_raw;

std::vector<float> row(const torch::Tensor& t, int64_t i) {
  const torch::Tensor r = t[i].contiguous();
  return std::vector<float>(r.data_ptr<float>(), r.data_ptr<float>() + r.numel());
}

FastaRecord record(const std::string& name, const std::string& sequence) { return {name, sequence, 1}; }

const char* kMixed =
    "\n"
    ">chr1 first record, a description\r\n"
    "acgT\r\n"
    "  ac gu\n"
    "\n"
    ">chr2\tsecond\n"
    "NNRY-\n"
    "ACGT";  // no newline at the end

TEST(ReadFasta, ReadsNamesUpperCasedSequencesAndHeaderLines) {
  test::TempDir dir;
  for (const std::string& path : {dir.write("a.fa", kMixed), dir.write_gzip("a.fa.gz", kMixed)}) {
    SCOPED_TRACE(path);
    const std::vector<FastaRecord> r = read_fasta(path);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].name, "chr1");
    EXPECT_EQ(r[0].sequence, "ACGTACGT");  // whitespace and '\r' dropped, U read as T
    EXPECT_EQ(r[0].line, 2);
    EXPECT_EQ(r[1].name, "chr2");
    EXPECT_EQ(r[1].sequence, "NNRY-ACGT");
    EXPECT_EQ(r[1].line, 6);
  }
}

TEST(ReadFasta, ReadsLinesAcrossChunksAndGzipMembers) {
  // A 3 MB record in lines of 61 bases crosses the reader's 1 MB chunks inside lines; two gzip
  // members one after the other (`cat a.gz b.gz`) read as one file.
  std::string sequence;
  for (int64_t i = 0; i < 3'000'000; ++i) sequence.push_back("ACGT"[(i * 7 + i / 5) % 4]);
  std::string text = ">long\n";
  for (size_t i = 0; i < sequence.size(); i += 61) text += sequence.substr(i, 61) + "\n";
  test::TempDir dir;
  const std::string second = ">short\nGATTACA\n";
  const std::string both = read_raw(dir.write_gzip("a.gz", text)) + read_raw(dir.write_gzip("b.gz", second));
  for (const std::string& path : {dir.write("long.fa", text + second), dir.write("long.fa.gz", both)}) {
    SCOPED_TRACE(path);
    const std::vector<FastaRecord> r = read_fasta(path);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_TRUE(r[0].sequence == sequence);
    EXPECT_EQ(r[1].sequence, "GATTACA");
    EXPECT_EQ(r[1].line, 2 + static_cast<int64_t>((sequence.size() + 60) / 61));
  }
}

TEST(ReadFasta, RefusesMalformedFilesNamingFileLineAndRecord) {
  test::TempDir dir;
  std::string p = dir.write("no_header.fa", "\nACGT\n>a\nACGT\n");
  expect_invalid_argument([&] { read_fasta(p); }, {p + ":2: expected a '>' header line, got 'ACGT'"});
  p = dir.write("empty_record.fa", ">a\nACGT\n>b desc\n\n>c\nAC\n");
  expect_invalid_argument([&] { read_fasta(p); }, {p + ":3: record 'b' is empty (a header with no sequence)"});
  p = dir.write("empty_last.fa", ">a\nACGT\n>z\n");
  expect_invalid_argument([&] { read_fasta(p); }, {p + ":3: record 'z' is empty"});
  p = dir.write("bad_char.fa", ">a\nACGT\n>chr2\nACGTX\n");
  expect_invalid_argument([&] { read_fasta(p); },
                          {p + ":4: record 'chr2': character 'X' (column 5) is not an IUPAC nucleotide code"});
  p = dir.write("binary.fa", std::string(">a\nAC\0T\n", 8));
  expect_invalid_argument([&] { read_fasta(p); }, {p + ":2: record 'a': character '\\x00' (column 3)"});
  p = dir.write("empty.fa", "");
  expect_invalid_argument([&] { read_fasta(p); }, {p + ": no FASTA records (empty file)"});
  p = dir.write("blank.fa", "\n  \n\r\n");
  expect_invalid_argument([&] { read_fasta(p); }, {p + ": no FASTA records (only blank lines)"});
  p = dir.write("no_name.fa", ">a\nAC\n>  \nAC\n");
  expect_invalid_argument([&] { read_fasta(p); }, {p + ":3: header line with no name after '>'"});
  expect_invalid_argument([&] { read_fasta(dir.path("absent.fa")); }, {"absent.fa: cannot open FASTA file"});
}

TEST(ReadFasta, RefusesGzipThatEndsEarlyOrIsCorrupt) {
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 50; ++i) text += ">r" + std::to_string(i) + "\nACGTTGCAACGTAGCTAGCTAGGATCGATCGTAGCTAGCTAGCTGACTGA\n";
  const std::string gz = read_raw(dir.write_gzip("ok.fa.gz", text));
  ASSERT_GT(gz.size(), 40u);
  const std::string cut = dir.write("cut.fa.gz", gz.substr(0, gz.size() / 2));
  expect_invalid_argument([&] { read_fasta(cut); }, {cut + ": corrupt gzip stream", "ends early"});
  std::string garbled = gz;
  for (size_t i = 12; i < garbled.size() - 8; ++i) garbled[i] = static_cast<char>(0xFF);
  const std::string bad = dir.write("garbled.fa.gz", garbled);
  expect_invalid_argument([&] { read_fasta(bad); }, {bad + ": corrupt gzip stream"});
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 0x55;
  const std::string crc = dir.write("crc.fa.gz", bad_crc);
  expect_invalid_argument([&] { read_fasta(crc); }, {crc + ": corrupt gzip stream"});
}

TEST(Bases, IndicesAndComplements) {
  EXPECT_STREQ(kDnaAlphabet, "ACGT");
  for (int k = 0; k < 4; ++k) EXPECT_EQ(base_index(kDnaAlphabet[k]), k);
  EXPECT_EQ(base_index('u'), 3);
  for (char c : std::string("NRYKMSWBDHV-X")) EXPECT_EQ(base_index(c), -1) << c;
  const std::string from = "ACGTRYKMSWBDHVN-", to = "TGCAYRMKSWVHDBN-";
  for (size_t i = 0; i < from.size(); ++i) {
    EXPECT_EQ(complement(from[i]), to[i]) << from[i];
    EXPECT_EQ(complement(complement(from[i])), from[i]) << from[i];
    // A base's complement indexes 3 - its index (what reverse_complements computes).
    if (base_index(from[i]) >= 0) EXPECT_EQ(base_index(complement(from[i])), 3 - base_index(from[i]));
  }
  EXPECT_EQ(complement('a'), 'T');
}

TEST(SequenceWindows, CutsEveryFullWindowAtEachStride) {
  const std::vector<FastaRecord> records = {record("a", "ACGTACGTAC"), record("b", "TTGCAAG"), record("c", "GGG")};
  const Dataset d = sequence_windows(records, {4, 2, false}, "x.fa");
  // a (10 bases): starts 0, 2, 4, 6; b (7): 0, 2; c (3): none.
  ASSERT_EQ(d.size(), 6);
  EXPECT_EQ(d.features(), 4);
  EXPECT_EQ(d.x.scalar_type(), torch::kFloat32);
  EXPECT_FALSE(d.mask.defined());
  EXPECT_EQ(d.alphabet, "ACGT");
  EXPECT_EQ(d.name, "x.fa");
  EXPECT_EQ(row(d.x, 0), (std::vector<float>{0, 1, 2, 3}));
  EXPECT_EQ(row(d.x, 3), (std::vector<float>{2, 3, 0, 1}));  // a[6, 10) = GTAC
  EXPECT_EQ(row(d.x, 4), (std::vector<float>{3, 3, 2, 1}));  // b[0, 4) = TTGC
  EXPECT_EQ(row(d.x, 5), (std::vector<float>{2, 1, 0, 0}));  // b[2, 6) = GCAA
  EXPECT_EQ(sequence_windows(records, {3, 3, false}, "x.fa").size(), 3 + 2 + 1);
  EXPECT_EQ(sequence_windows(records, {10, 1, false}, "x.fa").size(), 1);
}

TEST(SequenceWindows, MasksOrDropsAmbiguousBases) {
  const std::vector<FastaRecord> records = {record("a", "ACGTNACGTA"), record("b", "ACRTG")};
  const Dataset masked = sequence_windows(records, {4, 2, false}, "x.fa");
  // a: ACGT, GTNA, NACG, CGTA; b: ACRT.
  ASSERT_EQ(masked.size(), 5);
  ASSERT_TRUE(masked.mask.defined());
  EXPECT_EQ(masked.mask.sizes(), masked.x.sizes());
  EXPECT_EQ(row(masked.x, 1), (std::vector<float>{2, 3, 0, 0}));
  EXPECT_EQ(row(masked.mask, 1), (std::vector<float>{1, 1, 0, 1}));
  EXPECT_EQ(row(masked.mask, 2), (std::vector<float>{0, 1, 1, 1}));
  EXPECT_EQ(row(masked.mask, 4), (std::vector<float>{1, 1, 0, 1}));
  EXPECT_EQ(row(masked.mask, 0), (std::vector<float>{1, 1, 1, 1}));
  EXPECT_EQ(masked.mask.sum().item<float>(), 5 * 4 - 3);
  const Dataset dropped = sequence_windows(records, {4, 2, true}, "x.fa");
  ASSERT_EQ(dropped.size(), 2);
  EXPECT_FALSE(dropped.mask.defined());
  EXPECT_EQ(row(dropped.x, 0), (std::vector<float>{0, 1, 2, 3}));
  EXPECT_EQ(row(dropped.x, 1), (std::vector<float>{1, 2, 3, 0}));  // CGTA
}

TEST(SequenceWindows, RefusesWhenNoWindowResults) {
  const std::vector<FastaRecord> records = {record("a", "ACGTACGT"), record("long_one", "ACGTACGTACGT")};
  expect_invalid_argument([&] { sequence_windows(records, {50, 50, false}, "dir/x.fa"); },
                          {"data.window = 50 is longer than every sequence of dir/x.fa (longest: 'long_one', 12 bases)"});
  const std::vector<FastaRecord> ns = {record("a", "ACNTACGNACGT")};
  expect_invalid_argument([&] { sequence_windows(ns, {6, 3, true}, "dir/n.fa"); },
                          {"dir/n.fa: every window of data.window = 6 bases holds an ambiguous base", "data.ambiguous"});
  expect_invalid_argument([&] { sequence_windows({}, {6, 3, false}, "dir/e.fa"); }, {"dir/e.fa: no sequences"});
}

TEST(ReverseComplements, AppendsEachWindowReadFromTheOtherStrand) {
  const Dataset windows = sequence_windows({record("a", "AACGN"), record("b", "GATTACA")}, {5, 5, false}, "x.fa");
  ASSERT_EQ(windows.size(), 2);
  const Dataset both = reverse_complements(windows);
  ASSERT_EQ(both.size(), 4);
  EXPECT_EQ(both.alphabet, "ACGT");
  EXPECT_TRUE(torch::equal(both.x.slice(0, 0, 2), windows.x));
  // AACGN read from the other strand: N C G T T, the N still masked and 0.
  EXPECT_EQ(row(both.x, 2), (std::vector<float>{0, 1, 2, 3, 3}));
  EXPECT_EQ(row(both.mask, 2), (std::vector<float>{0, 1, 1, 1, 1}));
  // GATTA's reverse complement is TAATC; each window's is that of complement() on the letters.
  std::string rc = "GATTA";
  std::reverse(rc.begin(), rc.end());
  for (char& c : rc) c = complement(c);
  EXPECT_EQ(rc, "TAATC");
  EXPECT_TRUE(torch::equal(both.x[3], sequence_windows({record("r", rc)}, {5, 5, false}, "r").x[0]));
  EXPECT_EQ(row(both.mask, 3), (std::vector<float>{1, 1, 1, 1, 1}));
  Dataset table;
  table.x = torch::zeros({2, 3});
  expect_invalid_argument([&] { reverse_complements(table); }, {"reverse_complements", "holds no DNA windows"});
}

TEST(SplitRecords, HoldsOutWholeRecordsSeeded) {
  std::vector<FastaRecord> records;
  for (int i = 0; i < 10; ++i) records.push_back(record("r" + std::to_string(i), "ACGT"));
  const SequenceSplit s = split_records(records, 0.3, 7);
  ASSERT_EQ(s.test.size(), 3u);
  ASSERT_EQ(s.train.size(), 7u);
  std::set<std::string> train, test;
  for (const auto& r : s.train) train.insert(r.name);
  for (const auto& r : s.test) test.insert(r.name);
  EXPECT_EQ(train.size(), 7u);
  for (const auto& name : test) EXPECT_EQ(train.count(name), 0u) << name << " is in both";
  EXPECT_EQ(train.size() + test.size(), 10u);
  EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end(), [](auto& a, auto& b) { return a.name < b.name; }));
  const SequenceSplit again = split_records(records, 0.3, 7);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(again.test[i].name, s.test[i].name);
  std::set<std::set<std::string>> draws;  // other seeds draw other records
  for (uint64_t seed = 0; seed < 10; ++seed) {
    std::set<std::string> names;
    for (const auto& r : split_records(records, 0.3, seed).test) names.insert(r.name);
    draws.insert(names);
  }
  EXPECT_GT(draws.size(), 3u);
  // At least one record on each side.
  EXPECT_EQ(split_records(records, 0.0, 1).test.size(), 1u);
  EXPECT_EQ(split_records({record("a", "A"), record("b", "C")}, 0.9, 1).train.size(), 1u);
  expect_invalid_argument([&] { split_records({record("only", "ACGT")}, 0.2, 1); },
                          {"1 record ('only')", "data.test"});
}

/// A fasta run's config with `sets` applied as --set would ("data.window=20").
Config fasta_config(const std::string& dir, std::initializer_list<std::string> sets = {}) {
  Config c = Config::from_toml("[data]\nformat = \"fasta\"\ndir = \"" + dir.substr(0, dir.find_last_not_of('/') + 1) +
                               "\"\ntrain = \"g.fa\"\ntest = \"\"\n"
                               "train_labels = \"\"\ntest_labels = \"\"\nvalidation = 2\ntest_fraction = 0.25\n"
                               "window = 4\nstride = 2\n");
  for (const std::string& assignment : sets) c.set(assignment);
  return c;
}

/// Eight records of 12 bases (5 windows of 4 at stride 2, 3 side by side), the fourth with an N.
std::string genome() {
  std::string text;
  const char* seqs[] = {"ACGTACGTACGT", "TTTTGGGGCCCC", "GATTACAGATTA", "ACGTNCGTACGT",
                        "CCCCAAAAGGGG", "TGCATGCATGCA", "AAAACCCCGGGG", "GGGGTTTTAAAA"};
  for (int i = 0; i < 8; ++i) text += ">s" + std::to_string(i) + "\n" + seqs[i] + "\n";
  return text;
}

TEST(LoadFasta, SplitsByRecordThenWindows) {
  test::TempDir dir;
  dir.write("g.fa", genome());
  const Config c = fasta_config(dir.path(""));
  const Splits s = load_data(c);
  // The test records are those split_records draws with the run's data seed: 2 of 8.
  const SequenceSplit split = split_records(read_fasta(dir.path("g.fa")), 0.25,
                                            mix_seed(static_cast<uint64_t>(c.get_int("train.seed")), RngStream::data, 1));
  ASSERT_EQ(split.test.size(), 2u);
  const Dataset test = sequence_windows(split.test, {4, 4, false}, "t");  // test windows do not overlap
  EXPECT_EQ(s.test.size(), 2 * 3);
  EXPECT_TRUE(torch::equal(s.test.x, test.x));
  EXPECT_EQ(s.train.size() + s.validation.size(), 6 * 5);
  EXPECT_EQ(s.validation.size(), 2);
  for (const Dataset* d : {&s.train, &s.validation, &s.test}) EXPECT_EQ(d->alphabet, "ACGT");
  EXPECT_NE(s.train.name.find("g.fa (training records)"), std::string::npos) << s.train.name;
  EXPECT_EQ(load_test_data(c).size(), s.test.size());

  // Reverse complements double the training windows only; dropping the N's window removes one.
  const Splits rc = load_data(fasta_config(dir.path(""), {"data.reverse_complement=true"}));
  EXPECT_EQ(rc.train.size(), 2 * s.train.size());
  EXPECT_EQ(rc.validation.size(), 2);
  EXPECT_TRUE(torch::equal(rc.train.x.slice(0, 0, s.train.size()), s.train.x));
  EXPECT_TRUE(torch::equal(rc.train.x[s.train.size()], 3 - s.train.x[0].flip({0})));
  const Splits max = load_data(fasta_config(dir.path(""), {"data.max_train=9", "data.max_test=4"}));
  EXPECT_EQ(max.train.size() + max.validation.size(), 9);
  EXPECT_EQ(max.test.size(), 4);
}

TEST(LoadFasta, ReadsATestFileAndExamplesAndDropsAmbiguousWindows) {
  test::TempDir dir;
  dir.write("g.fa", genome());
  dir.write_gzip("t.fa.gz", ">t1\nACGTACGTAC\n>t2\nNNNNACGT\n");
  const Config c = fasta_config(dir.path(""), {"data.test=t.fa.gz", "data.ambiguous=drop"});
  const Splits s = load_data(c);
  EXPECT_EQ(s.train.size() + s.validation.size(), 8 * 5 - 2);  // s3's windows at 2 and 4 hold its N
  EXPECT_FALSE(s.train.mask.defined());
  EXPECT_EQ(s.test.size(), 2 + 1);  // t1: 0, 4; t2: 4 (0 holds N)
  EXPECT_TRUE(torch::equal(load_test_data(c).x, s.test.x));
  const Dataset masked = load_test_data(fasta_config(dir.path(""), {"data.test=t.fa.gz"}));
  // t2's first window is all N: nothing observed, dropped as load_data drops such rows.
  EXPECT_EQ(masked.size(), 3);
  EXPECT_EQ(masked.rows_dropped, 1);
  const Dataset examples = read_examples(c, dir.path("g.fa"));
  EXPECT_EQ(examples.size(), 8 * 3 - 1);
  EXPECT_EQ(examples.alphabet, "ACGT");
}

TEST(LoadFasta, RefusesSettingsThatDoNotApply) {
  test::TempDir dir;
  dir.write("g.fa", genome());
  dir.write("one.fa", ">solo\nACGTACGT\n");
  for (const char* extra : {"data.standardize=true", "data.binarize=static", "data.missing=mcar"})
    expect_invalid_argument([&] { load_data(fasta_config(dir.path(""), {extra})); },
                            {"data.format = \"fasta\"", "data.standardize", "data.binarize"});
  const std::string one = dir.path("one.fa");
  expect_invalid_argument([&] { load_data(fasta_config(dir.path(""), {"data.train=one.fa"})); },
                          {one + ": one record ('solo')", "data.test"});
  expect_invalid_argument([&] { load_data(fasta_config(dir.path(""), {"data.window=20"})); },
                          {"data.window = 20 is longer than every sequence of " + dir.path("g.fa")});
  expect_invalid_argument([&] { Config::from_toml("[data]\nambiguous = \"skip\"\n"); }, {"data.ambiguous"});
}

}  // namespace
}  // namespace elbo::data
