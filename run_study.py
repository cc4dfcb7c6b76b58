"""Run the study's six notebooks in order and publish them when all succeed: see ``ssl_study/runner.py``.

    .venv/bin/python run_study.py [--profile full|quick] [--jobs N] [--only NOTEBOOK ...] [--fresh]
"""

import sys

from ssl_study.run.runner import main

if __name__ == "__main__":
    sys.exit(main())
