"""``python -m eval run|calibrate|xquad|bench``."""
import sys

from eval.cli import main

sys.exit(main())
