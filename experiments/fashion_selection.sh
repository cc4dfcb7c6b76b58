#!/bin/bash
# The selection of the Fashion-MNIST run (issue 30; ANALYSIS_PLAN_FASHION.md, section 3: its grids were written before
# these experiments ran), on the labelled set of the study's split seed, validation data only. Results go to
# experiments/results/fashion/. A part whose result exists is skipped; an interrupted part resumes from its
# experiments/results/fashion/.<out>.partial.jsonl.
#     FASHION_PNG=... SSL_JOBS=2 bash experiments/fashion_selection.sh
# Parts after the first are added as the plan's order reaches them (each depends on the choices before it).
set -e
cd "$(dirname "$0")/.."
export SSL_DATASET=fashion
S="experiments/selection.py"
PY=${PY:-.venv/bin/python}
part() {  # part <out> <arguments...>
    local out=$1; shift
    if [ -f "experiments/results/fashion/$out.json" ]; then echo "$out: done"; return; fi
    echo "$out: running"; $PY $S "$@" --split-seed 20261130 --out "$out"
}
# the Siamese pretext's learning rate at 32 epochs (MNIST's grid, centred on MNIST's choice)
part siamese_lr schedule --pretexts siamese --pretext-epochs 32 --learning-rates 0.001 0.003 0.01 --seeds 3
