"""Instructor tooling: the exercise generator, the Colab header, and the grader (sandbox,
kernel, judge, batch, Gradescope). Learners never import this subpackage; it may import
the course library (`nnlearn.*`), never the reverse.

Imports run one way: batch -> grade -> (runner -> kernel -> sandbox, judge; forbidden -> dataflow),
exercises -> colab; files (what the grader reads from students), output (what it writes
for the instructor) and text (what it shows people) import nothing of the package.
"""
