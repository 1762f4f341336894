"""akshare (A-shares without a token): Eastmoney's public endpoints through the akshare library."""

from providers.contract import dataset_modules

MODULES = dataset_modules(__name__, __path__)
