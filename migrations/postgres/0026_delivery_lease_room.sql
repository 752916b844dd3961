-- Room on each page of deliveries for the lease to stay on it. A delivery is written when its
-- event is numbered and leased by the delivery worker a moment later, while its page is still
-- full of the deliveries written with it: at the fill factor of 80 (0023) most leases found no
-- room, and each wrote a new entry in every index of the table instead of none (a heap-only
-- tuple). Half of each page is kept for them; the try recorded after changes the status, and
-- its row version takes the room the lease's left when the page is pruned.
alter table delivery set (fillfactor = 50);
