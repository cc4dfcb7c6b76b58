#!/bin/bash
# Every selection experiment of the confirmatory run (issue 19), on the labelled set of the split of seed 20261130,
# in the order they were run. A part whose result (experiments/results/<out>.json) exists is skipped; a part that was
# interrupted resumes from its experiments/results/.<out>.partial.jsonl (each run's rows are saved as it ends).
#     MNIST_PNG=... SSL_JOBS=2 bash experiments/confirmatory_selection.sh
set -e
cd "$(dirname "$0")/.."
S="experiments/selection.py"
PY=.venv/bin/python
part() {  # part <out> <arguments...>
    local out=$1; shift
    if [ -f "experiments/results/$out.json" ]; then echo "$out: done"; return; fi
    echo "$out: running"; $PY $S "$@" --split-seed 20261130 --out "$out"
}
part siamese_length schedule --pretexts siamese --pretext-epochs 8 32 100 --learning-rates 0.001 --seeds 3
part siamese_lr schedule --pretexts siamese --pretext-epochs 32 --learning-rates 0.0003 0.003 --seeds 3
part siamese_lr_edge schedule --pretexts siamese --pretext-epochs 32 --learning-rates 0.01 --seeds 3 --no-control
part pretexts_budget schedule --pretexts contrastive rotation autoencoder --encoder-passes 64 --lr-factors 0.333 1 3 \
    --seeds 3 --budget-passes 64
part pretexts_budget_edge schedule --pretexts rotation contrastive --encoder-passes 64 --lr-factors 9 --seeds 3 --no-control
part pretexts_budget_edge_ae schedule --pretexts autoencoder --encoder-passes 64 --lr-factors 0.111 --seeds 3 --no-control
# rotation at 9x its rate beat 3x on all three seeds: its edge moved, so one step further
part pretexts_budget_edge_rot schedule --pretexts rotation --encoder-passes 64 --lr-factors 27 --seeds 3 --no-control
part recipe_confirmatory recipe --learning-rates 0.01 --epochs 40 60 80 --seeds 3
part semi_fixmatch_long semi --methods fixmatch --thresholds 0.95 --learning-rates 0.003 --steps 6000 \
    --ema-decay 0.999,0.05 --seeds 3
part semi_fixmatch semi --methods fixmatch --thresholds 0.95 --learning-rates 0.003 --steps 3000 --ema-decay 0.999,0.05 \
    --seeds 3 --merge semi_fixmatch_long
part semi_pseudolabel semi --methods pseudolabel --thresholds 0.9 --rounds 8 --student-images 160000 --seeds 3
# the merged reports: every Siamese setting, and every other pretext's grid with its edges
$PY $S schedule --from-json --split-seed 20261130 --out siamese_lr --merge siamese_length siamese_lr_edge --budget-passes 64
$PY $S schedule --from-json --split-seed 20261130 --out pretexts_budget --merge pretexts_budget_edge pretexts_budget_edge_ae \
    pretexts_budget_edge_rot --budget-passes 64
# the semi-supervised method of the confirmatory test: each method at its chosen setting, by the same rule (no new
# runs: the report merges the two parts)
$PY $S semi --from-json --split-seed 20261130 --out semi_confirmatory --merge semi_fixmatch semi_pseudolabel
# after the confirmatory run (ANALYSIS_PLAN.md, section 3): FixMatch past its chosen 6,000 steps, the budget's limit --
# what a longer run would add, reported and not used
part semi_fixmatch_12000 semi --methods fixmatch --thresholds 0.95 --learning-rates 0.003 --steps 12000 \
    --ema-decay 0.999,0.05 --seeds 3 --merge semi_fixmatch
