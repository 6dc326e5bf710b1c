"""Delivery: the PDF voucher, its email, the events outbox and signed webhooks to merchants' systems."""
