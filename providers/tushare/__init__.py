"""tushare pro, through the official `tushare` SDK: one module per dataset, one client."""
