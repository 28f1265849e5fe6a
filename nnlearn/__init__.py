"""nnlearn: the reference code of the course "How Neural Networks Learn".

Importing the package has no side effects: no global seeding, no plotting style.
"""

__version__ = "0.1.0"
