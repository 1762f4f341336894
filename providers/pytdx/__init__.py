"""TDX (通达信) hq servers through pytdx (A-shares without a token): a fallback for daily bars."""

from providers.pytdx import daily

MODULES = (daily,)
