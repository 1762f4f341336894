"""The MCP server: tools, their error envelope, bearer auth, and the transports."""
