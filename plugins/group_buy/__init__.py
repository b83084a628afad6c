"""Group-buy deals (拼团) and service vouchers (团购券): a first-party plugin. See README.md."""
