"""Studies: measured comparisons run by `chainpay study ...` (see bridging.py)."""
