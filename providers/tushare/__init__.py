"""tushare Pro (A-shares, needs TUSHARE_TOKEN): one module per dataset on the official SDK.

Beside them: the catalog of every tushare interface (`catalog`, built by `catalog_build`) and the
ad-hoc question asked through it (`adhoc`), which are no datasets.
"""

from providers.contract import dataset_modules

MODULES = dataset_modules(__name__, __path__, besides=("catalog", "catalog_build", "adhoc"))
