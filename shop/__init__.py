"""The shop: merchants and their staff, voucher products, and the sale of vouchers (orders)."""
