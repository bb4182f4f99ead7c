# Export Bioconductor's miniACC (TCGA adrenocortical carcinoma, 92 patients, 5 assays) as
# patient-aligned CSV tables for elbo's multimodal example:
#
#     Rscript scripts/data/miniacc.R OUTDIR
#
# Needs: apt-get install r-base-core r-bioc-multiassayexperiment
#
# Writes OUTDIR/{rnaseq,cnv,rppa,mutations,mirna}.csv: a header of feature names (commas and
# quotes replaced by "_"), then one line per patient in the order of rownames(colData(miniACC)),
# which is also the row order of OUTDIR/clinical.csv. A patient without the assay gets a line of
# empty cells (",,,"); NA cells are written empty. Assay samples map to patients through
# sampleMap; a patient with several samples keeps the first (miniACC has none).
#   rnaseq    RNASeq2GeneNorm, log2(x + 1) of the normalized RSEM values
#   cnv       gistict, GISTIC thresholded copy number -2..2 as is
#   rppa      RPPAArray, as is (already log-scale, median-centred)
#   mutations Mutations, 0/1
#   mirna     miRNASeqGene, log2(CPM + 1): counts per million of the sample's miRNA reads (library sizes differ 9x)
# Features constant or entirely NA over the patients having the assay are dropped (they carry
# nothing; in miniACC: 24 mutation genes that no patient has mutated; each of the other 73 is
# mutated in exactly one patient).
#
# clinical.csv: patient plus columns for association with latents: age (years_to_birth),
# vital_status (0/1), days_to_death, days_to_last_followup, pathologic_stage, gender, purity,
# ploidy, genome_doublings, ADS, and the TCGA ACC subtype calls (C1A.C1B, mRNA_K4, MethyLevel,
# miRNA.cluster, SCNA.cluster, protein.cluster, COC, OncoSign). Left out: constant or near-constant
# columns (tumor_tissue_site, histological_type, Histology), mostly-missing ones (ethnicity,
# number_of_lymph_nodes), pathology T/N stage (redundant with pathologic_stage), dates, race.
# Note: several subtype calls were derived from these same assays (mRNA_K4 from mRNA, miRNA.cluster
# from miRNA, SCNA.cluster from copy number, protein.cluster from RPPA).
suppressPackageStartupMessages(library(MultiAssayExperiment))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript scripts/data/miniacc.R OUTDIR")
out <- args[1]
dir.create(out, recursive = TRUE, showWarnings = FALSE)

data(miniACC, package = "MultiAssayExperiment")
patients <- rownames(colData(miniACC))
sm <- as.data.frame(sampleMap(miniACC))

safe <- function(x) gsub("[,\"']", "_", x)
cell <- function(x) ifelse(is.na(x), "", format(signif(x, 7), digits = 7, trim = TRUE, scientific = FALSE, drop0trailing = TRUE))

assays <- list(rnaseq = c("RNASeq2GeneNorm", "log2"), cnv = c("gistict", "none"), rppa = c("RPPAArray", "none"),
               mutations = c("Mutations", "none"), mirna = c("miRNASeqGene", "log2cpm"))
cat(sprintf("%-10s %-16s %8s %8s %8s\n", "file", "assay", "features", "dropped", "patients"))
for (name in names(assays)) {
  a <- assays[[name]][1]
  e <- experiments(miniACC)[[a]]
  m <- if (is.matrix(e)) e else assay(e)
  m <- as.matrix(m)
  storage.mode(m) <- "double"
  if (assays[[name]][2] == "log2") m <- log2(m + 1)
  if (assays[[name]][2] == "log2cpm") m <- log2(t(t(m) / colSums(m, na.rm = TRUE)) * 1e6 + 1)  # library sizes differ 9x
  s <- sm[sm$assay == a, ]
  s <- s[!duplicated(s$primary), ]
  col <- s$colname[match(patients, s$primary)]  # NA: patient lacks the assay
  has <- !is.na(col)
  x <- matrix(NA_real_, nrow(m), length(patients), dimnames = list(rownames(m), patients))
  x[, has] <- m[, col[has], drop = FALSE]
  keep <- apply(x[, has, drop = FALSE], 1, function(v) length(unique(v[!is.na(v)])) > 1)
  x <- x[keep, , drop = FALSE]
  lines <- c(paste(safe(rownames(x)), collapse = ","),
             vapply(seq_along(patients), function(j)
               if (has[j]) paste(cell(x[, j]), collapse = ",") else strrep(",", nrow(x) - 1), ""))
  writeLines(lines, file.path(out, paste0(name, ".csv")))
  cat(sprintf("%-10s %-16s %8d %8d %8d\n", name, a, nrow(x), sum(!keep), sum(has)))
}

cd <- as.data.frame(colData(miniACC))
clin <- c("years_to_birth", "vital_status", "days_to_death", "days_to_last_followup", "pathologic_stage", "gender",
          "purity", "ploidy", "genome_doublings", "ADS", "C1A.C1B", "mRNA_K4", "MethyLevel", "miRNA.cluster",
          "SCNA.cluster", "protein.cluster", "COC", "OncoSign")
clin <- intersect(clin, names(cd))
tab <- data.frame(patient = patients, cd[patients, clin], check.names = FALSE)
tab[] <- lapply(tab, function(v) if (is.numeric(v)) cell(v) else ifelse(is.na(v), "", safe(as.character(v))))
writeLines(c(paste(safe(names(tab)), collapse = ","), do.call(paste, c(tab, sep = ","))), file.path(out, "clinical.csv"))
cat(sprintf("clinical.csv: %d patients, %d columns: %s\n", nrow(tab), length(clin), paste(clin, collapse = " ")))
