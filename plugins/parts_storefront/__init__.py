"""Parts storefront: vehicle registry and fitment, OE and part numbers, members' "my
garage" vehicles, and vendors' storefront pages. Built only on the public plugin API."""
