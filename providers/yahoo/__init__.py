"""Yahoo Finance (global tickers, and A-shares for cross-checks) through the yfinance library."""

from providers.contract import dataset_modules

MODULES = dataset_modules(__name__, __path__)
