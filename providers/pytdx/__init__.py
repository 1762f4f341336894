"""TDX (通达信) hq servers through pytdx (A-shares without a token): a fallback for daily bars."""

from providers.contract import dataset_modules

MODULES = dataset_modules(__name__, __path__)
