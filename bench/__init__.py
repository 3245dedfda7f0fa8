"""Kindred's performance harness (`make bench`, `python -m bench [--quick|--smoke]`).

Every figure is measured against a baseline in the same run; see docs/performance.md.
"""
