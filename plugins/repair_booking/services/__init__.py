"""Services of the repair-booking plugin, by concern: `setup` (shops, bays, hours,
services), `holds`, `bookings` (checkout claims and the life cycle), `refunds`,
`extra_work`, `towing`, `reminders`. Each owns its transaction; none calls a gateway
inside one."""
