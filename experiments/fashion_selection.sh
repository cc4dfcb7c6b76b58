#!/bin/bash
# The selection of the Fashion-MNIST run (issue 30; ANALYSIS_PLAN_FASHION.md, section 3: its grids were written before
# these experiments ran), on the labelled set of the study's split seed, validation data only. Results go to
# experiments/results/fashion/. A part whose result exists is skipped; an interrupted part resumes from its
# experiments/results/fashion/.<out>.partial.jsonl.
#     FASHION_PNG=... SSL_JOBS=2 bash experiments/fashion_selection.sh
# Parts that depend on an earlier choice (the scarce arms on the Siamese learning rate; a grid's edge on its winner)
# are added as the plan's order reaches them.
set -e
cd "$(dirname "$0")/.."
export SSL_DATASET=fashion
S="experiments/selection.py"
PY=${PY:-.venv/bin/python}
part() {  # part <out> <arguments...>
    local out=$1; shift
    if [ -f "experiments/results/fashion/$out.json" ]; then echo "$out: done"; return; fi
    echo "$out: running $(date +%H:%M)"; $PY $S "$@" --split-seed 20261130 --out "$out"
}
# the Siamese pretext's learning rate at 32 epochs (MNIST's grid, centred on MNIST's choice)
part siamese_lr schedule --pretexts siamese --pretext-epochs 32 --learning-rates 0.001 0.003 0.01 --seeds 3
# the supervised recipe at 100 % of the labels (MNIST's confirmatory grid)
part recipe recipe --learning-rates 0.01 --epochs 40 60 80 --seeds 3
# the recipe's winner (80 passes) was on its grid's upper edge: one step past it
part recipe_edge recipe --learning-rates 0.01 --epochs 120 --seeds 3
# each start where labels are scarce (the addendum's protocol): the grid centred on MNIST's choices (scratch 4x, the
# Siamese start 8x); the Siamese encoders at its chosen setting (siamese_lr: 32 epochs at 3e-3, the unit's default)
part scarce_scratch scarce --arms scratch --budgets 2 4 8 --seeds 3
part scarce_siamese scarce --arms siamese --budgets 2 4 8 --seeds 3
# every other pretext at MNIST's rate x {1/3, 1, 3}, the same budget of 64 encoder passes per unlabelled image
part pretexts_budget schedule --pretexts contrastive rotation autoencoder --encoder-passes 64 --lr-factors 0.333 1 3 \
    --seeds 3 --budget-passes 64
# the semi-supervised methods (MNIST's grids)
part semi_fixmatch_long semi --methods fixmatch --thresholds 0.95 --learning-rates 0.003 --steps 6000 \
    --ema-decay 0.999,0.05 --seeds 3
part semi_fixmatch semi --methods fixmatch --thresholds 0.95 --learning-rates 0.003 --steps 3000 --ema-decay 0.999,0.05 \
    --seeds 3 --merge semi_fixmatch_long
part semi_pseudolabel semi --methods pseudolabel --thresholds 0.9 --rounds 8 --student-images 160000 --seeds 3
