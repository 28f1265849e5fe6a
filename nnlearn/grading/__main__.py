"""`python -m nnlearn.grading` works like `nnlearn-grade`."""
import sys

from .batch import main

sys.exit(main())
