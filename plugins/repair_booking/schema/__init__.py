"""GraphQL of the repair-booking plugin: `types` (shared types and loaders), `member`
(slots, holds, booking, my bookings, cancel, reschedule, extra work decisions), `staff`
(shop set-up, calendar, life cycle), `towing`."""
