"""The web pages people use: server-rendered by the gateway, no JavaScript needed."""
