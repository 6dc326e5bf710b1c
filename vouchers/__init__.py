"""Vouchers and their ledger: codes, value, and every change of value as an insert-only row."""
