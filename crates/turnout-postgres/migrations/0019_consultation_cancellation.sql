-- A visitor may cancel the call they asked for (from their manage page):
-- the consultation keeps its status and history, is left out of the
-- advisors' queue, and its advisor's room in the window is given back.
-- Keep in step with SQLite's 0016.

ALTER TABLE consultations ADD COLUMN cancelled_at TIMESTAMPTZ;
