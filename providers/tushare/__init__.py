"""tushare Pro (A-shares, needs TUSHARE_TOKEN): one module per dataset on the official SDK.

Every module here but the client is a dataset module (`providers.contract`) and is registered by
being here, so that a new dataset is its module and its declaration, with no list to keep in step.
"""

import importlib
import pkgutil
from types import ModuleType

MODULES: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"{__name__}.{found.name}")
    for found in pkgutil.iter_modules(__path__)
    if found.name != "client"
)
