"""Payments: Stripe Checkout Sessions and the Stripe webhook that tells the shop an order is paid."""
