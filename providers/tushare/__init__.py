"""tushare Pro (A-shares, needs TUSHARE_TOKEN): one module per dataset on the official SDK."""

from providers.contract import dataset_modules

MODULES = dataset_modules(__name__, __path__)
