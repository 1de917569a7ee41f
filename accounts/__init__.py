"""Accounts: who may see and change what. Role grants per cluster and namespace, and API tokens."""
