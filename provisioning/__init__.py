"""Accounts, API tokens, (later) payments and the provisioner."""
