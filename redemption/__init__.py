"""Redemption at the counter: validate, hold, redeem and reverse, from the POS page and the API."""
