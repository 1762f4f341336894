"""akshare (A-shares without a token): Eastmoney's public endpoints through the akshare library."""

import os

# akshare draws tqdm progress bars on stderr while paging, and stderr carries our JSON log lines.
# tqdm reads its TQDM_* defaults when it is imported, so this must come before akshare is.
os.environ.setdefault("TQDM_DISABLE", "1")

from providers.contract import dataset_modules

MODULES = dataset_modules(__name__, __path__)
