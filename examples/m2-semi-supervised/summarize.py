"""Mean test error per model and label count over the seeds, from lines
"MODEL LABELS labels seed S test error % E" (run.sh, m1m2.sh)."""
import collections
import sys

errors = collections.defaultdict(list)
for line in open(sys.argv[1]):
    parts = line.split()
    errors[(parts[0], int(parts[1]))].append(float(parts[-1]))
for (kind, labels), e in sorted(errors.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"{kind:14s} {labels:5d} labels: mean test error {sum(e) / len(e):.2f}% over {len(e)} seeds "
          f"({', '.join(f'{v:.2f}' for v in e)})")
