-- What a visitor submits belongs to the lead it makes: the name, address and
-- phone given in step 1 are kept on the lead, and everything sent or shown
-- for a registration or a callback reads them from there. A person's row
-- keeps the details first given for that email; an unauthenticated request
-- no longer changes it. Keep in step with PostgreSQL's 0011.

ALTER TABLE leads ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN country TEXT;

UPDATE leads SET
    name = (SELECT p.name FROM persons p WHERE p.id = leads.person_id),
    email = (SELECT p.email FROM persons p WHERE p.id = leads.person_id),
    phone = (SELECT p.phone FROM persons p WHERE p.id = leads.person_id),
    country = (SELECT p.country FROM persons p WHERE p.id = leads.person_id);
